"""The scenarios of examples/, replayed with `sereno replay --json` through the real stages.

Each scenario's expected.json holds its meaningful outcome (counts, statuses, roles, flags,
times on the virtual clock), written by hand from what the scenario is meant to prove; the
tests below also check each scenario's promise directly, so that a wrong expected.json
cannot hide a broken promise.

Compression is alerts received (every alert of every request, as `replay` counts them:
repeats, recoveries and signs of life included) per incident people handle (incidents
merged into their root cause do not count).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import re
import sys
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.rules import load_rules
from sereno.cli import main
from tests.conftest import EXAMPLE_RULES, REPO

EXAMPLES = REPO / "examples"
SCENARIOS = sorted(p.parent.name for p in EXAMPLES.glob("*/alerts.jsonl"))
SHIPPED_SETTINGS = REPO / "sereno.yaml"

Json = dict[str, Any]


def settings_of(scenario: str) -> Path:
    """A scenario with rules of its own (hold-down) carries its settings file."""
    own = EXAMPLES / scenario / "sereno.yaml"
    return own if own.exists() else SHIPPED_SETTINGS


@functools.cache
def replayed(scenario: str, settings: Path | None = None) -> Json:
    """`sereno replay examples/<scenario>/alerts.jsonl --json`, once per test session."""
    printed = io.StringIO()
    command = ["replay", str(EXAMPLES / scenario / "alerts.jsonl"), "--json",
               "--config", str(settings or settings_of(scenario))]  # fmt: skip
    with contextlib.redirect_stdout(printed):
        assert main(command) == 0
    result: Json = json.loads(printed.getvalue())
    return result


def expected(scenario: str) -> Json:
    result: Json = json.loads((EXAMPLES / scenario / "expected.json").read_text())
    return result


def live(out: Json) -> list[Json]:
    """The incidents people handle: every incident not merged into its root cause's."""
    return [i for i in out["incidents"] if i["merged_into"] is None]


def crisis_declarations(out: Json) -> list[Json]:
    return [
        e
        for i in out["incidents"]
        for e in i["timeline"]
        if e["kind"] == "crisis" and e["text"].startswith("crisis declared by rule")
    ]


def outcome(out: Json) -> Json:
    """What a replay did, in the terms of expected.json."""
    handled = live(out)
    merged = [i for i in out["incidents"] if i["merged_into"] is not None]
    names = {i["id"]: f"incident {n}" for n, i in enumerate(handled, start=1)}
    names |= {i["id"]: f"merged {n}" for n, i in enumerate(merged, start=1)}
    received = out["stats"]["alerts"]
    fingerprints = {a["fingerprint"] for i in out["incidents"] for a in i["alerts"]}
    fingerprints |= {s["fingerprint"] for s in out["suppressed"]}
    return {
        "compression": {
            "alerts_received": received,
            "incidents": len(handled),
            "ratio": round(received / len(handled), 2) if handled else None,
        },
        "distinct_alerts": len(fingerprints),
        "rejected": out["stats"]["rejected_requests"],
        "crises_declared": len(crisis_declarations(out)),
        "incidents": [
            {
                **{
                    k: i[k]
                    for k in (
                        "status",
                        "opened_at",
                        "resolved_at",
                        "priority",
                        "severity",
                        "service",
                        "rule",
                        "group",
                        "flapping",
                        "crisis",
                        "crisis_rule",
                        "crisis_declared_at",
                    )
                },
                "members": sum(a["role"] == "member" for a in i["alerts"]),
                "symptoms": sum(a["role"] == "symptom" for a in i["alerts"]),
                "sources": dict(sorted(Counter(a["source"] for a in i["alerts"]).items())),
                "resources": len({a["resource"] for a in i["alerts"] if a["resource"]}),
                "reopened": sum(e["kind"] == "reopened" for e in i["timeline"]),
            }
            for i in handled
        ],
        "merged": [
            {
                "into": names[i["merged_into"]],
                "status": i["status"],
                "opened_at": i["opened_at"],
                "priority": i["priority"],
                "alerts": len(i["alerts"]),
                "crisis": i["crisis"],
            }
            for i in merged
        ],
        "tickets": [
            {
                "for": names[t["incident_id"]],
                "status": t["status"],
                "priority": t["priority"],
                "status_history": [c["new"] for c in t["history"] if c["field"] == "status"],
                "priority_changes": [
                    f"{c['old']}->{c['new']}" for c in t["history"] if c["field"] == "priority"
                ],
            }
            for t in out["tickets"]
        ],
        "suppressed": [
            {k: s[k] for k in ("at", "source", "name", "resource", "by")} for s in out["suppressed"]
        ],
    }


