"""The daily report computed from data: a pure function, no storage and no clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from core.holders import holdings
from core.models import Incident, Priority
from report import measures as m
from report.data import ReportData
from report.model import (
    AlertsSection,
    BacklogSection,
    Breach,
    Breakdown,
    Crisis,
    DailyReport,
    FlappingCheck,
    HeldLine,
    HourVolume,
    IncidentLine,
    IncidentsSection,
    NoisyAlert,
    ProblemCandidate,
    SlaSection,
    SourceVolume,
)
from report.window import ReportWindow

HOUR = timedelta(hours=1)
RECURRING_DAYS = 7
AGE_BANDS: tuple[tuple[str, timedelta], ...] = (
    ("under_4h", timedelta(hours=4)),
    ("4h_to_1d", timedelta(days=1)),
    ("1d_to_3d", timedelta(days=3)),
    ("3d_to_7d", timedelta(days=7)),
)
OLDEST_BAND = "over_7d"
"""Age bands of the open backlog, by their upper bound; their names are template keys."""


def compute_daily(
    data: ReportData,
    window: ReportWindow,
    generated_at: datetime,
    *,
    top: int = 10,
    recurring_min: int = 3,
) -> DailyReport:
    """The report of `window` from `data` (read by `report.data.read_report_data`)."""
    return DailyReport(
        date=window.day,
        start=window.start,
        end=window.end,
        timezone=str(window.zone),
        generated_at=generated_at,
        alerts=_alerts(data, window),
        incidents=_incidents(data, window),
        backlog=_backlog(data, window, top),
        sla=_sla(data, window),
        crises=_crises(data, window),
        noisiest=_noisiest(data, window, top),
        flapping=_flapping(data, window, top),
        problem_candidates=_recurring(data, window, recurring_min, top),
        without_runbook=tuple(
            _line(i, window)
            for i in sorted(m.real(data.incidents), key=lambda i: (i.opened_at, i.id))
            if m.within(i.opened_at, window) and not i.runbook
        ),
    )


def _alerts(data: ReportData, window: ReportWindow) -> AlertsSection:
    sources = sorted({v.source for v in m.volumes_in(data, window)})
    by_source = [
        SourceVolume(
            source=source,
            received=m.compare(m.by_source(source, "received"), data, window),
            deduplicated=m.compare(m.by_source(source, "deduplicated"), data, window),
            suppressed=m.compare(m.by_source(source, "suppressed"), data, window),
        )
        for source in sources
    ]
    by_silence = Counter(s.by for s in data.suppressions if m.within(s.at, window))
    return AlertsSection(
        received=m.compare(m.received, data, window),
        deduplicated=m.compare(m.deduplicated, data, window),
        suppressed=m.compare(m.suppressed, data, window),
        incidents=m.compare(m.opened, data, window),
        compression=m.compare(m.compression, data, window),
        by_source=tuple(sorted(by_source, key=lambda s: -(s.received.value or 0))),
        suppressed_by=tuple(by_silence.most_common()),
        by_hour=tuple(_hours(data, window)),
    )


def _hours(data: ReportData, window: ReportWindow) -> list[HourVolume]:
    incidents = m.real(data.incidents)
    hours = []
    start = window.start.replace(minute=0, second=0, microsecond=0)
    while start < window.end:
        end = start + HOUR
        volumes = [v for v in data.volumes if start <= v.hour < end]
        hours.append(
            HourVolume(
                hour=start,
                received=sum(v.received for v in volumes),
                deduplicated=sum(v.deduplicated for v in volumes),
                suppressed=sum(v.suppressed for v in volumes),
                incidents_opened=sum(1 for i in incidents if start <= i.opened_at < end),
                backlog=sum(1 for i in incidents if m.open_at(i, min(end, window.end))),
            )
        )
        start = end
    return hours


def _breakdown(
    incidents: list[Incident], window: ReportWindow, key: Callable[[Incident], str]
) -> tuple[Breakdown, ...]:
    opened = Counter(key(i) for i in incidents if m.within(i.opened_at, window))
    resolved = Counter(key(i) for i in incidents if m.within(i.resolved_at, window))
    names = sorted(opened.keys() | resolved.keys(), key=lambda n: (-opened[n], -resolved[n], n))
    return tuple(Breakdown(name=n, opened=opened[n], resolved=resolved[n]) for n in names)


def _incidents(data: ReportData, window: ReportWindow) -> IncidentsSection:
    incidents = m.real(data.incidents)
    by_priority = _breakdown(incidents, window, lambda i: i.priority.value)
    return IncidentsSection(
        opened=m.compare(m.opened, data, window),
        resolved=m.compare(m.resolved, data, window),
        merged=sum(
            1 for i in data.incidents if i.merged_into is not None and m.within(i.opened_at, window)
        ),
        by_priority=tuple(sorted(by_priority, key=lambda b: b.name)),
        by_service=_breakdown(incidents, window, lambda i: i.service),
        by_group=_breakdown(incidents, window, lambda i: i.group),
        mtta_minutes=m.compare(m.mtta, data, window),
        mttr_minutes=m.compare(m.mttr, data, window),
    )


def _line(incident: Incident, window: ReportWindow) -> IncidentLine:
    return IncidentLine(
        id=incident.id,
        title=incident.title,
        priority=incident.priority,
        status=incident.status.value,
        service=incident.service,
        group=incident.group,
        opened_at=incident.opened_at,
        age_hours=round((window.end - incident.opened_at).total_seconds() / 3600, 1),
    )


def _band(age: timedelta) -> str:
    return next((name for name, upper in AGE_BANDS if age < upper), OLDEST_BAND)


BUILTIN = "builtin"
"""The ticket Sereno keeps itself; the external backends' copies repeat its history."""


