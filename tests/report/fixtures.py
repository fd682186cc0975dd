"""Small hand-made report data: incidents, tickets with SLA targets and alert volumes over
eight days, built so each figure can be worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.models import (
    AlertRole,
    AlertStatus,
    AlertVolume,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Priority,
    Severity,
    SlaBreach,
    SlaTarget,
    Suppression,
    Ticket,
    TimelineEntry,
)
from report.data import ReportData
from report.window import ReportWindow

MADRID = ZoneInfo("Europe/Madrid")
DAY = date(2026, 11, 20)
WINDOW = ReportWindow(DAY, time(9), MADRID)
END = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
"""09:00 in Madrid (UTC+1 in November): the report time."""
HOSTILE = '<script>alert("x")</script>"><img src=x onerror=alert(1)>'


def at(hours_before_end: float) -> datetime:
    return END - timedelta(hours=hours_before_end)


def alert(name: str, resource: str, *, flapping: bool = False, count: int = 1) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"{name}-{resource}", source="zabbix", source_id=resource, name=name,
        resource=resource, service="", severity=Severity.MAJOR, status=AlertStatus.FIRING,
        role=AlertRole.MEMBER, first_seen=END, last_seen=END, count=count, flapping=flapping,
    )  # fmt: skip


def incident(
    number: int,
    opened: float,
    *,
    acknowledged: float | None = None,
    resolved: float | None = None,
    priority: Priority = Priority.P3,
    service: str = "email",
    group: str = "sistemas",
    name: str = "Down",
    **update: object,
) -> Incident:
    """Incident INC-`number`, its times given as hours before the report time."""
    status = IncidentStatus.OPEN
    if acknowledged is not None:
        status = IncidentStatus.ACKNOWLEDGED
    if resolved is not None:
        status = IncidentStatus.RESOLVED
    made = Incident(
        id=f"INC-{number}", key=f"k{number}", title=f"{name} on host-{number}",
        status=status, severity=Severity.MAJOR, priority=priority, service=service,
        group=group, opened_at=at(opened),
        acknowledged_at=None if acknowledged is None else at(acknowledged),
        resolved_at=None if resolved is None else at(resolved),
        runbook="restart", sample=(alert(name, f"host-{number}"),), alert_count=1,
        title_name=name,
    )  # fmt: skip
    return made.model_copy(update=update)


def ticket(number: int, created: float, **update: object) -> Ticket:
    made = Ticket(
        id=f"TKT-{number}", incident_id=f"INC-{number}", backend="builtin",
        title=f"ticket {number}", priority=Priority.P2, created_at=at(created),
        updated_at=at(created), group="sistemas",
    )  # fmt: skip
    return made.model_copy(update=update)


def volume(
    hours_before_end: float, source: str, name: str, received: int, **counts: int
) -> AlertVolume:
    hour = at(hours_before_end).replace(minute=0, second=0, microsecond=0)
    return AlertVolume(hour=hour, source=source, name=name, received=received, **counts)


def sample() -> ReportData:
    """The day (the last 24 hours) and the seven before it."""
    incidents = [
        # The day: opened 4, one merged away, one acknowledged after 30 min, two resolved.
        incident(1, 20, acknowledged=19.5, resolved=18, priority=Priority.P1,
                 service="portal", group="aplicaciones"),
        incident(2, 10, resolved=9, runbook=""),
        incident(3, 5, acknowledged=4, title=HOSTILE, runbook="", flapping_count=1),
        incident(4, 3, resolved=3, merged_into="INC-1"),
        # Open since two days: in the backlog, aged 48 h.
        incident(5, 48, priority=Priority.P2, crisis=True, crisis_rule="mass-outage",
                 crisis_declared_at=at(47)),
        # The day before: opened 2 (one resolved after 60 min), nothing open from it.
        incident(6, 30, resolved=29),
        incident(7, 40, resolved=39.5, name="Flap", flapping_count=1),
        # Earlier in the week: the same Down alert again, for the recurring list.
        incident(8, 100, resolved=99),
    ]  # fmt: skip
    tickets = [
        # Response met in the day; resolution missed in the day (breach noticed).
        ticket(1, 20, response_due_at=at(19), responded_at=at(19.5),
               resolution_due_at=at(16), resolved_at=at(15),
               breaches=(SlaBreach(target=SlaTarget.RESOLUTION, due_at=at(16),
                                   noticed_at=at(16)),)),
        # Response missed in the day, never responded.
        ticket(2, 10, response_due_at=at(9),
               breaches=(SlaBreach(target=SlaTarget.RESPONSE, due_at=at(9), noticed_at=at(9)),)),
        # Response met the day before.
        ticket(6, 30, response_due_at=at(29), responded_at=at(29.5)),
        # Due tomorrow and not met yet: counts nowhere today.
        ticket(3, 5, response_due_at=at(-2)),
    ]  # fmt: skip
    volumes = [
        volume(20, "zabbix", "Down", 10, deduplicated=4),
        volume(10, "zabbix", "Down", 6, deduplicated=2, suppressed=1),
        volume(5, "alertmanager", "HighLoad", 30, deduplicated=25),
        volume(30, "zabbix", "Down", 8, deduplicated=1),  # the day before
        volume(100, "zabbix", "Down", 20),  # four days before
    ]
    suppressions = [
        Suppression(at=at(10), fingerprint="f", source="zabbix", source_id="s", name="Down",
                    resource="host-9", service="email", by="silence:s1", reason="lab"),
    ]  # fmt: skip
    return ReportData(
        tuple(incidents), tuple(tickets), tuple(volumes), tuple(suppressions),
        flapping_alerts={
            "INC-3": (alert("Down", "host-3", flapping=True, count=9),),
            "INC-7": (alert("Flap", "host-7", flapping=True, count=9),),
        },
        crisis_timelines={
            "INC-5": (TimelineEntry(at=at(48), kind="opened", text="opened"),
                      TimelineEntry(at=at(47), kind="crisis", text=HOSTILE)),
        },
    )  # fmt: skip
