"""Correlate counts what it receives, per hour, source and name, repeats and silenced
alerts as such, in the commit that handles them (a refused commit counts nothing: see
tests/core/test_store_volumes.py)."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.matchers import AlertMatch, Silence
from core.metrics import make_correlate_metrics, make_runtime_metrics
from core.models import Alert, AlertReceived, AlertStatus, AlertVolume, Severity
from core.rules import Rules, RulesRef
from core.runtime import drain
from core.storage import Storage
from core.store import Changes
from correlate.worker import CorrelateStage
from tests.conftest import T0

HOUR = timedelta(hours=1)


def _received(fingerprint: str, resource: str, name: str, minutes: int) -> str:
    at = T0 + timedelta(minutes=minutes)
    alert = Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint,
        status=AlertStatus.FIRING, name=name, resource=resource,
        severity=Severity.CRITICAL, starts_at=at, received_at=at,
    )  # fmt: skip
    return AlertReceived(alert=alert).model_dump_json()


async def test_received_repeated_and_silenced_alerts_are_counted_per_hour(
    storage: Storage, rules: Rules
) -> None:
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    clock = VirtualClock(T0)
    stage = CorrelateStage(
        storage.store, RulesRef(rules), clock, make_correlate_metrics(registry), runtime
    )
    silence = Silence(
        id="s1", match=AlertMatch(resources=["lab-*"]), starts_at=T0, ends_at=T0 + 3 * HOUR,
        created_by="ops", comment="lab rebuild", created_at=T0,
    )  # fmt: skip
    await storage.store.commit(Changes(silences=[silence]))
    await storage.bus.publish(
        Stream.ALERTS,
        [
            _received("w1", "web-1", "HostDown", 1),
            _received("w1", "web-1", "HostDown", 2),  # a repeat
            _received("w1", "web-1", "HostDown", 3),  # another
            _received("l1", "lab-1", "HostDown", 4),  # silenced
            _received("d1", "db-1", "DiskFull", 5),
            _received("d1", "db-1", "DiskFull", 65),  # the next hour's repeat
        ],
    )
    clock.advance_to(T0 + 2 * HOUR)
    await drain([stage], storage.bus, runtime)
    assert await storage.store.alert_volumes(T0, T0 + 2 * HOUR) == [
        AlertVolume(hour=T0, source="generic", name="DiskFull", received=1),
        AlertVolume(
            hour=T0, source="generic", name="HostDown", received=4, deduplicated=2, suppressed=1
        ),
        AlertVolume(hour=T0 + HOUR, source="generic", name="DiskFull", received=1,
                    deduplicated=1),
    ]  # fmt: skip