def _held(data: ReportData, still_open: list[Incident], window: ReportWindow) -> list[HeldLine]:
    """Who holds each open incident's ticket at the report time, and since when."""
    tickets = {t.incident_id: t for t in data.tickets if t.backend == BUILTIN}
    lines: list[HeldLine] = []
    for incident in still_open:
        ticket = tickets.get(incident.id)
        if ticket is None:
            continue
        spans = [s for s in holdings(ticket) if s.since <= window.end]
        if not spans:
            continue
        span = spans[-1]
        lines.append(HeldLine(
            holder=span.holder, group=span.group or incident.group, id=incident.id,
            title=incident.title, priority=incident.priority, held_since=span.since,
            held_hours=round((window.end - span.since).total_seconds() / 3600, 1), by=span.note,
        ))  # fmt: skip
    return sorted(lines, key=lambda h: (h.holder, -h.held_hours, h.id))


def _backlog(data: ReportData, window: ReportWindow, top: int) -> BacklogSection:
    still_open = sorted(
        (i for i in m.real(data.incidents) if m.open_at(i, window.end)),
        key=lambda i: (i.opened_at, i.id),
    )
    priorities = Counter(i.priority for i in still_open)
    ages = Counter(_band(window.end - i.opened_at) for i in still_open)
    return BacklogSection(
        open=m.compare(m.backlog, data, window),
        by_priority=tuple((p, priorities[p]) for p in Priority if priorities[p]),
        by_age=tuple((name, ages[name]) for name in (*(n for n, _ in AGE_BANDS), OLDEST_BAND)),
        oldest=tuple(_line(i, window) for i in still_open[:top]),
        by_holder=tuple(_held(data, still_open, window)),
    )


