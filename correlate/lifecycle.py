"""Incident lifecycle as pure functions: open, add an alert, resolve an alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.models import (
    Alert,
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Severity,
    TimelineEntry,
)
from core.rules import Rules
from correlate.grouping import describe_key


def _member(alert: Alert) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=alert.fingerprint,
        source=alert.source,
        source_id=alert.source_id,
        name=alert.name,
        resource=alert.resource,
        service=alert.service,
        severity=alert.severity,
        status=alert.status,
        summary=alert.summary,
        first_seen=alert.received_at,
        last_seen=alert.received_at,
    )


def _where(alert: Alert | IncidentAlert) -> str:
    return f"{alert.name} on {alert.resource}" if alert.resource else alert.name


def title_for(alerts: tuple[IncidentAlert, ...]) -> str:
    """A title a person can read: what fails, where, and how widely."""
    names = list(dict.fromkeys(a.name for a in alerts))
    resources = sorted({a.resource for a in alerts if a.resource})
    what = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    if len(resources) == 1:
        return f"{what} on {resources[0]}"
    if resources:
        return f"{what} on {len(resources)} resources"
    return what


def _with_alerts(
    incident: Incident, alerts: tuple[IncidentAlert, ...], rules: Rules, note: TimelineEntry
) -> Incident:
    firing = [a.severity for a in alerts if a.status is AlertStatus.FIRING]
    severity = Severity.worst(firing or [a.severity for a in alerts])
    return incident.model_copy(
        update={
            "alerts": alerts,
            "title": title_for(alerts),
            "severity": severity,
            "priority": rules.priority.for_severity(severity),
            "timeline": (*incident.timeline, note),
            "version": incident.version + 1,
        }
    )


def open_incident(
    incident_id: str, key: str, alert: Alert, rules: Rules, now: datetime
) -> Incident:
    """A new incident started by `alert`."""
    member = _member(alert)
    return Incident(
        id=incident_id,
        key=key,
        title=title_for((member,)),
        severity=alert.severity,
        priority=rules.priority.for_severity(alert.severity),
        service=alert.service,
        opened_at=now,
        alerts=(member,),
        timeline=(
            TimelineEntry(
                at=now,
                kind="opened",
                text=f"opened by {_where(alert)} from {alert.source}; "
                f"grouping: {describe_key(key)}",
            ),
        ),
    )


def add_firing(incident: Incident, alert: Alert, rules: Rules, now: datetime) -> Incident:
    """`alert` fires in `incident`: a new member, or a member firing again."""
    existing = next((a for a in incident.alerts if a.fingerprint == alert.fingerprint), None)
    if existing is None:
        alerts = (*incident.alerts, _member(alert))
        text = f"{_where(alert)} from {alert.source} joined; grouping: {describe_key(incident.key)}"
    else:
        refired = existing.model_copy(
            update={"status": AlertStatus.FIRING, "last_seen": alert.received_at,
                    "count": existing.count + 1, "severity": alert.severity}
        )  # fmt: skip
        alerts = tuple(refired if a is existing else a for a in incident.alerts)
        text = f"{_where(alert)} fires again"
    return _with_alerts(incident, alerts, rules, TimelineEntry(at=now, kind="alert", text=text))


def add_resolution(incident: Incident, alert: Alert, rules: Rules, now: datetime) -> Incident:
    """`alert` resolved; the incident resolves with its last firing alert."""
    alerts = tuple(
        a.model_copy(update={"status": AlertStatus.RESOLVED, "last_seen": alert.received_at,
                             "count": a.count + 1})
        if a.fingerprint == alert.fingerprint else a
        for a in incident.alerts
    )  # fmt: skip
    note = TimelineEntry(at=now, kind="alert", text=f"{_where(alert)} resolved")
    changed = _with_alerts(incident, alerts, rules, note)
    if changed.firing:
        return changed
    return changed.model_copy(
        update={
            "status": IncidentStatus.RESOLVED,
            "resolved_at": now,
            "timeline": (
                *changed.timeline,
                TimelineEntry(
                    at=now, kind="resolved", text=f"resolved: all {len(alerts)} alerts resolved"
                ),
            ),
        }
    )


def reopen(incident: Incident, alert: Alert, rules: Rules, now: datetime) -> Incident:
    """`alert` fires again soon after `incident` resolved: the same problem, back again."""
    assert incident.resolved_at is not None  # noqa: S101 - callers reopen resolved incidents only
    quiet = now - incident.resolved_at
    reopened = incident.model_copy(
        update={
            "status": IncidentStatus.OPEN,
            "resolved_at": None,
            "timeline": (
                *incident.timeline,
                TimelineEntry(
                    at=now,
                    kind="reopened",
                    text=f"reopened by {_where(alert)}: {int(quiet.total_seconds())}s after it "
                    f"resolved, within the correlation window of "
                    f"{int(rules.correlation.window.total_seconds())}s",
                ),
            ),
        }
    )
    return add_firing(reopened, alert, rules, now)


def acknowledge(incident: Incident, alert: Alert, now: datetime) -> Incident:
    """The source says a person has taken `alert` (PagerDuty acknowledge, Nagios ACK)."""
    return incident.model_copy(
        update={
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "timeline": (
                *incident.timeline,
                TimelineEntry(
                    at=now,
                    kind="acknowledged",
                    text=f"acknowledged in {alert.source} ({_where(alert)}, {alert.source_id})",
                ),
            ),
            "version": incident.version + 1,
        }
    )


@dataclass(slots=True)
class Repeats:
    """Repeats of one member seen in a batch: counted, then applied once."""

    count: int
    last_seen: datetime


def count_repeats(incident: Incident, repeats: Mapping[str, Repeats]) -> Incident:
    """Repeats change nothing but members' counts and last-seen times (no new version)."""
    alerts = tuple(
        a.model_copy(
            update={"last_seen": max(a.last_seen, repeats[a.fingerprint].last_seen),
                    "count": a.count + repeats[a.fingerprint].count}
        )
        if a.fingerprint in repeats else a
        for a in incident.alerts
    )  # fmt: skip
    return incident.model_copy(update={"alerts": alerts})