def at(day_time: str) -> str:
    return f"2026-11-20T{day_time}Z"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --- every scenario --------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_replay_of_each_example_has_the_expected_outcome(scenario: str) -> None:
    got = outcome(replayed(scenario))
    print(f"{scenario}: compression {got['compression']}")  # noqa: T201 - shown with -s
    assert got == expected(scenario)


REASONED = {
    # Each kind of decision, and what its timeline entry must say of its rule or reason.
    "opened": r"^opened by .+ from [\w-]+; grouping: (rule [\w-]+ \(.+\)|same .+)$",
    "priority": r"^(priority (raised|lowered) from P\d to P\d: )?P\d from impact \w+ \(.+\) "
    r"and urgency \w+ \(severity \w+\)$",
    "routing": r"^owned by [\w-]+: (routing rule \d+ matches \(.+\)|the group that owns service "
    r".+ \(services\.yaml\)|routing\.default_group, .+)$",
    "alert": r"^.+ (joined as a symptom: .+ depends on .+, which is failing|joined; (rule "
    r"[\w-]+ \(.+\)|same [\w]+ group \(.+\)|.+ is already failing in INC-\d+)|(is now a "
    r"symptom|are now symptoms): .+ depends on .+, which is failing|fires again|resolved|(rose|"
    r"fell) from \w+ to \w+(: .*)?)$",
    "resolved": r"^resolved: (all \d+ alerts resolved|its alerts stayed resolved through the "
    r"(hold-down|calm period)|merged into INC-\d+: .+ \(.+ depends on .+\))$",
    "reopened": r"^reopened by .+: \d+s after it resolved, within the reopen window of \d+s$",
    "settle": r"^(settling until .+ UTC before it is announced: its cause may still arrive "
    r"\(correlation\.settle\)|settled without a cause absorbing it: announced)$",
    "flapping": r"^.+ is flapping: (.+ \(correlation\.flapping\).*|[\w-]+ says so); the "
    r"incident resolves only after its alerts stay resolved for \w+$",
    "hold-down": r"^(all alerts resolved; resolves at .+ \((hold-down|calm period of a "
    r"flapping incident) of \w+\)|.+ fired again before the hold-down ended: .+)$",
    "crisis": r"^crisis (declared by rule [\w-]+: .+|carried over from INC-\d+, where rule "
    r"[\w-]+ declared it .+)$",
    "runbook": r"^runbook: .+ \(/runbooks/[a-z0-9-]+, owned by [\w-]+\)$",
    "merged": r"^INC-\d+ merged in: its \d+ alert\(s\) are symptoms of this incident \(.+ "
    r"depends on .+\)$",
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_decision_leaves_a_timeline_entry_with_its_rule_or_reason(scenario: str) -> None:
    for incident in replayed(scenario)["incidents"]:
        for entry in incident["timeline"]:
            assert entry["kind"] in REASONED, entry
            assert re.match(REASONED[entry["kind"]], entry["text"]), (incident["id"], entry)


def test_every_example_is_there_with_its_readme_and_expected_outcome() -> None:
    assert set(SCENARIOS) == {
        "switch-outage", "switch-same-group", "maintenance", "flapping", "flapping-zabbix",
        "crisis", "cross-source", "monitor-silent", "hold-down", "reopen", "growing-incident",
    }  # fmt: skip
    for scenario in SCENARIOS:
        readme = (EXAMPLES / scenario / "README.md").read_text()
        assert f"sereno replay examples/{scenario}/alerts.jsonl" in readme, scenario
        compression = expected(scenario)["compression"]
        assert f"{compression['alerts_received']} alerts" in readme, scenario
        assert f"compression {compression['ratio']:g}" in readme, scenario


def _generator() -> Any:
    name = "examples_generate"
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up by name while they are being made.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def test_the_generator_reproduces_every_recording_byte_for_byte() -> None:
    generated: dict[str, str] = _generator().build()
    assert {f"{s}/alerts.jsonl" for s in SCENARIOS} <= set(generated)
    for relative, text in generated.items():
        on_disk = (EXAMPLES / relative).read_bytes()
        assert on_disk == text.encode(), f"examples/{relative}: run python examples/generate.py"
    assert generated == _generator().build()  # no clock, no randomness


def test_the_hold_down_rules_differ_from_the_shipped_ones_only_in_the_hold_down() -> None:
    own = load_rules(EXAMPLES / "hold-down" / "rules")
    shipped = load_rules(EXAMPLE_RULES)
    assert own.correlation.hold_down == timedelta(minutes=2)
    assert shipped.correlation.hold_down == timedelta(0)
    same = own.model_copy(update={"correlation": shipped.correlation})
    assert same == shipped


# --- switch-outage ---------------------------------------------------------------------------


def test_a_core_switch_failing_opens_one_incident_with_every_host_behind_it_as_a_symptom() -> None:
    out = replayed("switch-outage")
    [incident] = live(out)
    [switch] = [a for a in incident["alerts"] if a["role"] == "member"]
    assert (switch["resource"], switch["source"]) == ("sw-mad-core-1", "zabbix")
    symptoms = [a for a in incident["alerts"] if a["role"] == "symptom"]
    hosts = {a["resource"] for a in symptoms}
    assert len(symptoms) == len(hosts) == 300
    topology = load_rules(EXAMPLE_RULES).topology
    assert all("sw-mad-core-1" in dict(topology.ancestors(h)) for h in hosts)
    assert {a["source"] for a in symptoms} == {"zabbix", "alertmanager"}
    assert all(a["cause"] == f"{a['resource']} depends on sw-mad-core-1, which is failing"
               for a in symptoms)  # fmt: skip
    # Some hosts alerted before the switch did: their incidents merged into the switch's.
    merged = [i for i in out["incidents"] if i["merged_into"] is not None]
    assert merged
    assert all(i["merged_into"] == incident["id"] for i in merged)
    assert all(i["status"] == "resolved" for i in merged)
    assert all(i["opened_at"] < incident["opened_at"] for i in merged)
    # 300 hosts within 90 s, the first of them 20 s before the switch.
    first = min(moment(i["opened_at"]) for i in merged)
    assert moment(incident["opened_at"]) - first == timedelta(seconds=20)
    joined = [moment(e["at"]) for e in incident["timeline"] if "as a symptom" in e["text"]]
    assert max(joined) - first <= timedelta(seconds=90)
    # One ticket for the incident people handle; the merged ones' tickets are closed.
    [ticket] = [t for t in out["tickets"] if t["incident_id"] == incident["id"]]
    assert [t["status"] for t in out["tickets"]] == ["resolved"] * len(out["tickets"])
    assert ticket["resolved_at"] == incident["resolved_at"] == at("08:21:30")


def test_every_decision_in_the_switch_outage_leaves_a_timeline_entry_with_rule_and_reason() -> None:
    out = replayed("switch-outage")
    [incident] = live(out)
    timeline = incident["timeline"]
    texts = [e["text"] for e in timeline]
    assert texts[0] == (
        "opened by Unavailable by ICMP ping on sw-mad-core-1 from zabbix; grouping: rule "
        "same-host (resource=sw-mad-core-1)"
    )
    assert "owned by redes: the group that owns service Office network, Madrid data centre" in (
        next(e["text"] for e in timeline if e["kind"] == "routing")
    )
    merges = {e["text"].split(" ")[0] for e in timeline if e["kind"] == "merged"}
    merged = [i for i in out["incidents"] if i["merged_into"] is not None]
    assert merges == {i["id"] for i in merged}
    came_by_merge = {a["fingerprint"] for i in merged for a in i["alerts"]}
    joined = [
        a for a in incident["alerts"]
        if a["role"] == "symptom" and a["fingerprint"] not in came_by_merge
    ]  # fmt: skip
    # Each alert keeps its own reason; the timeline says each join, or sums a storm's up.
    assert all(
        a["cause"] == f"{a['resource']} depends on sw-mad-core-1, which is failing" for a in joined
    )
    said = sum(
        int(summed.group(1)) if (summed := re.match(r"(\d+) alerts from ", text)) else 1
        for text in texts
        if " joined as a symptom: " in text
    )
    assert said == len(joined)
    assert (
        "priority raised from P2 to P1: P1 from impact high (Office network, Madrid data "
        "centre: 55,000 users affected (≥ 5,000)) and urgency high (severity critical)"
    ) in texts
    [carried] = [e for e in timeline if e["kind"] == "crisis"]
    assert carried["text"].startswith(f"crisis carried over from {merged[-1]['id']}, where rule "
                                      "mass-outage declared it")  # fmt: skip
    assert texts[-1] == "resolved: all 301 alerts resolved"


def test_the_crisis_of_an_incident_merged_into_the_switch_is_declared_once() -> None:
    out = replayed("switch-outage")
    [declared] = crisis_declarations(out)
    [incident] = live(out)
    assert incident["crisis"]
    assert incident["crisis_declared_at"] == declared["at"]


def test_hosts_listed_before_their_switch_in_one_group_become_its_symptoms() -> None:
    [incident] = replayed("switch-same-group")["incidents"]
    [switch] = [a for a in incident["alerts"] if a["role"] == "member"]
    assert switch["resource"] == "sw-tol-core-1"
    symptoms = [a for a in incident["alerts"] if a["role"] == "symptom"]
    assert len(symptoms) == 40
    assert all(a["resource"].startswith("srv-tol-") for a in symptoms)
    assert all(a["cause"] == f"{a['resource']} depends on sw-tol-core-1, which is failing"
               for a in symptoms)  # fmt: skip
    # Those listed before the switch in the first notification, said once for all.
    [became] = [e["text"] for e in incident["timeline"] if "now symptoms" in e["text"]]
    assert became.startswith("15 alerts, such as ProbeFailure on srv-tol-")
    assert incident["title"] == "ProbeFailure on sw-tol-core-1 (+40 symptoms)"


# --- maintenance -----------------------------------------------------------------------------


def test_alerts_inside_a_maintenance_window_open_nothing_and_are_listed_as_suppressed() -> None:
    out = replayed("maintenance")
    window_ends = moment("2026-11-22T04:00:00Z")  # 05:00 in Madrid
    assert out["suppressed"]
    assert {s["by"] for s in out["suppressed"]} == {"maintenance:weekly-backups"}
    assert all(moment(s["at"]) < window_ends for s in out["suppressed"])
    assert all(
        s["reason"].startswith("inside maintenance window weekly-backups")
        for s in out["suppressed"]
    )
    incidents = out["incidents"]
    assert all(moment(i["opened_at"]) >= window_ends for i in incidents)
    assert len(out["tickets"]) == len(incidents) == 2
    # The load alert outlived the window: at its next repeat it opened an incident, and the
    # slow queries firing anew after the window opened another, as on any other night.
    assert [(i["alerts"][0]["name"], i["alerts"][0]["resource"]) for i in incidents] == [
        ("NodeHighLoad", "bill-02"), ("MySQLSlowQueries", "db-portal-1"),
    ]  # fmt: skip


# --- flapping --------------------------------------------------------------------------------


def test_a_check_toggling_40_times_is_one_flapping_incident_with_one_ticket() -> None:
    out = replayed("flapping")
    [incident] = out["incidents"]
    [alert] = incident["alerts"]
    assert alert["count"] == 40  # 20 times down, 20 times up
    assert incident["flapping"]
    [marked] = [e for e in incident["timeline"] if e["kind"] == "flapping"]
    assert "changed state more than 6 times within 1h (correlation.flapping)" in marked["text"]
    [ticket] = out["tickets"]
    assert ticket["incident_id"] == incident["id"]
    # It resolves once the tunnel has stayed up for the calm period (30m) after its last
    # recovery at 10:58:30, not at any of the recoveries while it flapped.
    assert incident["resolved_at"] == ticket["resolved_at"] == at("11:28:30")


def test_a_zabbix_trigger_toggling_under_new_event_ids_is_one_flapping_incident() -> None:
    out = replayed("flapping-zabbix")
    [incident] = out["incidents"]
    assert len({a["source_id"] for a in incident["alerts"]}) == 20  # one event id per problem
    assert all(a["count"] == 2 for a in incident["alerts"])  # each fired once, resolved once
    assert incident["flapping"]
    [marked] = [e for e in incident["timeline"] if e["kind"] == "flapping"]
    assert "its incident changed state 7 times within 1h" in marked["text"]
    [ticket] = out["tickets"]
    statuses = [c["new"] for c in ticket["history"] if c["field"] == "status"]
    assert statuses == ["open", "resolved"] * 4  # not 20 times: once flapping, it waits
    assert incident["resolved_at"] == ticket["resolved_at"] == at("11:28:30")


# --- crisis ----------------------------------------------------------------------------------


def test_a_mass_outage_declares_a_crisis_once_and_resolves_at_recovery() -> None:
    out = replayed("crisis")
    [incident] = out["incidents"]
    [declared] = crisis_declarations(out)
    assert declared["at"] == incident["opened_at"] == at("09:00:00")
    assert declared["text"] == (
        "crisis declared by rule mass-outage: priority P1 or higher and at least 20,000 users "
        "affected"
    )
    # The incident changed again after two hours, when rule long-p1 holds too: still once.
    two_hours_on = moment(incident["opened_at"]) + timedelta(hours=2)
    assert any(
        e["kind"] == "alert" and two_hours_on < moment(e["at"]) < moment(incident["resolved_at"])
        for e in incident["timeline"]
    )
    assert (incident["status"], incident["resolved_at"]) == ("resolved", at("12:00:00"))
    [ticket] = out["tickets"]
    assert (ticket["status"], ticket["resolved_at"]) == ("resolved", at("12:00:00"))


def test_the_crisis_committee_hears_once_then_every_30_minutes_then_once_at_recovery() -> None:
    out = replayed("crisis")
    committee = [n for n in out["notifications"] if n["channel"] == "comite-crisis-mail"]
    assert [(n["at"], n["kind"]) for n in committee] == [
        (at("09:00:00"), "crisis_declared"),
        *[(at(f"{h:02d}:{m:02d}:00"), "crisis_update")
          for h, m in ((9, 30), (10, 0), (10, 30), (11, 0), (11, 30), (12, 0))],
        (at("12:00:00"), "crisis_closed"),
    ]  # fmt: skip
    declared = committee[0]["text"]
    # Plain Spanish (the committee channel's language), times in Europe/Madrid.
    assert declared.splitlines()[0] == "Incidente grave: Email no funciona"
    assert "Desde el 20 nov 2026 10:00 CET" in declared
    assert "hasta 55.000 usuarios" in declared
    assert "Próxima actualización: 20 nov 2026 10:30 CET" in declared
    on_call = [(n["at"], n["kind"], n["channel"]) for n in out["notifications"]
               if n["channel"] != "comite-crisis-mail"]  # fmt: skip
    # 32 alerts: one opening, the P1 response target (15m) missed, one escalation nobody
    # acknowledged, one resolution per channel.
    assert on_call == [
        (at("09:00:00"), "opened", "sistemas-teams"),
        (at("09:15:00"), "sla_breached", "sistemas-teams"),
        (at("09:20:00"), "escalated", "service-desk-webhook"),
        (at("12:00:00"), "resolved", "sistemas-teams"),
        (at("12:00:00"), "resolved", "service-desk-webhook"),
    ]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_people_hear_of_incidents_never_of_each_alert(scenario: str) -> None:
    out = replayed(scenario)
    openings = Counter(n["incident"] for n in out["notifications"] if n["kind"] == "opened")
    # One opening message per incident and channel of its group, however many alerts.
    assert all(count == 1 for count in openings.values())
    assert set(openings) <= {i["id"] for i in out["incidents"]}
    assert sum(1 for n in out["notifications"] if n["kind"] == "crisis_declared") == len(
        crisis_declarations(out)
    )


# --- cross-source ----------------------------------------------------------------------------


def test_alerts_from_different_sources_about_one_host_meet_in_one_incident() -> None:
    database, payroll = replayed("cross-source")["incidents"]
    assert {(a["source"], a["source_id"], a["resource"]) for a in database["alerts"]} == {
        ("zabbix", "28341", "db-1"),  # host DB-1.corp.example
        ("alertmanager", _fingerprint_of("MySQLDown"), "db-1"),  # instance db-1:9104
        ("nagios", "db-1.corp.example/MySQL", "db-1"),
    }
    texts = [e["text"] for e in database["timeline"]]
    assert (
        f"MySQLDown on db-1 from alertmanager joined; db-1 is already failing in {database['id']}"
        in texts
    )
    assert "MySQL on db-1 from nagios joined; rule same-host (resource=db-1)" in texts
    # The other way round: Prometheus first, then Zabbix (host PAY-01.corp.example).
    assert [a["source"] for a in payroll["alerts"]] == ["alertmanager", "zabbix"]
    assert {a["resource"] for a in payroll["alerts"]} == {"pay-01"}


def _fingerprint_of(alertname: str) -> str:
    """The Alertmanager fingerprint the recording gives an alert, read from the recording."""
    for line in (EXAMPLES / "cross-source" / "alerts.jsonl").read_text().splitlines():
        for alert in json.loads(line)["payload"].get("alerts", []):
            if alert["labels"]["alertname"] == alertname:
                found: str = alert["fingerprint"]
                return found
    pytest.fail(f"no {alertname} in the recording")


# --- monitor-silent --------------------------------------------------------------------------


def test_a_silent_watchdog_opens_one_incident_that_resolves_when_it_returns() -> None:
    out = replayed("monitor-silent")
    [incident] = out["incidents"]
    [alert] = incident["alerts"]
    assert (alert["source"], alert["name"]) == ("sereno", "prometheus-watchdog silent")
    assert incident["title"].startswith("prometheus-watchdog silent")
    # Last sign of life 08:30:00; silent for more than 10m at the first tick after 08:40:00.
    assert incident["opened_at"] == at("08:40:15")
    assert incident["resolved_at"] == at("09:00:00")  # the Watchdog is back
    [ticket] = out["tickets"]
    assert ticket["status"] == "resolved"


# --- hold-down -------------------------------------------------------------------------------


def test_a_30s_recovery_within_the_hold_down_resolves_neither_incident_nor_ticket() -> None:
    out = replayed("hold-down")
    [incident] = out["incidents"]
    [ticket] = out["tickets"]
    assert [c["new"] for c in ticket["history"] if c["field"] == "status"] == ["open", "resolved"]
    # The real recovery came at 08:30:00; it resolves when the 2m hold-down ends.
    assert incident["resolved_at"] == ticket["resolved_at"] == at("08:32:00")
    kinds = [(e["at"], e["kind"]) for e in incident["timeline"]]
    assert (at("08:10:30"), "hold-down") in kinds  # fired again before the hold-down ended


def test_without_a_hold_down_the_same_30s_recovery_closes_and_reopens_the_ticket() -> None:
    out = replayed("hold-down", SHIPPED_SETTINGS)
    [ticket] = out["tickets"]
    assert [(c["new"], c["at"]) for c in ticket["history"] if c["field"] == "status"] == [
        ("open", at("08:00:00")), ("resolved", at("08:10:00")),
        ("open", at("08:10:30")), ("resolved", at("08:30:00")),
    ]  # fmt: skip


# --- reopen ----------------------------------------------------------------------------------


def test_an_alert_back_within_the_reopen_window_reopens_its_incident_and_later_opens_anew() -> None:
    first, second = replayed("reopen")["incidents"]
    reopened = [e for e in first["timeline"] if e["kind"] == "reopened"]
    assert [(e["at"], e["text"]) for e in reopened] == [
        (at("08:25:00"), ("reopened by HTTP on bill-01: 900s after it resolved, within the "
                          "reopen window of 1800s")),
    ]  # fmt: skip
    # 45 minutes after the first resolved for good: outside the window, a new incident.
    assert moment(second["opened_at"]) - moment(first["resolved_at"]) == timedelta(minutes=45)
    assert not [e for e in second["timeline"] if e["kind"] == "reopened"]


# --- growing-incident ------------------------------------------------------------------------


def test_the_priority_rises_as_the_incident_spans_more_resources() -> None:
    [incident] = replayed("growing-incident")["incidents"]
    raised = [
        (e["at"], e["text"].partition(": ")[0], e["text"])
        for e in incident["timeline"]
        if e["text"].startswith("priority raised")
    ]
    assert [(when, what) for when, what, _ in raised] == [
        (at("08:05:00"), "priority raised from P3 to P2"),
        (at("08:15:00"), "priority raised from P2 to P1"),
    ]
    # Its hosts belong to no service of the catalogue: only its spread raises it. Alerts
    # that arrive together are assessed together: the count is the one the step reached.
    spread = [int(m.group(1)) for _, _, text in raised
              if (m := re.search(r"(\d+) resources affected \(≥ \d+\)", text))]  # fmt: skip
    assert len(spread) == 2
    assert 5 <= spread[0] < 50 <= spread[1]
