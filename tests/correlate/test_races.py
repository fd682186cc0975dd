"""Two correlate workers racing on one storage (both backends): the loser of a race reads
again and joins the winner's incident; nothing either decided is lost."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.metrics import RuntimeMetrics, make_correlate_metrics, make_runtime_metrics
from core.models import Alert, AlertReceived, AlertStatus, IncidentStatus
from core.rules import Rules, RulesRef
from core.runtime import step
from core.storage import Storage
from core.store import IncidentFilter, Store
from core.store.pages import all_alerts
from correlate.worker import CorrelateStage
from tests.conftest import T0
from tests.racing import RacingStore


def _alert(fingerprint: str, name: str = "HostDown") -> str:
    alert = Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint,
        status=AlertStatus.FIRING, name=name, resource="web-1", service="mail", starts_at=T0,
        received_at=T0,
    )  # fmt: skip
    return AlertReceived(alert=alert).model_dump_json()


def _stage(store: Store, rules: Rules, metrics: RuntimeMetrics) -> CorrelateStage:
    registry = CollectorRegistry()
    return CorrelateStage(
        store, RulesRef(rules), VirtualClock(T0), make_correlate_metrics(registry), metrics
    )


async def test_two_workers_opening_one_key_at_once_make_one_incident(
    storage: Storage, rules: Rules
) -> None:
    metrics = make_runtime_metrics(CollectorRegistry())
    bus = storage.bus
    await bus.publish(Stream.ALERTS, [_alert("f1", "HostDown"), _alert("f2", "DiskFull")])
    rival = _stage(storage.store, rules, metrics)
    # Worker one has read f1 and found no open incident; before it commits, worker two
    # reads f2, finds none either, opens one and commits.
    racing = RacingStore(storage.store, lambda: step(rival, bus, "two", metrics, batch=1))
    loser = _stage(racing, rules, metrics)
    assert await step(loser, bus, "one", metrics, batch=1) == 1

    [incident] = await storage.store.list_incidents(IncidentFilter())
    assert sorted(a.fingerprint for a in await all_alerts(storage.store, incident.id)) == [
        "f1",
        "f2",
    ]
    assert incident.status is IncidentStatus.OPEN
    assert racing.commits == 2  # refused once, then joined the winner's incident
    states = await storage.store.alert_states(["f1", "f2"])
    assert {s.incident_id for s in states.values()} == {incident.id}
    assert len(await bus.read(Stream.INCIDENTS, "probe", "p", 10)) == 2  # opened, updated


async def test_a_racing_update_of_an_incident_is_not_overwritten(
    storage: Storage, rules: Rules
) -> None:
    metrics = make_runtime_metrics(CollectorRegistry())
    bus = storage.bus
    await bus.publish(Stream.ALERTS, [_alert("f1")])
    assert await step(_stage(storage.store, rules, metrics), bus, "one", metrics) == 1
    # Worker one reads the incident to count a repeat of f1; meanwhile worker two adds f2
    # to it. Without the check, worker one's write would drop f2 from the incident.
    await bus.publish(Stream.ALERTS, [_alert("f1"), _alert("f2", "DiskFull")])
    rival = _stage(storage.store, rules, metrics)
    racing = RacingStore(storage.store, lambda: step(rival, bus, "two", metrics, batch=1))
    assert await step(_stage(racing, rules, metrics), bus, "one", metrics, batch=1) == 1
    assert racing.commits == 2  # refused once: the incident had changed under it

    [incident] = await storage.store.list_incidents(IncidentFilter())
    counts = {a.fingerprint: a.count for a in await all_alerts(storage.store, incident.id)}
    assert counts == {"f1": 2, "f2": 1}
    states = await storage.store.alert_states(["f1", "f2"])
    assert (states["f1"].count, states["f2"].count) == (2, 1)
