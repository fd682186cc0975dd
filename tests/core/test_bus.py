"""The bus on both backends (SQLite file, real Redis): durability, groups, redelivery,
reclaiming, dead letters and trimming."""

from __future__ import annotations

import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry

from core.bus import Bus, Stream
from core.config import Settings
from core.metrics import make_bus_metrics
from core.storage import Storage
from tests.conftest import REDIS_URL, StorageFactory


async def _lag(bus: Bus, group: str) -> tuple[int, int]:
    lags = {lag.group: lag for lag in await bus.backlog() if lag.stream is Stream.ALERTS}
    return lags[group].unread, lags[group].pending


async def test_published_entries_survive_reopening(open_storage: StorageFactory) -> None:
    first = await open_storage()
    ids = await first.bus.publish(Stream.ALERTS, ["a", "b"])
    await first.close()
    again = await open_storage()
    entries = await again.bus.read(Stream.ALERTS, "correlate", "c-1", 10)
    assert [e.id for e in entries] == ids
    assert [e.body for e in entries] == ["a", "b"]
    assert all(e.deliveries == 1 and e.published_at > 0 for e in entries)


async def test_each_group_reads_every_entry_once(storage: Storage) -> None:
    bus = storage.bus
    await bus.publish(Stream.ALERTS, ["a", "b", "c"])
    first = await bus.read(Stream.ALERTS, "g1", "c-1", 2)
    second = await bus.read(Stream.ALERTS, "g1", "c-1", 10)
    other = await bus.read(Stream.ALERTS, "g2", "c-1", 10)
    assert [e.body for e in first] == ["a", "b"]
    assert [e.body for e in second] == ["c"]
    assert [e.body for e in other] == ["a", "b", "c"]
    assert await bus.read(Stream.ALERTS, "g1", "c-1", 10) == []


async def test_consumers_of_one_group_share_the_entries(storage: Storage) -> None:
    bus = storage.bus
    await bus.publish(Stream.ALERTS, ["a", "b", "c"])
    one = await bus.read(Stream.ALERTS, "g", "w-1", 2)
    two = await bus.read(Stream.ALERTS, "g", "w-2", 2)
    assert [e.body for e in one] == ["a", "b"]
    assert [e.body for e in two] == ["c"]


async def test_unacknowledged_entries_come_back_after_a_crash(open_storage: StorageFactory) -> None:
    first = await open_storage(claim_idle_s=3600)
    await first.bus.publish(Stream.ALERTS, ["a", "b", "c"])
    batch = await first.bus.read(Stream.ALERTS, "g", "worker-1", 10)
    await first.bus.ack(Stream.ALERTS, "g", [batch[0].id])
    await first.close()  # the process dies before acknowledging b and c

    again = await open_storage(claim_idle_s=3600)
    back = await again.bus.read(Stream.ALERTS, "g", "worker-1", 10)
    assert [e.body for e in back] == ["b", "c"]
    assert all(e.deliveries == 2 for e in back)
    # Once taken back, they are not handed out twice in the same life.
    assert await again.bus.read(Stream.ALERTS, "g", "worker-1", 10) == []


async def test_idle_pending_entries_are_reclaimed_by_another_consumer(
    open_storage: StorageFactory,
) -> None:
    registry = CollectorRegistry()
    storage = await open_storage(metrics=make_bus_metrics(registry), claim_idle_s=0)
    await storage.bus.publish(Stream.ALERTS, ["a", "b"])
    await storage.bus.read(Stream.ALERTS, "g", "worker-1", 10)
    taken = await storage.bus.read(Stream.ALERTS, "g", "worker-2", 10)
    assert [e.body for e in taken] == ["a", "b"]
    assert all(e.deliveries == 2 for e in taken)
    reclaimed = registry.get_sample_value(
        "sereno_bus_reclaimed_total", {"stream": "alerts", "group": "g"}
    )
    assert reclaimed == 2


async def test_entries_of_a_live_consumer_are_not_taken_before_the_idle_threshold(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=3600)
    await storage.bus.publish(Stream.ALERTS, ["a"])
    assert len(await storage.bus.read(Stream.ALERTS, "g", "worker-1", 10)) == 1
    assert await storage.bus.read(Stream.ALERTS, "g", "worker-2", 10) == []
    assert await _lag(storage.bus, "g") == (0, 1)


async def test_redeliver_hands_a_consumer_its_own_entries_again(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=3600)
    bus = storage.bus
    await bus.publish(Stream.ALERTS, ["a", "b"])
    held = await bus.read(Stream.ALERTS, "g", "w", 10)
    await bus.redeliver(Stream.ALERTS, "g", "w")
    again = await bus.read(Stream.ALERTS, "g", "w", 10)
    assert [e.id for e in again] == [e.id for e in held]
    assert [e.deliveries for e in again] == [2, 2]


