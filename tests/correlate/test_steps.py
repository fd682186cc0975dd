"""Correlation's pure steps, without any storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.matchers import AlertMatch, Silence
from core.models import (
    Alert,
    AlertRole,
    AlertState,
    AlertStatus,
    Impact,
    IncidentStatus,
    Priority,
    Severity,
    Urgency,
)
from core.rules import CorrelationRules, FlappingRules, Rules
from correlate import crisis, heartbeat, lifecycle
from correlate.assess import owner
from correlate.dedup import Change, classify, remember
from correlate.grouping import group
from correlate.placement import place
from correlate.suppress import suppression
from correlate.topology import find_cause, members_behind, symptoms_of
from tests.conftest import T0
from tests.correlate import steps

FLAPPING = FlappingRules()


def _alert(
    fingerprint: str = "f1",
    status: AlertStatus = AlertStatus.FIRING,
    severity: Severity = Severity.WARNING,
    resource: str = "web-1",
    name: str = "HostDown",
    at: datetime = T0,
    **extra: object,
) -> Alert:
    return Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint, status=status,
        name=name, resource=resource, severity=severity, starts_at=T0, received_at=at,
        **extra,
    )  # fmt: skip


def _arrival(alert: Alert, rules: Rules) -> lifecycle.Arrival:
    return lifecycle.Arrival(alert, place(alert, rules).service)


def _open(alert: Alert, rules: Rules) -> steps.Built:
    placement = place(alert, rules)
    grouping = group(alert, placement, rules)
    owned = owner(alert, placement.service, rules)
    origin = lifecycle.Origin(
        grouping.key, grouping.rule, grouping.why, placement.site, owned.group, owned.why
    )  # fmt: skip
    return steps.open_incident("INC-1", origin, _arrival(alert, rules), rules, alert.received_at)


def test_classify_follows_the_fingerprints_state() -> None:
    firing = _alert()
    resolved = _alert(status=AlertStatus.RESOLVED)
    assert classify(None, firing) is Change.FIRING
    assert classify(None, resolved) is Change.UNKNOWN_RESOLVED
    state = remember(None, firing, "INC-1", Change.FIRING, FLAPPING)
    assert classify(state, firing) is Change.REPEAT
    assert classify(state, resolved) is Change.RESOLVED
    after = remember(state, resolved, "INC-1", Change.RESOLVED, FLAPPING)
    assert (after.count, after.status) == (2, AlertStatus.RESOLVED)
    assert classify(after, resolved) is Change.REPEAT
    assert classify(after, firing) is Change.FIRING


def test_remember_keeps_first_seen_and_moves_last_seen() -> None:
    state = AlertState(
        fingerprint="f1", incident_id="INC-1", status=AlertStatus.FIRING, first_seen=T0,
        last_seen=T0,
    )  # fmt: skip
    later = _alert(at=T0 + timedelta(minutes=1))
    after = remember(state, later, "INC-1", Change.REPEAT, FLAPPING)
    assert after.first_seen == T0
    assert after.last_seen == T0 + timedelta(minutes=1)


def test_more_changes_than_allowed_within_the_window_is_flapping() -> None:
    rules = FlappingRules(toggles=3, within=timedelta(minutes=10))
    state = None
    for minute in range(4):
        status = AlertStatus.FIRING if minute % 2 == 0 else AlertStatus.RESOLVED
        alert = _alert(status=status, at=T0 + timedelta(minutes=minute))
        state = remember(state, alert, "INC-1", classify(state, alert), rules)
        assert state.flapping is (minute == 3)
    assert state is not None
    calm = _alert(at=T0 + timedelta(minutes=30))  # the old changes fall out of the window
    assert not remember(state, calm, "INC-1", Change.FIRING, rules).flapping


def test_the_senders_group_wins_then_service_and_resource(rules: Rules) -> None:
    def key(alert: Alert) -> str:
        return group(alert, place(alert, rules), rules).key

    assert key(_alert(group_key="g")) == "group:generic:g"
    assert key(_alert(resource="bob-1", service="mail")) == "resource:mail/bob-1"
    assert key(_alert(resource="")) == "alert:f1"


def test_a_correlation_rule_groups_by_site_first_match_wins(rules: Rules) -> None:
    ups = _alert(name="UPS on battery", resource="ups-mad-1")
    pdu = _alert("f2", name="PDU overload", resource="pdu-mad-3")
    assert place(ups, rules).site == "madrid"
    first, second = (group(a, place(a, rules), rules) for a in (ups, pdu))
    assert first.key == second.key == "rule:site-power:site=madrid"
    assert first.rule == "site-power"
    unknown_site = _alert("f3", name="UPS on battery", resource="ups-nowhere")
    assert group(unknown_site, place(unknown_site, rules), rules).key == "alert:f3"


def test_the_catalogue_places_an_alert_by_host(rules: Rules) -> None:
    placement = place(_alert(resource="mail-2"), rules)
    assert (placement.service, placement.site) == ("email", "madrid")
    assert place(_alert(resource="nobody", service="custom"), rules).service == "custom"


def test_priority_is_impact_by_urgency_and_says_why(rules: Rules) -> None:
    mail = _open(_alert(resource="mail-2", severity=Severity.CRITICAL), rules)
    assert (mail.impact, mail.urgency, mail.priority) == (Impact.HIGH, Urgency.HIGH, Priority.P1)
    assert mail.users_affected == 55_000
    assert "Email" in mail.priority_reason
    assert mail.group == "sistemas"
    lonely = _open(_alert(resource="nobody", severity=Severity.WARNING), rules)
    assert (lonely.impact, lonely.priority) == (Impact.LOW, Priority.P5)
    assert lonely.group == "service-desk"


def test_a_service_others_depend_on_carries_their_users(rules: Rules) -> None:
    database = _open(_alert(resource="db-portal-1", severity=Severity.MAJOR), rules)
    assert database.service == "portal-db"
    assert database.users_affected == 55_000  # the citizen portal needs it
    assert database.priority is Priority.P1


def test_priority_rises_as_the_incident_grows(rules: Rules) -> None:
    incident = _open(_alert("h0", resource="host-0", severity=Severity.MAJOR), rules)
    assert incident.priority is Priority.P3
    for i in range(1, 5):
        alert = _alert(f"h{i}", resource=f"host-{i}", severity=Severity.MAJOR)
        incident = steps.add_firing(incident, _arrival(alert, rules), rules, T0)
    assert (incident.impact, incident.priority) == (Impact.MEDIUM, Priority.P2)
    assert incident.timeline[-1].kind == "priority"
    assert "raised from P3 to P2" in incident.timeline[-1].text


def test_an_incident_takes_the_worst_firing_severity_and_resolves_with_its_last_alert(
    rules: Rules,
) -> None:
    incident = _open(_alert("a"), rules)
    incident = steps.add_firing(
        incident, _arrival(_alert("b", severity=Severity.CRITICAL, resource="web-2"), rules),
        rules, T0,
    )  # fmt: skip
    assert incident.severity is Severity.CRITICAL
    assert incident.title == "HostDown on 2 resources"
    incident = steps.add_resolution(incident, _alert("b", status=AlertStatus.RESOLVED), rules, T0)
    assert incident.status is IncidentStatus.OPEN
    assert incident.severity is Severity.WARNING  # only the warning still fires
    incident = steps.add_resolution(incident, _alert("a", status=AlertStatus.RESOLVED), rules, T0)
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.resolved_at == T0


def test_hold_down_keeps_the_incident_open_until_it_ends(rules: Rules) -> None:
    held = rules.model_copy(
        update={"correlation": CorrelationRules(hold_down=timedelta(minutes=2))}
    )
    incident = _open(_alert(), held)
    resolved = steps.add_resolution(incident, _alert(status=AlertStatus.RESOLVED), held, T0)
    assert resolved.status is IncidentStatus.OPEN
    assert lifecycle.hold_ends(resolved.incident, held) == T0 + timedelta(minutes=2)
    refired = steps.add_firing(resolved, _arrival(_alert(), held), held, T0)
    assert refired.resolving_since is None
    assert "stays open" in refired.timeline[-1].text


def test_topology_finds_the_nearest_failing_upstream(rules: Rules) -> None:
    failing = {"rt-mad-edge-1": "INC-9"}
    cause = find_cause("web-17", rules.topology, failing.get)
    assert cause is not None
    assert cause.incident_id == "INC-9"
    assert (
        cause.reason == "web-17 depends on rt-mad-edge-1 (through sw-mad-core-1), which is failing"
    )
    failing["sw-mad-core-1"] = "INC-3"
    nearer = find_cause("web-17", rules.topology, failing.get)
    assert nearer is not None
    assert nearer.incident_id == "INC-3"
    assert find_cause("pay-1", rules.topology, failing.get) is None


def test_symptoms_that_came_first_are_found_for_their_cause(rules: Rules) -> None:
    hosts = _open(_alert("h1", resource="web-1"), rules)
    hosts = steps.add_firing(hosts, _arrival(_alert("h2", resource="srv-mad-7"), rules), rules, T0)
    other = _open(_alert("p1", resource="pay-1"), rules).renamed("INC-2")
    found = symptoms_of("sw-mad-core-1", [hosts.pair, other.pair], rules.topology)
    assert list(found) == ["INC-1"]
    assert found["INC-1"]["h2"] == "srv-mad-7 depends on sw-mad-core-1, which is failing"
    switch = _open(_alert("s1", resource="sw-mad-core-1"), rules).renamed("INC-3")
    grown, merged = steps.merge(switch, hosts, found["INC-1"], rules, T0)
    assert (merged.status, merged.merged_into) == (IncidentStatus.RESOLVED, "INC-3")
    assert [a.role for a in grown.alerts] == [
        AlertRole.MEMBER,
        AlertRole.SYMPTOM,
        AlertRole.SYMPTOM,
    ]
    assert grown.title == "HostDown on sw-mad-core-1 (+2 symptoms)"


def test_silences_and_maintenance_windows_suppress(rules: Rules) -> None:
    silence = Silence(
        id="SIL-1", match=AlertMatch(resources=["web-*"]), starts_at=T0,
        ends_at=T0 + timedelta(hours=1), created_by="ana", comment="deploy", created_at=T0,
    )  # fmt: skip
    alert = _alert(resource="web-3")
    found = suppression(alert, "citizen-portal", rules, [silence], T0)
    assert found is not None
    assert found.by == "silence:SIL-1"
    assert "ana" in found.reason
    assert suppression(alert, "citizen-portal", rules, [silence], T0 + timedelta(hours=2)) is None
    # Thursday 2026-11-19, 23:30 in Madrid: inside patch-thursday for the Toledo servers.
    thursday_night = datetime(2026, 11, 19, 22, 30, tzinfo=UTC)
    patched = _alert(resource="srv-tol-4")
    window = suppression(patched, "office-lan-toledo", rules, [], thursday_night)
    assert window is not None
    assert window.by == "maintenance:patch-thursday"
    friday_noon = datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert suppression(patched, "office-lan-toledo", rules, [], friday_noon) is None


def test_crisis_rules_need_every_condition(rules: Rules) -> None:
    mail = _open(_alert(resource="mail-1", severity=Severity.CRITICAL), rules)
    rule = crisis.crisis_rule(mail.incident, rules, T0, site_services=1)
    assert rule is not None
    assert rule.name == "mass-outage"
    declared = steps.declare_crisis(mail, rule.name, rule.describe(), T0)
    assert crisis.crisis_rule(declared.incident, rules, T0, site_services=1) is None  # once only
    payroll = _open(_alert(resource="pay-1", severity=Severity.CRITICAL), rules)
    assert payroll.priority is Priority.P2
    assert crisis.crisis_rule(payroll.incident, rules, T0, site_services=2) is None
    site = crisis.crisis_rule(payroll.incident, rules, T0, site_services=3)
    assert site is not None
    assert site.name == "site-down"


def test_a_silent_monitor_is_found_after_its_period(rules: Rules) -> None:
    watchdog = _alert(name="Watchdog", resource="")
    beat = heartbeat.heartbeat_for(watchdog, "", rules)
    assert beat is not None
    assert beat.name == "prometheus-watchdog"
    assert heartbeat.silent(rules, {beat.name: T0}, T0 + timedelta(minutes=9)) == []
    [(silent, last)] = heartbeat.silent(rules, {beat.name: T0}, T0 + timedelta(minutes=11))
    alarm = heartbeat.silence_alert(silent, last, T0 + timedelta(minutes=11), AlertStatus.FIRING)
    assert alarm.summary.startswith("prometheus-watchdog has sent nothing for 11 minutes")
    assert heartbeat.heartbeat_for(alarm, "", rules) is None


def test_repeats_count_without_a_new_version(rules: Rules) -> None:
    incident = _open(_alert(), rules)
    later = T0 + timedelta(minutes=2)
    again = steps.repeat(incident, _alert(at=later), rules, later)
    again = steps.repeat(again, _alert(at=later), rules, later)
    assert (again.alerts[0].count, again.alerts[0].last_seen) == (3, later)
    assert again.version == incident.version
    assert again.timeline == incident.timeline


def test_a_crisis_declared_on_an_incident_merged_into_its_cause_is_not_declared_again(
    rules: Rules,
) -> None:
    # Web servers alert 20 s before their switch: their incident is a P1 of the citizen
    # portal, and the committee hears of a crisis. When the switch's alert arrives, that
    # incident merges into the switch's: the crisis goes with it, and is not declared twice.
    webs = _open(_alert("w1", resource="web-1", severity=Severity.CRITICAL), rules)
    rule = crisis.crisis_rule(webs.incident, rules, T0, site_services=1)
    assert rule is not None
    webs = steps.declare_crisis(webs, rule.name, rule.describe(), T0)
    later = T0 + timedelta(seconds=20)
    switch = _open(_alert("s1", resource="sw-mad-core-1", at=later), rules).renamed("INC-2")
    assert not switch.crisis
    reasons = symptoms_of("sw-mad-core-1", [webs.pair], rules.topology)[webs.id]
    grown, merged = steps.merge(switch, webs, reasons, rules, later)
    assert (grown.crisis, grown.crisis_rule, grown.crisis_declared_at) == (
        True, "mass-outage", T0,
    )  # fmt: skip
    assert crisis.crisis_rule(grown.incident, rules, later, site_services=2) is None
    [carried] = [e for e in grown.timeline if e.kind == "crisis"]
    assert "carried over from INC-1" in carried.text
    assert merged.crisis  # what happened to the merged incident stays on record


def test_an_alert_becoming_flapping_leaves_a_timeline_entry_with_the_rule(rules: Rules) -> None:
    incident = _open(_alert(), rules)
    calm = steps.add_firing(incident, _arrival(_alert("f2", resource="web-2"), rules),
                                rules, T0)  # fmt: skip
    assert all(e.kind != "flapping" for e in calm.timeline)
    toggling = lifecycle.Arrival(_alert(), "", flapping=True)
    flapping = steps.add_firing(calm, toggling, rules, T0)
    assert flapping.flapping
    [entry] = [e for e in flapping.timeline if e.kind == "flapping"]
    assert entry.text == (
        "HostDown on web-1 is flapping: it changed state more than 6 times within 1h "
        "(correlation.flapping); the incident resolves only after its alerts stay resolved "
        "for 30m"
    )
    again = steps.add_firing(flapping, toggling, rules, T0)
    assert [e.kind for e in again.timeline].count("flapping") == 1  # said once
    # The same when the change that makes it flapping is a resolution.
    resolved = steps.add_resolution(
        calm, _alert(status=AlertStatus.RESOLVED), rules, T0, flapping=True
    )
    assert [e.kind for e in resolved.timeline].count("flapping") == 1


def test_a_source_that_says_flapping_is_named_in_the_timeline(rules: Rules) -> None:
    incident = _open(_alert(), rules)
    said = lifecycle.Arrival(_alert(flapping=True), "", flapping=True)
    flapping = steps.add_firing(incident, said, rules, T0)
    [entry] = [e for e in flapping.timeline if e.kind == "flapping"]
    assert entry.text.startswith("HostDown on web-1 is flapping: generic says so;")


def test_the_owning_group_is_chosen_with_its_reason_on_the_timeline(rules: Rules) -> None:
    def routing(alert: Alert) -> str:
        [entry] = [e for e in _open(alert, rules).timeline if e.kind == "routing"]
        return entry.text

    link = _alert(name="Interface Te1/1/1: Link down", resource="sw-mad-core-1")
    assert routing(link) == (
        "owned by redes: routing rule 1 matches (names *Switch*, *Interface*, *BGP*, *Link*)"
    )
    dba = _alert(resource="db-9", labels={"team": "dba"})
    assert routing(dba) == "owned by bases-de-datos: routing rule 2 matches (label team=dba)"
    assert routing(_alert(resource="mail-2")) == (
        "owned by sistemas: the group that owns service Email (services.yaml)"
    )
    assert routing(_alert(resource="nobody")) == (
        "owned by service-desk: routing.default_group, as no routing rule matches and the "
        "service catalogue knows no owner"
    )


def test_members_behind_a_cause_that_joins_their_own_incident_become_its_symptoms(
    rules: Rules,
) -> None:
    # Blackbox ICMP probes of servers and of their switch in one Alertmanager group: the
    # servers come first in the notification, then the switch joins their incident.
    group_key = '{}:{alertname="ProbeFailure"}'
    incident = _open(_alert("h1", resource="srv-mad-001", group_key=group_key), rules)
    incident = steps.add_firing(
        incident,
        _arrival(_alert("h2", resource="srv-mad-002", group_key=group_key), rules),
        rules,
        T0,
    )
    unrelated = _alert("p1", resource="pay-1", group_key=group_key)
    incident = steps.add_firing(incident, _arrival(unrelated, rules), rules, T0)
    switch = _alert("s1", resource="sw-mad-core-1", group_key=group_key)
    incident = steps.add_firing(incident, _arrival(switch, rules), rules, T0)
    behind = members_behind(incident.alerts, "sw-mad-core-1", rules.topology)
    assert behind == {
        "h1": "srv-mad-001 depends on sw-mad-core-1, which is failing",
        "h2": "srv-mad-002 depends on sw-mad-core-1, which is failing",
    }
    regrouped = steps.as_symptoms(incident, behind, rules, T0)
    roles = {a.fingerprint: (a.role, a.cause) for a in regrouped.alerts}
    assert roles["h1"] == (AlertRole.SYMPTOM, behind["h1"])
    assert roles["h2"] == (AlertRole.SYMPTOM, behind["h2"])
    assert roles["s1"][0] is AlertRole.MEMBER
    assert roles["p1"][0] is AlertRole.MEMBER  # pay-1 does not sit behind the switch
    assert regrouped.title == "HostDown on 2 resources (+2 symptoms)"
    assert [e.text for e in regrouped.timeline[-2:]] == [
        "HostDown on srv-mad-001 from generic is now a symptom: " + behind["h1"],
        "HostDown on srv-mad-002 from generic is now a symptom: " + behind["h2"],
    ]
    assert members_behind(regrouped.alerts, "sw-mad-core-1", rules.topology) == {}


def test_an_incident_that_keeps_coming_back_under_new_alert_ids_is_flapping(
    rules: Rules,
) -> None:
    # Zabbix gives each new problem of a trigger its own event id, hence its own fingerprint:
    # no fingerprint ever changes state more than twice, but the incident does.
    incident = _open(_alert("e1"), rules)
    for n in range(1, 4):
        down, up = T0 + timedelta(minutes=3 * n), T0 + timedelta(minutes=3 * n - 1)
        incident = steps.add_resolution(
            incident, _alert(f"e{n}", status=AlertStatus.RESOLVED, at=up), rules, up
        )
        assert incident.status is IncidentStatus.RESOLVED  # not flapping yet: resolves at once
        incident = steps.reopen(
            incident, _arrival(_alert(f"e{n + 1}", at=down), rules), rules, down,
            rules.correlation.reopen_window,
        )  # fmt: skip
        assert incident.flapping is (n == 3)  # the 7th change of state is one too many
    [entry] = [e for e in incident.timeline if e.kind == "flapping"]
    assert entry.text == (
        "HostDown on web-1 is flapping: its incident changed state 7 times within 1h, more "
        "than 6 (correlation.flapping), as a problem that keeps coming back under new ids; "
        "the incident resolves only after its alerts stay resolved for 30m"
    )
    later = T0 + timedelta(minutes=11)
    held = steps.add_resolution(
        incident, _alert("e4", status=AlertStatus.RESOLVED, at=later), rules, later
    )
    assert held.status is IncidentStatus.OPEN  # now it waits for the calm period
    assert lifecycle.hold_ends(held.incident, rules) == later + timedelta(minutes=30)
