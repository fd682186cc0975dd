"""Incident events carry the incident without its rows; readers get it back whole, from
memory or from the store, on both backends."""

from __future__ import annotations

from core.bus import Stream
from core.incident_entries import incident_event_text, whole
from core.models import (
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentEventKind,
    IncidentsEntry,
    Priority,
    Severity,
    Tick,
    TimelineEntry,
)
from core.storage import Storage
from core.store import Changes
from core.store.known import INCIDENTS
from tests.conftest import T0


def _alert(n: int) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"f{n}", source="generic", source_id=f"f{n}", name="HostDown",
        resource=f"web-{n}", service="mail", severity=Severity.MAJOR, status=AlertStatus.FIRING,
        first_seen=T0, last_seen=T0, summary='"incident": {"id": "INC-666"}',
    )  # fmt: skip


def _incident(alerts: int, version: int = 1) -> Incident:
    return Incident(
        id="INC-41", key="k", title=',"incident":{}', severity=Severity.MAJOR,
        priority=Priority.P2, opened_at=T0, alerts=tuple(_alert(n) for n in range(alerts)),
        timeline=tuple(TimelineEntry(at=T0, kind="joined", text=f"f{n}") for n in range(alerts)),
        version=version,
    )  # fmt: skip


def _event(incident: Incident) -> IncidentEvent:
    return IncidentEvent(
        kind=IncidentEventKind.UPDATED, at=T0, incident=incident, priority_raised=True,
        reason=',"incident":{"id":"INC-1"}}',
    )  # fmt: skip


def test_an_entry_does_not_grow_with_its_incident() -> None:
    small, large = _incident(1), _incident(500)
    texts = [incident_event_text(_event(i), Changes().incident_record(i)) for i in (small, large)]
    assert len(texts[0]) == len(texts[1])
    entry = IncidentsEntry.model_validate_json(texts[1]).root
    assert isinstance(entry, IncidentEvent)
    assert entry.incident == large.model_copy(update={"alerts": (), "timeline": ()})
    assert entry.revision
    assert entry.reason == ',"incident":{"id":"INC-1"}}'


async def _announce(storage: Storage, incident: Incident) -> None:
    changes = Changes(incidents=[incident])
    text = incident_event_text(_event(incident), changes.incident_record(incident))
    changes.publish.append((Stream.INCIDENTS, text))
    await storage.store.commit(changes)


async def _entries(storage: Storage) -> list[IncidentsEntry]:
    read = await storage.bus.read(Stream.INCIDENTS, "reader", "r", 10)
    return [IncidentsEntry.model_validate_json(e.body) for e in read]


async def test_a_reader_gets_the_incident_whole_from_memory_or_from_the_store(
    storage: Storage,
) -> None:
    incident = _incident(3)
    await _announce(storage, incident)
    [entry] = await _entries(storage)
    assert (await whole(storage.store, entry)).root == _event(incident).model_copy(
        update={"revision": getattr(entry.root, "revision", "")}
    )
    # Another process remembers nothing: the rows come from the store.
    INCIDENTS.clear()
    again = (await whole(storage.store, entry)).root
    assert isinstance(again, IncidentEvent)
    assert again.incident == incident


async def test_a_reader_behind_the_store_gets_the_newer_rows(storage: Storage) -> None:
    await _announce(storage, _incident(2))
    newer = _incident(5, version=2)
    await _announce(storage, newer)
    first, _ = await _entries(storage)
    INCIDENTS.clear()
    read = (await whole(storage.store, first)).root
    assert isinstance(read, IncidentEvent)
    # What the event said (version 1), with the alerts and timeline the store holds now.
    assert read.incident.version == 1
    assert read.incident.alerts == newer.alerts
    assert read.incident.timeline == newer.timeline


async def test_entries_without_a_revision_carry_their_incident_whole(storage: Storage) -> None:
    event = _event(_incident(2))
    entry = IncidentsEntry.model_validate_json(event.model_dump_json())
    assert (await whole(storage.store, entry)).root == event
    tick = IncidentsEntry(Tick(at=T0))
    assert (await whole(storage.store, tick)).root == tick.root
