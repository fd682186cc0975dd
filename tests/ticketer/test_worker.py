"""The ticketer against real storage: one ticket per incident, whatever is redelivered."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.metrics import make_runtime_metrics, make_ticketer_metrics
from core.models import (
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Severity,
    TicketStatus,
)
from core.rules import Rules, RulesRef
from core.runtime import drain, step
from core.storage import Storage
from core.store import Store
from tests.conftest import T0
from tests.racing import RacingStore
from ticketer.texts import TicketTexts
from ticketer.worker import TicketerStage


def _incident(version: int, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    member = IncidentAlert(
        fingerprint="f", source="generic", source_id="f", name="HostDown", resource="web-1",
        service="mail", severity=Severity.MAJOR, status=AlertStatus.FIRING, first_seen=T0,
        last_seen=T0,
    )  # fmt: skip
    return Incident(
        id="INC-7", key="k", title="HostDown on web-1", severity=Severity.MAJOR,
        priority=Priority.P2, service="mail", opened_at=T0, sample=(member,), alert_count=1,
        version=version,
        status=status,
    )  # fmt: skip


def _event(kind: IncidentEventKind, incident: Incident) -> str:
    return IncidentEvent(kind=kind, at=T0, incident=incident).model_dump_json()


async def test_redelivered_and_repeated_events_make_one_ticket(storage: Storage) -> None:
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    clock = VirtualClock(T0)
    stage = TicketerStage(
        storage.store,
        RulesRef(Rules()),
        clock,
        "http://sereno",
        make_ticketer_metrics(registry),
        runtime,
        texts=TicketTexts("en", "Europe/Madrid"),
    )
    opened = _event(IncidentEventKind.OPENED, _incident(1))
    await storage.bus.publish(Stream.INCIDENTS, [opened, opened])
    await drain([stage], storage.bus, runtime)
    await storage.bus.publish(Stream.INCIDENTS, [opened])
    clock.advance(timedelta(minutes=5))
    resolved = _event(IncidentEventKind.RESOLVED, _incident(2, IncidentStatus.RESOLVED))
    await storage.bus.publish(Stream.INCIDENTS, [resolved, opened, resolved])
    await drain([stage], storage.bus, runtime)

    [ticket] = await storage.store.list_tickets()
    assert ticket.incident_id == "INC-7"
    assert ticket.status is TicketStatus.RESOLVED
    assert ticket.resolved_at == T0 + timedelta(minutes=5)
    assert [(c.field, c.new) for c in ticket.history] == [
        ("status", "open"),
        ("status", "resolved"),
    ]
    assert "Affected resources (1):\n- web-1" in ticket.description
    assert "http://sereno/incidents/INC-7" in ticket.description
    events = await storage.bus.read(Stream.TICKETS, "probe", "p", 100)
    assert len(events) == 2  # created, resolved: repeats publish nothing


async def test_two_ticketers_racing_on_one_incident_make_one_ticket(storage: Storage) -> None:
    runtime = make_runtime_metrics(CollectorRegistry())

    def ticketer(store: Store) -> TicketerStage:
        metrics = make_ticketer_metrics(CollectorRegistry())
        return TicketerStage(
            store, RulesRef(Rules()), VirtualClock(T0), "http://sereno", metrics, runtime,
            texts=TicketTexts("en", "Europe/Madrid"),
        )  # fmt: skip

    opened = _event(IncidentEventKind.OPENED, _incident(1))
    updated = _event(IncidentEventKind.UPDATED, _incident(2))
    await storage.bus.publish(Stream.INCIDENTS, [opened, updated])
    # One ticketer holds the `opened` event and finds no ticket; before it commits, the
    # other handles `updated`, finds no ticket either, and creates one.
    rival = ticketer(storage.store)
    racing = RacingStore(storage.store, lambda: step(rival, storage.bus, "two", runtime, batch=1))
    assert await step(ticketer(racing), storage.bus, "one", runtime, batch=1) == 1

    [ticket] = await storage.store.list_tickets()
    assert ticket.incident_version == 2  # the older event changed nothing once re-read
    assert racing.commits == 2
    events = await storage.bus.read(Stream.TICKETS, "probe", "p", 100)
    assert len(events) == 1


async def test_a_ticketer_holding_an_older_event_never_turns_a_ticket_back(
    storage: Storage,
) -> None:
    runtime = make_runtime_metrics(CollectorRegistry())

    def ticketer(store: Store) -> TicketerStage:
        metrics = make_ticketer_metrics(CollectorRegistry())
        return TicketerStage(
            store, RulesRef(Rules()), VirtualClock(T0), "http://sereno", metrics, runtime,
            texts=TicketTexts("en", "Europe/Madrid"),
        )  # fmt: skip

    await storage.bus.publish(Stream.INCIDENTS, [_event(IncidentEventKind.OPENED, _incident(1))])
    await drain([ticketer(storage.store)], storage.bus, runtime)
    resolved = _incident(3, IncidentStatus.RESOLVED)
    await storage.bus.publish(
        Stream.INCIDENTS,
        [_event(IncidentEventKind.UPDATED, _incident(2)),
         _event(IncidentEventKind.RESOLVED, resolved)],
    )  # fmt: skip
    # One ticketer holds version 2 and has read the ticket at version 1; before it
    # commits, the other applies version 3 (resolved).
    rival = ticketer(storage.store)
    racing = RacingStore(storage.store, lambda: step(rival, storage.bus, "two", runtime, batch=1))
    assert await step(ticketer(racing), storage.bus, "one", runtime, batch=1) == 1

    [ticket] = await storage.store.list_tickets()
    assert (ticket.incident_version, ticket.status) == (3, TicketStatus.RESOLVED)
