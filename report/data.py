"""What the daily report is computed from, read from the store in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.models import AlertVolume, Incident, Suppression, Ticket
from core.store import IncidentFilter, Store
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
    return ReportData(
        incidents=tuple(incidents.values()),
        tickets=tuple(tickets),
        volumes=tuple(volumes),
        suppressions=tuple(suppressions),
    )
