"""The embedded store: atomic commits and the uniqueness rules that keep effects exactly-once."""

from __future__ import annotations

import pytest

from core.bus import Stream
from core.models import Incident, IncidentStatus, Priority, Severity, Ticket
from core.storage import Storage
from core.store import Ack, Changes, ConflictError, IncidentFilter
from tests.conftest import T0


def _incident(incident_id: str, key: str = "k") -> Incident:
    return Incident(
        id=incident_id, key=key, title="t", severity=Severity.MAJOR, priority=Priority.P2,
        opened_at=T0,
    )  # fmt: skip


def _ticket(ticket_id: str, incident_id: str) -> Ticket:
    return Ticket(
        id=ticket_id, incident_id=incident_id, backend="builtin", title="t",
        priority=Priority.P2, created_at=T0, updated_at=T0,
    )  # fmt: skip


async def test_ids_are_never_repeated(storage: Storage) -> None:
    ids = [await storage.store.next_id("INC") for _ in range(3)]
    assert ids == ["INC-1", "INC-2", "INC-3"]


async def test_one_open_incident_per_key(storage: Storage) -> None:
    await storage.store.commit(Changes(incidents=[_incident("INC-1")]))
    with pytest.raises(ConflictError):
        await storage.store.commit(Changes(incidents=[_incident("INC-2")]))
    resolved = _incident("INC-1").model_copy(update={"status": IncidentStatus.RESOLVED})
    await storage.store.commit(Changes(incidents=[resolved, _incident("INC-2")]))
    found = await storage.store.open_incident_for_key("k")
    assert found is not None
    assert found.id == "INC-2"


async def test_one_ticket_per_incident_and_backend(storage: Storage) -> None:
    await storage.store.commit(Changes(tickets=[_ticket("TKT-1", "INC-1")]))
    with pytest.raises(ConflictError):
        await storage.store.commit(Changes(tickets=[_ticket("TKT-2", "INC-1")]))
    assert [t.id for t in await storage.store.list_tickets()] == ["TKT-1"]


async def test_a_failed_commit_publishes_and_acknowledges_nothing(storage: Storage) -> None:
    bus, store = storage.bus, storage.store
    await bus.publish(Stream.ALERTS, ["a"])
    [entry] = await bus.read(Stream.ALERTS, "g", "w", 10)
    await store.commit(Changes(incidents=[_incident("INC-1")]))
    doomed = Changes(
        incidents=[_incident("INC-2")],
        publish=[(Stream.INCIDENTS, "event")],
        acks=[Ack(Stream.ALERTS, "g", (entry.id,))],
    )
    with pytest.raises(ConflictError):
        await store.commit(doomed)
    assert await bus.read(Stream.INCIDENTS, "t", "w", 10) == []
    lags = {(lag.stream, lag.group): lag for lag in await bus.backlog()}
    assert lags[Stream.ALERTS, "g"].pending == 1
    assert await store.get_incident("INC-2") is None


async def test_incidents_filter_by_status(storage: Storage) -> None:
    resolved = _incident("INC-1", "a").model_copy(update={"status": IncidentStatus.RESOLVED})
    await storage.store.commit(Changes(incidents=[resolved, _incident("INC-2", "b")]))
    found = await storage.store.list_incidents(IncidentFilter(status=IncidentStatus.OPEN))
    assert [i.id for i in found] == ["INC-2"]
