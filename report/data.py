"""What the daily report is computed from, read from the store in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.models import AlertVolume, Incident, IncidentAlert, Suppression, Ticket, TimelineEntry
from core.store import IncidentFilter, Store
from core.store.pages import all_alerts, all_timeline
from report.window import ReportWindow

LOOK_BACK = timedelta(days=30)
"""Incidents and tickets older than this play no part in a report (the 7-day comparisons
need 8 days; the rest is margin for long-open ones, which are read whatever their age)."""
MAX_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class ReportData:
    incidents: tuple[Incident, ...]
    tickets: tuple[Ticket, ...]
    volumes: tuple[AlertVolume, ...]
    suppressions: tuple[Suppression, ...]
    flapping_alerts: dict[str, tuple[IncidentAlert, ...]]
    """The flapping alerts of each incident that has some."""
    crisis_timelines: dict[str, tuple[TimelineEntry, ...]]
    """The timeline of each crisis."""


async def read_report_data(store: Store, window: ReportWindow) -> ReportData:
    """Everything the report of `window` and its comparisons need."""
    since = window.end - LOOK_BACK
    recent = await store.list_incidents(IncidentFilter(opened_since=since, limit=MAX_ROWS))
    still_open = await store.list_incidents(IncidentFilter(open_only=True, limit=MAX_ROWS))
    incidents = {i.id: i for i in (*still_open, *recent)}
    tickets = [t for t in await store.list_tickets(MAX_ROWS) if t.created_at >= since]
    volumes = await store.alert_volumes(window.shifted(-7).start, window.end)
    suppressions = [
        s for s in await store.list_suppressions(MAX_ROWS) if since <= s.at < window.end
    ]
    flapping = {
        i.id: tuple(a for a in await all_alerts(store, i.id) if a.flapping)
        for i in incidents.values()
        if i.flapping_count
    }
    timelines = {
        i.id: tuple(await all_timeline(store, i.id)) for i in incidents.values() if i.crisis
    }
    return ReportData(
        flapping_alerts=flapping,
        crisis_timelines=timelines,
        incidents=tuple(incidents.values()),
        tickets=tuple(tickets),
        volumes=tuple(volumes),
        suppressions=tuple(suppressions),
    )
