"""The stage loop on both backends: poison entries, consumers that keep dying, batches
taken over by another consumer, and storage that goes away."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

import pytest
from prometheus_client import CollectorRegistry

from core.bus import Entry, Stream
from core.config import Settings
from core.errors import StorageUnavailableError
from core.metrics import RuntimeMetrics, make_notify_metrics, make_runtime_metrics
from core.models import Notification
from core.rules import Rules, RulesRef
from core.runtime import run_stage, step
from core.storage import Storage
from core.store import Ack, Changes, Store
from notify.render import Renderer
from notify.worker import NotifyStage
from tests.conftest import T0, StorageFactory


class Recorder:
    """A stage that records one notification per entry, and chokes on "poison"."""

    name = "recorder"
    stream = Stream.ALERTS

    def __init__(
        self, store: Store, before_commit: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._store = store
        self._before_commit = before_commit
        self.calls = 0

    async def handle(self, entries: Sequence[Entry]) -> None:
        self.calls += 1
        if any(e.body == "poison" for e in entries):
            raise ValueError("cannot digest poison")
        if self._before_commit is not None:
            hook, self._before_commit = self._before_commit, None
            await hook()
        await self._store.commit(
            Changes(
                notifications=[
                    Notification(id=e.body, at=T0, channel="log", kind="k", incident_id="-",
                                 text=e.body)
                    for e in entries
                ],
                acks=[Ack(self.stream, self.name, tuple(e.id for e in entries))],
            )
        )  # fmt: skip


def _metrics() -> tuple[CollectorRegistry, RuntimeMetrics]:
    registry = CollectorRegistry()
    return registry, make_runtime_metrics(registry)


async def _recorded(storage: Storage) -> list[str]:
    return sorted(n.id for n in await storage.store.list_notifications())


async def test_a_poison_entry_is_dead_lettered_after_max_deliveries_and_the_rest_go_on(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=3600)
    registry, metrics = _metrics()
    stage = Recorder(storage.store)
    await storage.bus.publish(Stream.ALERTS, ["a", "poison", "b"])
    rounds = [await step(stage, storage.bus, "w", metrics, max_deliveries=3) for _ in range(5)]
    assert rounds == [3, 1, 1, 0, 0]  # the poison entry came back twice, then went
    assert await _recorded(storage) == ["a", "b"]
    [letter] = await storage.bus.dead_letters(Stream.ALERTS)
    assert (letter.body, letter.group, letter.deliveries) == ("poison", "recorder", 3)
    assert letter.reason == "handler_failed: ValueError: cannot digest poison"
    labels = {"stage": "recorder", "reason": "handler_failed"}
    assert registry.get_sample_value("sereno_bus_dead_letters_total", labels) == 1
    assert (
        registry.get_sample_value("sereno_stage_entries_processed_total", {"stage": "recorder"})
        == 2
    )
    assert [(lag.unread, lag.pending) for lag in await storage.bus.backlog()] == [(0, 0)]


async def test_an_entry_whose_consumer_dies_each_time_is_dead_lettered(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=0)
    registry, metrics = _metrics()
    stage = Recorder(storage.store)
    await storage.bus.publish(Stream.ALERTS, ["fatal"])
    for dying in ("w-1", "w-2", "w-3"):  # each reads it and dies before acknowledging
        await storage.bus.read(Stream.ALERTS, "recorder", dying, 10)
    assert await step(stage, storage.bus, "w-4", metrics, max_deliveries=3) == 1
    assert stage.calls == 0  # not handed to the stage a fourth time
    [letter] = await storage.bus.dead_letters(Stream.ALERTS)
    assert (letter.body, letter.deliveries) == ("fatal", 4)
    assert letter.reason.startswith("too_many_deliveries")
    labels = {"stage": "recorder", "reason": "too_many_deliveries"}
    assert registry.get_sample_value("sereno_bus_dead_letters_total", labels) == 1


async def test_malformed_entries_are_set_aside_with_their_reason(storage: Storage) -> None:
    registry, metrics = _metrics()
    stage = NotifyStage(
        storage.store, RulesRef(Rules()), Renderer("Europe/Madrid"), Settings(),
        make_notify_metrics(registry), metrics,
    )  # fmt: skip
    await storage.bus.publish(Stream.INCIDENTS, ["{not json"])
    assert await step(stage, storage.bus, "w", metrics) == 1
    [letter] = await storage.bus.dead_letters(Stream.INCIDENTS)
    assert (letter.body, letter.reason, letter.group) == ("{not json", "malformed_entry", "notify")
    labels = {"stage": "notify", "reason": "malformed_entry"}
    assert registry.get_sample_value("sereno_bus_dead_letters_total", labels) == 1


async def test_a_batch_another_consumer_took_over_is_dropped_not_done_twice(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=0)
    registry, metrics = _metrics()
    fast = Recorder(storage.store)

    async def overtaken() -> None:  # while the slow one works, the fast one takes over
        assert await step(fast, storage.bus, "fast", metrics) == 1

    slow = Recorder(storage.store, before_commit=overtaken)
    await storage.bus.publish(Stream.ALERTS, ["once"])
    assert await step(slow, storage.bus, "slow", metrics) == 1
    assert await _recorded(storage) == ["once"]
    processed = registry.get_sample_value(
        "sereno_stage_entries_processed_total", {"stage": "recorder"}
    )
    assert processed == 1  # the fast one's; the slow one's effect was refused
    assert [(lag.unread, lag.pending) for lag in await storage.bus.backlog()] == [(0, 0)]


class _Unavailable(Recorder):
    """Storage goes away during its first batch."""

    gone = False

    async def handle(self, entries: Sequence[Entry]) -> None:
        if not self.gone:
            self.gone = True
            raise StorageUnavailableError("gone for a moment")
        await super().handle(entries)


async def test_the_loop_rides_out_storage_trouble_and_takes_its_batch_back(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=3600)
    _, metrics = _metrics()
    stage = _Unavailable(storage.store)
    await storage.bus.publish(Stream.ALERTS, ["a", "b"])
    stopping = asyncio.Event()
    loop = asyncio.create_task(run_stage(stage, storage.bus, "w", metrics, stopping, poll_s=0.05))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await _recorded(storage) == ["a", "b"]:
            break
        await asyncio.sleep(0.05)
    stopping.set()
    await asyncio.wait_for(loop, 5)
    assert await _recorded(storage) == ["a", "b"]
    assert stage.calls == 1  # taken back at once, not after the hour-long idle threshold


async def test_each_loop_says_which_stream_it_reads(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    """Notify runs two loops under one group name; the log tells them apart."""
    stopping = asyncio.Event()
    stopping.set()
    _, metrics = _metrics()
    with caplog.at_level(logging.INFO, logger="core.runtime"):
        await run_stage(Recorder(storage.store), storage.bus, "w", metrics, stopping)
    assert "stage recorder started on stream alerts as w" in caplog.messages
