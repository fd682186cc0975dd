"""Incident events as entries of the `incidents` stream: the incident without its rows.

A storm's incident changes with every alert that joins it, and it holds thousands of alerts.
An entry therefore carries the incident without its alerts and timeline, with the revision
under which the store keeps them (`core.store.incident_rows`). A reader takes them back with
`read_incidents_entries`: from this process's memory of that revision when it has it (every
stage of one process), else from the store. The store may by then hold a newer revision; its
alerts and timeline are then the newer ones, which is what a ticket or a message would show
anyway. An entry without a revision carries its incident whole.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.bus import Entry
from core.models import IncidentEvent, IncidentsEntry
from core.runtime import decode
from core.store import Store
from core.store.known import INCIDENTS, ROWS, revision_of


def incident_event_text(event: IncidentEvent, record: str) -> str:
    """The entry of `event`, whose incident the same commit stores as `record`."""
    announced = event.model_copy(update={"revision": revision_of(record)})
    return announced.model_dump_json(exclude={"incident": ROWS})


async def whole(store: Store, entry: IncidentsEntry) -> IncidentsEntry:
    """`entry` with its incident's alerts and timeline back in it."""
    event = entry.root
    if not isinstance(event, IncidentEvent) or not event.revision:
        return entry
    incident = INCIDENTS.find(event.revision)
    if incident is None:
        stored = await store.get_incident(event.incident.id)
        if stored is None:
            return entry
        record = INCIDENTS.record_of(stored)
        if record is not None and revision_of(record) == event.revision:
            incident = stored
        else:
            incident = event.incident.model_copy(
                update={"alerts": stored.alerts, "timeline": stored.timeline}
            )
    return IncidentsEntry(event.model_copy(update={"incident": incident}))


async def read_incidents_entries(
    store: Store, entries: Sequence[Entry]
) -> tuple[list[tuple[Entry, IncidentsEntry]], list[Entry]]:
    """`decode(entries, IncidentsEntry)` for a reader of the `incidents` stream: the good
    entries with their incidents whole, and the ones that never will parse."""
    decoded, bad = decode(entries, IncidentsEntry)
    return [(entry, await whole(store, read)) for entry, read in decoded], bad