async def test_backlog_counts_unread_and_pending(storage: Storage) -> None:
    await storage.bus.publish(Stream.ALERTS, ["a", "b", "c"])
    await storage.bus.read(Stream.ALERTS, "g", "w", 1)
    [lag] = await storage.bus.backlog()
    assert (lag.stream, lag.group, lag.unread, lag.pending) == (Stream.ALERTS, "g", 2, 1)


async def test_a_dead_letter_keeps_body_reason_and_deliveries_and_is_acknowledged(
    storage: Storage,
) -> None:
    bus = storage.bus
    await bus.publish(Stream.ALERTS, ["good", "poison"])
    good, poison = await bus.read(Stream.ALERTS, "g", "w", 10)
    assert await bus.dead_letter(Stream.ALERTS, "g", [poison], "handler_failed: boom") == 1
    [letter] = await bus.dead_letters(Stream.ALERTS)
    assert (letter.group, letter.entry_id, letter.body) == ("g", poison.id, "poison")
    assert (letter.reason, letter.deliveries) == ("handler_failed: boom", 1)
    assert letter.at > 0
    assert await _lag(bus, "g") == (0, 1)  # only `good` is still pending
    await bus.ack(Stream.ALERTS, "g", [good.id])
    assert await _lag(bus, "g") == (0, 0)


async def test_an_entry_no_longer_pending_is_not_dead_lettered(storage: Storage) -> None:
    bus = storage.bus
    await bus.publish(Stream.ALERTS, ["a"])
    [entry] = await bus.read(Stream.ALERTS, "g", "w", 10)
    await bus.ack(Stream.ALERTS, "g", [entry.id])
    assert await bus.dead_letter(Stream.ALERTS, "g", [entry], "late") == 0
    assert await bus.dead_letters(Stream.ALERTS) == []


async def test_trimming_never_drops_an_unread_or_pending_entry(storage: Storage) -> None:
    bus = storage.bus
    ids = await bus.publish(Stream.ALERTS, [f"e{i}" for i in range(1, 11)])
    assert await bus.trim(Stream.ALERTS) == 0  # no group yet: a stage to come needs them all
    read_a = await bus.read(Stream.ALERTS, "a", "w", 6)
    await bus.ack(Stream.ALERTS, "a", [e.id for e in read_a[:3]])  # a holds e4, e5, e6
    read_b = await bus.read(Stream.ALERTS, "b", "w", 2)
    await bus.ack(Stream.ALERTS, "b", [e.id for e in read_b])  # b has not read e3 on
    [first_c] = await bus.read(Stream.ALERTS, "c", "w", 1)  # c holds e1

    assert await bus.trim(Stream.ALERTS) == 0

    await bus.ack(Stream.ALERTS, "c", [first_c.id])
    rest_c = await bus.read(Stream.ALERTS, "c", "w", 100)
    await bus.ack(Stream.ALERTS, "c", [e.id for e in rest_c])
    assert await bus.trim(Stream.ALERTS) == 2  # e1 and e2: acknowledged by a, b and c

    rest_b = await bus.read(Stream.ALERTS, "b", "w", 100)
    assert [e.id for e in rest_b] == ids[2:]
    await bus.redeliver(Stream.ALERTS, "a", "w")
    rest_a = await bus.read(Stream.ALERTS, "a", "w", 100)
    assert [e.body for e in rest_a] == [f"e{i}" for i in range(4, 11)]
    await bus.ack(Stream.ALERTS, "a", [e.id for e in rest_a])
    assert await bus.trim(Stream.ALERTS) == 0  # b holds e3 to e10

    await bus.ack(Stream.ALERTS, "b", [e.id for e in rest_b])
    assert await bus.trim(Stream.ALERTS) == 8
    assert await bus.trim(Stream.ALERTS) == 0
    assert [(lag.unread, lag.pending) for lag in await bus.backlog()] == [(0, 0)] * 3
    await bus.publish(Stream.ALERTS, ["e11"])
    assert [e.body for e in await bus.read(Stream.ALERTS, "a", "w", 10)] == ["e11"]


async def test_redis_backlog_counts_even_when_redis_cannot_tell_the_lag(
    settings: Settings, redis_prefix: str
) -> None:
    on_redis = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    async with Storage(on_redis) as storage:
        ids = await storage.bus.publish(Stream.ALERTS, ["a", "b", "c"])
        await storage.bus.read(Stream.ALERTS, "g", "w", 1)
        client = aioredis.Redis.from_url(REDIS_URL)
        try:
            # A deleted entry past where the group has read leaves Redis's lag unknown.
            await client.xdel(f"{redis_prefix}:stream:alerts", ids[2])
            [info] = await client.xinfo_groups(f"{redis_prefix}:stream:alerts")
        finally:
            await client.aclose()
        assert info["lag"] is None
        [lag] = await storage.bus.backlog()
    assert (lag.unread, lag.pending) == (1, 1)
