"""The correlate stage against real storage: what one batch of many alerts announces."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.metrics import make_correlate_metrics, make_runtime_metrics
from core.models import (
    Alert,
    AlertReceived,
    AlertRole,
    AlertStatus,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Severity,
)
from core.rules import Rules, RulesRef
from core.runtime import drain
from core.storage import Storage
from core.store import IncidentFilter
from correlate.worker import CorrelateStage
from tests.conftest import T0


def _received(fingerprint: str, resource: str) -> str:
    alert = Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint,
        status=AlertStatus.FIRING, name="HostDown", resource=resource,
        severity=Severity.CRITICAL, starts_at=T0, received_at=T0,
    )  # fmt: skip
    return AlertReceived(alert=alert).model_dump_json()


async def test_an_incident_opened_and_merged_within_one_batch_is_not_announced(
    storage: Storage, rules: Rules
) -> None:
    # In a storm, correlate reads many requests at once: a web server's alert opens an
    # incident, and the alert of the switch it sits behind, later in the same batch, merges
    # it. Nobody has seen that incident: announcing it would only make the ticketer open a
    # ticket already resolved.
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    stage = CorrelateStage(
        storage.store, RulesRef(rules), VirtualClock(T0 + timedelta(seconds=20)),
        make_correlate_metrics(registry), runtime,
    )  # fmt: skip
    await storage.bus.publish(
        Stream.ALERTS, [_received("w1", "web-1"), _received("s1", "sw-mad-core-1")]
    )
    await drain([stage], storage.bus, runtime)
    events = [
        IncidentEvent.model_validate_json(e.body)
        for e in await storage.bus.read(Stream.INCIDENTS, "test", "test", 100)
    ]
    [opened] = events
    assert opened.kind is IncidentEventKind.OPENED
    switch = opened.incident
    assert [(a.resource, a.role) for a in switch.alerts] == [
        ("sw-mad-core-1", AlertRole.MEMBER), ("web-1", AlertRole.SYMPTOM),
    ]  # fmt: skip
    stored = await storage.store.list_incidents(IncidentFilter())
    [merged] = [i for i in stored if i.id != switch.id]
    assert (merged.status, merged.merged_into) == (IncidentStatus.RESOLVED, switch.id)
