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
from core.runtime import drain
from core.storage import Storage
from tests.conftest import T0
from ticketer.worker import TicketerStage


def _incident(version: int, status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    member = IncidentAlert(
        fingerprint="f", source="generic", source_id="f", name="HostDown", resource="web-1",
        service="mail", severity=Severity.MAJOR, status=AlertStatus.FIRING, first_seen=T0,
        last_seen=T0,
    )  # fmt: skip
    return Incident(
        id="INC-7", key="k", title="HostDown on web-1", severity=Severity.MAJOR,
        priority=Priority.P2, service="mail", opened_at=T0, alerts=(member,), version=version,
        status=status,
    )  # fmt: skip


def _event(kind: IncidentEventKind, incident: Incident) -> str:
    return IncidentEvent(kind=kind, at=T0, incident=incident).model_dump_json()


async def test_redelivered_and_repeated_events_make_one_ticket(storage: Storage) -> None:
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    clock = VirtualClock(T0)
    stage = TicketerStage(
        storage.store, clock, "http://sereno", make_ticketer_metrics(registry), runtime
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
    assert "http://sereno/api/v1/incidents/INC-7" in ticket.description
    events = await storage.bus.read(Stream.TICKETS, "probe", "p", 100)
    assert len(events) == 2  # created, resolved: repeats publish nothing
