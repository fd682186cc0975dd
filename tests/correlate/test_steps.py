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
    Incident,
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
from correlate.topology import find_cause, symptoms_of
from tests.conftest import T0

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


def _open(alert: Alert, rules: Rules) -> Incident:
    placement = place(alert, rules)
    grouping = group(alert, placement, rules)
    origin = lifecycle.Origin(
        grouping.key, grouping.rule, grouping.why, placement.site,
        owner(placement.service, None, rules),
    )  # fmt: skip
    return lifecycle.open_incident(
        "INC-1", origin, _arrival(alert, rules), rules, alert.received_at
    )


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
        incident = lifecycle.add_firing(incident, _arrival(alert, rules), rules, T0)
    assert (incident.impact, incident.priority) == (Impact.MEDIUM, Priority.P2)
    assert incident.timeline[-1].kind == "priority"
    assert "raised from P3 to P2" in incident.timeline[-1].text


def test_an_incident_takes_the_worst_firing_severity_and_resolves_with_its_last_alert(
    rules: Rules,
) -> None:
    incident = _open(_alert("a"), rules)
    incident = lifecycle.add_firing(
        incident, _arrival(_alert("b", severity=Severity.CRITICAL, resource="web-2"), rules),
        rules, T0,
    )  # fmt: skip
    assert incident.severity is Severity.CRITICAL
    assert incident.title == "HostDown on 2 resources"
    incident = lifecycle.add_resolution(
        incident, _alert("b", status=AlertStatus.RESOLVED), rules, T0
    )
    assert incident.status is IncidentStatus.OPEN
    assert incident.severity is Severity.WARNING  # only the warning still fires
    incident = lifecycle.add_resolution(
        incident, _alert("a", status=AlertStatus.RESOLVED), rules, T0
    )
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.resolved_at == T0


def test_hold_down_keeps_the_incident_open_until_it_ends(rules: Rules) -> None:
    held = rules.model_copy(
        update={"correlation": CorrelationRules(hold_down=timedelta(minutes=2))}
    )
    incident = _open(_alert(), held)
    resolved = lifecycle.add_resolution(incident, _alert(status=AlertStatus.RESOLVED), held, T0)
    assert resolved.status is IncidentStatus.OPEN
    assert lifecycle.hold_ends(resolved, held) == T0 + timedelta(minutes=2)
    refired = lifecycle.add_firing(resolved, _arrival(_alert(), held), held, T0)
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
    hosts = lifecycle.add_firing(
        hosts, _arrival(_alert("h2", resource="srv-mad-7"), rules), rules, T0
    )
    other = _open(_alert("p1", resource="pay-1"), rules).model_copy(update={"id": "INC-2"})
    found = symptoms_of("sw-mad-core-1", [hosts, other], rules.topology)
    assert list(found) == ["INC-1"]
    assert found["INC-1"]["h2"] == "srv-mad-7 depends on sw-mad-core-1, which is failing"
    switch = _open(_alert("s1", resource="sw-mad-core-1"), rules).model_copy(update={"id": "INC-3"})
    grown, merged = lifecycle.merge(switch, hosts, found["INC-1"], rules, T0)
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
    rule = crisis.crisis_rule(mail, rules, T0, site_services=1)
    assert rule is not None
    assert rule.name == "mass-outage"
    declared = lifecycle.declare_crisis(mail, rule.name, rule.describe(), T0)
    assert crisis.crisis_rule(declared, rules, T0, site_services=1) is None  # once only
    payroll = _open(_alert(resource="pay-1", severity=Severity.CRITICAL), rules)
    assert payroll.priority is Priority.P2
    assert crisis.crisis_rule(payroll, rules, T0, site_services=2) is None
    site = crisis.crisis_rule(payroll, rules, T0, site_services=3)
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
    again = lifecycle.count_repeats(incident, {"f1": lifecycle.Repeats(3, later)})
    assert (again.alerts[0].count, again.alerts[0].last_seen) == (4, later)
    assert again.version == incident.version