def _sla(data: ReportData, window: ReportWindow) -> SlaSection:
    response_settled, response_met = m.response_counts(data, window)
    resolution_settled, resolution_met = m.resolution_counts(data, window)
    breaches = [
        Breach(
            ticket_id=t.id, incident_id=t.incident_id, title=t.title, priority=t.priority,
            group=t.group, target=b.target, due_at=b.due_at, noticed_at=b.noticed_at,
        )
        for t in m.sla_tickets(data)
        for b in t.breaches
        if m.within(b.noticed_at, window)
    ]  # fmt: skip
    merged = m.merged_incidents(data)
    left_out = sum(
        1 for t in data.tickets
        if t.incident_id in merged
        and (m.response_outcome(t, window) is not None
             or m.resolution_outcome(t, window) is not None
             or any(m.within(b.noticed_at, window) for b in t.breaches))
    )  # fmt: skip
    return SlaSection(
        response_settled=response_settled,
        response_met=response_met,
        response_compliance=m.compare(m.response_compliance, data, window),
        resolution_settled=resolution_settled,
        resolution_met=resolution_met,
        resolution_compliance=m.compare(m.resolution_compliance, data, window),
        breaches=tuple(sorted(breaches, key=lambda b: (b.due_at, b.ticket_id, b.target))),
        merged_left_out=left_out,
    )


def _crises(data: ReportData, window: ReportWindow) -> tuple[Crisis, ...]:
    crises = [
        i
        for i in data.incidents
        if i.crisis
        and i.crisis_declared_at is not None
        and i.crisis_declared_at < window.end
        and (i.resolved_at is None or i.resolved_at >= window.start)
    ]
    return tuple(
        Crisis(
            id=i.id, title=i.title, priority=i.priority, service=i.service, rule=i.crisis_rule,
            declared_at=i.crisis_declared_at, resolved_at=i.resolved_at,
            timeline=tuple(e for e in data.crisis_timelines.get(i.id, ()) if e.at < window.end),
        )
        # The worst first: a page shows the first few of a bad day's many.
        for i in sorted(crises, key=lambda i: (i.priority, i.opened_at, i.id))
    )  # fmt: skip


def _noisiest(data: ReportData, window: ReportWindow, top: int) -> tuple[NoisyAlert, ...]:
    totals: dict[tuple[str, str], Counter[str]] = {}
    for v in m.volumes_in(data, window):
        counts = totals.setdefault((v.source, v.name), Counter())
        counts.update(received=v.received, deduplicated=v.deduplicated, suppressed=v.suppressed)
    ranked = sorted(totals.items(), key=lambda item: (-item[1]["received"], item[0]))
    return tuple(
        NoisyAlert(source=source, name=name, received=c["received"],
                   deduplicated=c["deduplicated"], suppressed=c["suppressed"])
        for (source, name), c in ranked[:top]
    )  # fmt: skip


def _touched(incidents: Iterable[Incident], window: ReportWindow) -> list[Incident]:
    """Incidents open at some moment of the window."""
    return [
        i
        for i in incidents
        if i.opened_at < window.end and (i.resolved_at is None or i.resolved_at >= window.start)
    ]


def _flapping(data: ReportData, window: ReportWindow, top: int) -> tuple[FlappingCheck, ...]:
    checks = [
        FlappingCheck(source=a.source, name=a.name, resource=a.resource, incident_id=i.id,
                      count=a.count)
        for i in _touched(data.incidents, window)
        for a in data.flapping_alerts.get(i.id, ())
    ]  # fmt: skip
    return tuple(sorted(checks, key=lambda c: (-c.count, c.name, c.resource))[:top])


def _recurring(
    data: ReportData, window: ReportWindow, at_least: int, top: int
) -> tuple[ProblemCandidate, ...]:
    since = window.end - timedelta(days=RECURRING_DAYS)
    recent = sorted(
        (i for i in m.real(data.incidents) if since <= i.opened_at < window.end),
        key=lambda i: (i.opened_at, i.id),
    )
    groups: dict[tuple[str, str], list[Incident]] = {}
    for incident in recent:
        if incident.service:
            groups.setdefault(("service", incident.service), []).append(incident)
        if incident.title_name:
            groups.setdefault(("alert", incident.title_name), []).append(incident)
    candidates = [
        ProblemCandidate(
            kind=kind, name=name, incidents=len(found), incident_ids=tuple(i.id for i in found),
            last_opened_at=found[-1].opened_at,
        )
        for (kind, name), found in groups.items()
        if len(found) >= at_least
    ]  # fmt: skip
    return tuple(sorted(candidates, key=lambda c: (-c.incidents, c.kind, c.name))[:top])
