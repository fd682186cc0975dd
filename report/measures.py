"""The day's measures, each a pure function of the data and one window, so the same
measure can be taken for the day before and the seven days before to compare."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from statistics import fmean

from core.models import AlertVolume, Incident, Ticket
from report.data import ReportData
from report.model import Figure
from report.window import ReportWindow

Measure = Callable[[ReportData, ReportWindow], float | None]
COMPARED_DAYS = 7


def within(moment: datetime | None, window: ReportWindow) -> bool:
    return moment is not None and window.start <= moment < window.end


def real(incidents: Iterable[Incident]) -> list[Incident]:
    """Incidents that are problems of their own, not duplicates merged into another."""
    return [i for i in incidents if i.merged_into is None]


def volumes_in(data: ReportData, window: ReportWindow) -> list[AlertVolume]:
    return [v for v in data.volumes if within(v.hour, window)]


def open_at(incident: Incident, moment: datetime) -> bool:
    """Whether `incident` was open (not yet resolved) at `moment`."""
    return incident.opened_at < moment and (
        incident.resolved_at is None or incident.resolved_at >= moment
    )


def compare(measure: Measure, data: ReportData, window: ReportWindow) -> Figure:
    """`measure` of `window`, of the window before and the mean of the seven before."""
    before = [measure(data, window.shifted(-days)) for days in range(1, COMPARED_DAYS + 1)]
    known = [b for b in before if b is not None]
    return Figure(
        value=measure(data, window),
        previous=before[0],
        average_7d=round(fmean(known), 2) if known else None,
    )


def received(data: ReportData, window: ReportWindow) -> float:
    return sum(v.received for v in volumes_in(data, window))


def deduplicated(data: ReportData, window: ReportWindow) -> float:
    return sum(v.deduplicated for v in volumes_in(data, window))


def suppressed(data: ReportData, window: ReportWindow) -> float:
    return sum(v.suppressed for v in volumes_in(data, window))


def opened(data: ReportData, window: ReportWindow) -> float:
    return sum(1 for i in real(data.incidents) if within(i.opened_at, window))


def resolved(data: ReportData, window: ReportWindow) -> float:
    return sum(1 for i in real(data.incidents) if within(i.resolved_at, window))


def compression(data: ReportData, window: ReportWindow) -> float | None:
    """Alerts received per incident opened; None on a day without incidents."""
    incidents = opened(data, window)
    return round(received(data, window) / incidents, 2) if incidents else None


def backlog(data: ReportData, window: ReportWindow) -> float:
    return sum(1 for i in real(data.incidents) if open_at(i, window.end))


def _mean_minutes(spans: list[timedelta]) -> float | None:
    return round(fmean(s.total_seconds() / 60 for s in spans), 1) if spans else None


def mtta(data: ReportData, window: ReportWindow) -> float | None:
    """Mean minutes from opening to acknowledgement, of incidents acknowledged in the window."""
    return _mean_minutes(
        [i.acknowledged_at - i.opened_at for i in real(data.incidents)
         if i.acknowledged_at is not None and within(i.acknowledged_at, window)]
    )  # fmt: skip


def mttr(data: ReportData, window: ReportWindow) -> float | None:
    """Mean minutes from opening to resolution, of incidents resolved in the window."""
    return _mean_minutes(
        [i.resolved_at - i.opened_at for i in real(data.incidents)
         if i.resolved_at is not None and within(i.resolved_at, window)]
    )  # fmt: skip


def settled(due: datetime | None, done: datetime | None, window: ReportWindow) -> bool | None:
    """Whether a target due at `due` and met at `done` (None: not yet) was met (True) or
    missed (False) within `window`; None when it was neither. Each target is counted once,
    on the day it was met, or else on the day it fell due."""
    if due is None:
        return None
    if done is not None and done <= due:
        return True if within(done, window) else None
    return False if within(due, window) else None


def sla_tickets(data: ReportData) -> list[Ticket]:
    """The tickets whose SLA the report counts, in compliance and breaches alike. Those of
    incidents merged into their cause are left out: the cause's ticket carries the work,
    and a duplicate closed as such was never going to be answered on its own."""
    merged = merged_incidents(data)
    return [t for t in data.tickets if t.incident_id not in merged]


def merged_incidents(data: ReportData) -> set[str]:
    return {i.id for i in data.incidents if i.merged_into is not None}


def _compliance(
    tickets: Iterable[Ticket], target: Callable[[Ticket], bool | None]
) -> tuple[int, int]:
    outcomes = [target(t) for t in tickets]
    settled_count = sum(1 for o in outcomes if o is not None)
    return settled_count, sum(1 for o in outcomes if o is True)


def response_outcome(ticket: Ticket, window: ReportWindow) -> bool | None:
    """A ticket resolved before anyone acknowledged it was answered by its resolution, as
    the ticketer sees it: no breach is recorded once a ticket is closed."""
    answered = [t for t in (ticket.responded_at, ticket.resolved_at) if t is not None]
    return settled(ticket.response_due_at, min(answered, default=None), window)


def resolution_outcome(ticket: Ticket, window: ReportWindow) -> bool | None:
    return settled(ticket.resolution_due_at, ticket.resolved_at, window)


def response_counts(data: ReportData, window: ReportWindow) -> tuple[int, int]:
    """(targets settled, targets met) of SLA responses in the window."""
    return _compliance(sla_tickets(data), lambda t: response_outcome(t, window))


def resolution_counts(data: ReportData, window: ReportWindow) -> tuple[int, int]:
    return _compliance(sla_tickets(data), lambda t: resolution_outcome(t, window))


def _percent(counts: tuple[int, int]) -> float | None:
    total, met = counts
    return round(100 * met / total, 1) if total else None


def response_compliance(data: ReportData, window: ReportWindow) -> float | None:
    return _percent(response_counts(data, window))


def resolution_compliance(data: ReportData, window: ReportWindow) -> float | None:
    return _percent(resolution_counts(data, window))


def by_source(source: str, field: str) -> Measure:
    """The count `field` of the alerts of `source`."""

    def measure(data: ReportData, window: ReportWindow) -> float:
        return sum(int(getattr(v, field)) for v in volumes_in(data, window) if v.source == source)

    return measure
