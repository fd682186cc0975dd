"""Correlation's pure steps, without any storage."""

from __future__ import annotations

from datetime import timedelta

from core.models import Alert, AlertState, AlertStatus, IncidentStatus, Priority, Severity
from core.rules import Rules
from correlate import lifecycle
from correlate.dedup import Change, classify, remember
from correlate.grouping import correlation_key
from tests.conftest import T0


def _alert(
    fingerprint: str = "f1",
    status: AlertStatus = AlertStatus.FIRING,
    severity: Severity = Severity.WARNING,
    resource: str = "web-1",
    **extra: str,
) -> Alert:
    return Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint, status=status,
        name="HostDown", resource=resource, severity=severity, starts_at=T0, received_at=T0,
        **extra,
    )  # fmt: skip


def test_classify_follows_the_fingerprints_state() -> None:
    firing = _alert()
    resolved = _alert(status=AlertStatus.RESOLVED)
    assert classify(None, firing) is Change.FIRING
    assert classify(None, resolved) is Change.UNKNOWN_RESOLVED
    state = remember(None, firing, "INC-1")
    assert classify(state, firing) is Change.REPEAT
    assert classify(state, resolved) is Change.RESOLVED
    after = remember(state, resolved, "INC-1")
    assert (after.count, after.status) == (2, AlertStatus.RESOLVED)
    assert classify(after, resolved) is Change.REPEAT
    assert classify(after, firing) is Change.FIRING


def test_remember_keeps_first_seen_and_moves_last_seen() -> None:
    state = AlertState(
        fingerprint="f1", incident_id="INC-1", status=AlertStatus.FIRING, first_seen=T0,
        last_seen=T0,
    )  # fmt: skip
    later = _alert().model_copy(update={"received_at": T0 + timedelta(minutes=1)})
    after = remember(state, later, "INC-1")
    assert after.first_seen == T0
    assert after.last_seen == T0 + timedelta(minutes=1)


def test_the_senders_group_wins_then_service_and_resource() -> None:
    assert correlation_key(_alert(group_key="g")) == "group:generic:g"
    assert correlation_key(_alert(service="mail")) == "resource:mail/web-1"
    assert correlation_key(_alert(resource="")) == "alert:f1"


def test_an_incident_takes_the_worst_firing_severity_and_resolves_with_its_last_alert(
    rules: Rules,
) -> None:
    incident = lifecycle.open_incident("INC-1", "k", _alert("a"), rules, T0)
    assert (incident.priority, incident.title) == (Priority.P4, "HostDown on web-1")
    incident = lifecycle.add_firing(
        incident, _alert("b", severity=Severity.CRITICAL, resource="web-2"), rules, T0
    )
    assert (incident.severity, incident.priority) == (Severity.CRITICAL, Priority.P1)
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
    assert [e.kind for e in incident.timeline] == ["opened", "alert", "alert", "alert", "resolved"]
    assert incident.version == 4


def test_repeats_count_without_a_new_version(rules: Rules) -> None:
    incident = lifecycle.open_incident("INC-1", "k", _alert(), rules, T0)
    later = T0 + timedelta(minutes=2)
    again = lifecycle.count_repeats(incident, {"f1": lifecycle.Repeats(3, later)})
    assert (again.alerts[0].count, again.alerts[0].last_seen) == (4, later)
    assert again.version == incident.version
