"""Reading all of an incident's alerts or timeline, page by page, for the few readers that
need all of it (replay's record, the daily report, acknowledging back to a source)."""

from __future__ import annotations

from core.models import IncidentAlert, TimelineEntry
from core.store import Store

PAGE = 1000


async def all_alerts(store: Store, incident_id: str) -> list[IncidentAlert]:
    """Every alert of the incident, in the order they joined."""
    found: list[IncidentAlert] = []
    after: int | None = 0
    while after is not None:
        page, after = await store.members_page(incident_id, after, PAGE)
        found += page
    return found


async def all_timeline(store: Store, incident_id: str) -> list[TimelineEntry]:
    """The incident's whole timeline, in order."""
    found: list[TimelineEntry] = []
    after: int | None = 0
    while after is not None:
        page, after = await store.timeline_page(incident_id, after, PAGE)
        found += page
    return found
