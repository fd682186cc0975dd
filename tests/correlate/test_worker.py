"""The correlate stage against real storage: what one batch of many alerts announces."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.metrics import (
    RuntimeMetrics,
    make_correlate_metrics,
    make_runtime_metrics,
    make_ticketer_metrics,
)
from core.models import (
    Alert,
    AlertReceived,
    AlertRole,
    AlertStatus,
    IncidentEvent,
    IncidentEventKind,
    IncidentsEntry,
    IncidentStatus,
    Severity,
    TicketsEntry,
)
from core.rules import Rules, RulesRef
from core.runtime import Stage, drain
from core.scheduler import tick
from core.storage import Storage
from core.store import IncidentFilter
from core.store.pages import all_alerts, all_timeline
from correlate.worker import CorrelateStage
from tests.conftest import T0
from ticketer.texts import TicketTexts
from ticketer.worker import TicketerStage


def _received(
    fingerprint: str,
    resource: str,
    status: AlertStatus = AlertStatus.FIRING,
    severity: Severity = Severity.CRITICAL,
) -> str:
    alert = Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint,
        status=status, name="HostDown", resource=resource,
        severity=severity, starts_at=T0, received_at=T0,
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
        IncidentsEntry.model_validate_json(e.body).root
        for e in await storage.bus.read(Stream.INCIDENTS, "test", "test", 100)
    ]
    [opened] = events
    assert isinstance(opened, IncidentEvent)
    assert opened.kind is IncidentEventKind.OPENED
    switch = opened.incident
    assert [(a.resource, a.role) for a in opened.alerts] == [
        ("sw-mad-core-1", AlertRole.MEMBER), ("web-1", AlertRole.SYMPTOM),
    ]  # fmt: skip
    stored = await storage.store.list_incidents(IncidentFilter())
    [merged] = [i for i in stored if i.id != switch.id]
    assert (merged.status, merged.merged_into) == (IncidentStatus.RESOLVED, switch.id)


async def test_a_switch_in_mere_trouble_takes_no_symptoms(storage: Storage, rules: Rules) -> None:
    # High CPU on the core switch does not explain a web server going down behind it: the
    # server's alert opens its own incident. The switch going down does explain the next one.
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    stage = CorrelateStage(
        storage.store, RulesRef(rules), VirtualClock(T0), make_correlate_metrics(registry),
        runtime,
    )  # fmt: skip

    async def roles(*entries: str) -> dict[str, tuple[str, AlertRole]]:
        for entry in entries:
            await storage.bus.publish(Stream.ALERTS, [entry])
            await drain([stage], storage.bus, runtime)
        return {
            a.fingerprint: (i.id, a.role)
            for i in await storage.store.list_incidents(IncidentFilter())
            for a in await all_alerts(storage.store, i.id)
            if i.merged_into is None
        }

    busy = await roles(
        _received("cpu", "sw-mad-core-1", severity=Severity.WARNING), _received("w1", "web-1")
    )
    assert busy["w1"][1] is AlertRole.MEMBER
    assert busy["w1"][0] != busy["cpu"][0]
    down = await roles(_received("down", "sw-mad-core-1"), _received("w2", "web-2"))
    assert down["w2"] == (down["down"][0], AlertRole.SYMPTOM)


async def test_time_passes_downstream_after_the_events_it_caused(
    storage: Storage, rules: Rules
) -> None:
    # A tick that ends a hold-down reaches the ticketer after the resolution it caused, and
    # the notify stage after the ticket it resolved: each stage's timers see time in order.
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    clock = VirtualClock(T0)
    correlate = CorrelateStage(
        storage.store, RulesRef(rules), clock, make_correlate_metrics(registry), runtime
    )
    ticketer = TicketerStage(
        storage.store,
        RulesRef(Rules()),
        clock,
        "http://sereno",
        make_ticketer_metrics(registry),
        runtime,
        texts=TicketTexts("en", "Europe/Madrid"),
    )
    stages: list[Stage] = [correlate, ticketer]
    await storage.bus.publish(Stream.ALERTS, [_received("w1", "web-1")])
    await drain(stages, storage.bus, runtime)
    await storage.bus.publish(Stream.ALERTS, [_received("w1", "web-1", AlertStatus.RESOLVED)])
    await drain(stages, storage.bus, runtime)
    clock.advance(timedelta(hours=1))
    await tick(storage.bus, clock)
    await drain(stages, storage.bus, runtime)

    incidents = [
        IncidentsEntry.model_validate_json(e.body).root
        for e in await storage.bus.read(Stream.INCIDENTS, "probe", "p", 100)
    ]
    assert [getattr(e, "kind", "tick") for e in incidents] == ["opened", "resolved", "tick"]
    tickets = [
        TicketsEntry.model_validate_json(e.body).root
        for e in await storage.bus.read(Stream.TICKETS, "probe", "p", 100)
    ]
    assert [getattr(e, "kind", "tick") for e in tickets] == ["created", "resolved", "tick"]
    assert tickets[-1].at == clock.now()


async def test_a_storm_behind_its_switch_is_one_incident_whose_story_stays_short(
    storage: Storage, rules: Rules
) -> None:
    # The switch goes down, then 1,200 hosts behind it alert: one incident holds them all,
    # the timeline sums the joins up per batch, and each host keeps its own reason.
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    stage = CorrelateStage(
        storage.store, RulesRef(rules), VirtualClock(T0), make_correlate_metrics(registry),
        runtime,
    )  # fmt: skip
    await storage.bus.publish(Stream.ALERTS, [_received("sw", "sw-mad-core-1")])
    await drain([stage], storage.bus, runtime)
    hosts = [_received(f"h{n}", f"srv-mad-{n:05d}") for n in range(1200)]
    await storage.bus.publish(Stream.ALERTS, hosts)
    await drain([stage], storage.bus, runtime)

    [incident] = await storage.store.list_incidents(IncidentFilter())
    assert (incident.alert_count, incident.symptom_count) == (1201, 1200)
    assert incident.title == "HostDown on sw-mad-core-1 (+1200 symptoms)"
    alerts = await all_alerts(storage.store, incident.id)
    assert [a.resource for a in alerts[:2]] == ["sw-mad-core-1", "srv-mad-00000"]
    assert all(
        a.cause == f"{a.resource} depends on sw-mad-core-1, which is failing" for a in alerts[1:]
    )
    timeline = await all_timeline(storage.store, incident.id)
    summed = [e.text for e in timeline if " alerts from generic (" in e.text]
    assert summed  # one entry per batch of joins, not one per host
    assert len(timeline) < 20
    assert sum(int(text.split(" ")[0]) for text in summed) == 1200


async def test_a_firing_alert_that_rises_in_severity_raises_its_incident(
    storage: Storage, rules: Rules
) -> None:
    # Icinga WARNING then CRITICAL for one service check: the same alert, now worse.
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    stage = CorrelateStage(
        storage.store, RulesRef(rules), VirtualClock(T0), make_correlate_metrics(registry),
        runtime,
    )  # fmt: skip
    for severity in (Severity.WARNING, Severity.CRITICAL):
        await storage.bus.publish(Stream.ALERTS, [_received("disk", "mail-2", severity=severity)])
        await drain([stage], storage.bus, runtime)
    [incident] = await storage.store.list_incidents(IncidentFilter())
    assert incident.severity is Severity.CRITICAL
    [alert] = await all_alerts(storage.store, incident.id)
    assert (alert.severity, alert.count) == (Severity.CRITICAL, 2)
    texts = [e.text for e in await all_timeline(storage.store, incident.id)]
    assert "HostDown on mail-2 rose from warning to critical" in texts
    assert any(t.startswith("priority raised from") for t in texts)
    events = [
        IncidentsEntry.model_validate_json(e.body).root
        for e in await storage.bus.read(Stream.INCIDENTS, "probe", "p", 10)
    ]
    assert [getattr(e, "kind", None) for e in events] == [
        IncidentEventKind.OPENED, IncidentEventKind.UPDATED,
    ]  # fmt: skip


def _settling(
    storage: Storage, rules: Rules
) -> tuple[CorrelateStage, RuntimeMetrics, VirtualClock]:
    """Correlate with a settle window of 30 s, on a virtual clock at T0."""
    settled = rules.model_copy(
        update={"correlation": rules.correlation.model_copy(
            update={"settle": timedelta(seconds=30)})}
    )  # fmt: skip
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    clock = VirtualClock(T0)
    stage = CorrelateStage(
        storage.store, RulesRef(settled), clock, make_correlate_metrics(registry), runtime
    )
    return stage, runtime, clock


async def test_symptoms_that_settle_before_their_cause_are_never_announced(
    storage: Storage, rules: Rules
) -> None:
    # Hosts behind the core switch alert 10 s before the switch itself. With a settle
    # window their incidents wait: the switch's alert absorbs them, and only the switch's
    # incident is announced, once the window has passed. Nobody gets a page per host.
    stage, runtime, clock = _settling(storage, rules)
    await storage.bus.publish(
        Stream.ALERTS, [_received("w1", "srv-mad-00001"), _received("w2", "srv-mad-00002")]
    )
    await drain([stage], storage.bus, runtime)
    clock.advance(timedelta(seconds=10))
    await storage.bus.publish(Stream.ALERTS, [_received("sw", "sw-mad-core-1")])
    await drain([stage], storage.bus, runtime)
    assert await storage.bus.read(Stream.INCIDENTS, "probe", "p", 100) == []  # all settling
    clock.advance(timedelta(seconds=35))
    await tick(storage.bus, clock)
    await drain([stage], storage.bus, runtime)

    events = [
        e for e in (
            IncidentsEntry.model_validate_json(x.body).root
            for x in await storage.bus.read(Stream.INCIDENTS, "probe", "p", 100)
        )
        if isinstance(e, IncidentEvent)
    ]  # fmt: skip
    [opened] = events
    assert opened.kind is IncidentEventKind.OPENED
    assert opened.incident.title == "HostDown on sw-mad-core-1 (+2 symptoms)"
    assert opened.incident.announced
    merged = [
        i for i in await storage.store.list_incidents(IncidentFilter())
        if i.merged_into == opened.incident.id
    ]  # fmt: skip
    assert len(merged) == 2
    assert not any(i.announced for i in merged)


async def test_an_incident_no_cause_absorbs_is_announced_when_it_has_settled(
    storage: Storage, rules: Rules
) -> None:
    stage, runtime, clock = _settling(storage, rules)
    await storage.bus.publish(Stream.ALERTS, [_received("w1", "srv-mad-00001")])
    await drain([stage], storage.bus, runtime)
    for seconds in (15, 30):
        clock.advance_to(T0 + timedelta(seconds=seconds))
        await tick(storage.bus, clock)
        await drain([stage], storage.bus, runtime)
    kinds = [
        (getattr(e, "kind", "tick"), e.at)
        for e in (
            IncidentsEntry.model_validate_json(x.body).root
            for x in await storage.bus.read(Stream.INCIDENTS, "probe", "p", 100)
        )
    ]  # fmt: skip
    assert kinds == [
        ("tick", T0 + timedelta(seconds=15)),
        (IncidentEventKind.OPENED, T0 + timedelta(seconds=30)),
        ("tick", T0 + timedelta(seconds=30)),
    ]
    # A host with nothing upstream of it is announced at once, as without the window.
    await storage.bus.publish(Stream.ALERTS, [_received("lone", "db-1")])
    await drain([stage], storage.bus, runtime)
    [event] = await storage.bus.read(Stream.INCIDENTS, "probe", "p", 100)
    assert IncidentsEntry.model_validate_json(event.body).root.kind is IncidentEventKind.OPENED  # type: ignore[union-attr]
