"""Stages as separate `sereno worker` processes on one Redis: racing workers, and a worker
killed with SIGKILL in the middle of a run."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest
import redis.asyncio as aioredis

from core.bus import Stream
from core.config import Settings
from core.models import Alert, AlertReceived, AlertStatus
from core.storage import Storage
from core.store import IncidentFilter
from core.store.pages import all_alerts
from tests.acceptance.conftest import WorkerFactory, WorkerProcess
from tests.conftest import REDIS_URL, T0

pytestmark = pytest.mark.e2e

PUBLISH_CHUNK = 2000


def _alert(group: int, host: int, name: int) -> str:
    fingerprint = f"g{group}-h{host}-n{name}"
    alert = Alert(
        source="generic", source_id=fingerprint, fingerprint=fingerprint,
        status=AlertStatus.FIRING, name=f"Check{name}", resource=f"host-{group}-{host}",
        service="storm", group_key=f"storm-{group}", starts_at=T0, received_at=T0,
    )  # fmt: skip
    return AlertReceived(alert=alert).model_dump_json()


def _storm(groups: int, hosts: int, names: int, copies: int, seed: int) -> list[str]:
    """Every alert `copies` times, shuffled: each group key is one incident to be."""
    bodies = [
        _alert(g, h, n) for g in range(groups) for h in range(hosts) for n in range(names)
    ] * copies
    random.Random(seed).shuffle(bodies)  # noqa: S311 - a repeatable order, not a secret
    return bodies


async def _publish(storage: Storage, bodies: list[str]) -> None:
    for start in range(0, len(bodies), PUBLISH_CHUNK):
        await storage.bus.publish(Stream.ALERTS, bodies[start : start + PUBLISH_CHUNK])


async def _group(storage: Storage, prefix: str, stream: Stream, group: str) -> dict[str, int]:
    """One group's progress: entries read (ever), pending, and not yet read."""
    lags = {(lag.stream, lag.group): lag for lag in await storage.bus.backlog()}
    lag = lags.get((stream, group))
    if lag is None:
        return {"read": 0, "pending": 0, "unread": -1}
    client = aioredis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        key = f"{prefix}:stream:{stream.value}"
        added = int((await client.xinfo_stream(key))["entries-added"])
    finally:
        await client.aclose()
    return {"read": added - lag.unread, "pending": lag.pending, "unread": lag.unread}


async def _drained(
    storage: Storage, prefix: str, groups: list[tuple[Stream, str]], within_s: float
) -> None:
    deadline = time.monotonic() + within_s
    last: list[dict[str, int]] = []
    while time.monotonic() < deadline:
        last = [await _group(storage, prefix, stream, group) for stream, group in groups]
        if all(g["unread"] == 0 and g["pending"] == 0 for g in last):
            return
        await asyncio.sleep(0.2)
    pytest.fail(f"not drained within {within_s}s: {last}")


def _conflicts(workers: list[WorkerProcess]) -> int:
    return sum(w.log.read_text().count("conflict on attempt") for w in workers)


async def test_racing_workers_make_one_incident_per_key_and_one_ticket_per_incident(
    redis_workers: WorkerFactory, redis_settings: Settings
) -> None:
    groups, hosts, names, copies = 30, 10, 4, 2  # 300 hosts, 1200 alerts, each sent twice
    correlators = [redis_workers("correlate") for _ in range(3)]
    ticketers = [redis_workers("ticketer") for _ in range(2)]
    bodies = _storm(groups, hosts, names, copies, seed=7)
    prefix = redis_settings.redis_prefix
    async with Storage(redis_settings) as storage:
        await _publish(storage, bodies)
        await _drained(
            storage, prefix, [(Stream.ALERTS, "correlate"), (Stream.INCIDENTS, "ticketer")], 90
        )
        incidents = await storage.store.list_incidents(IncidentFilter(limit=100_000))
        alerts_of = {i.id: await all_alerts(storage.store, i.id) for i in incidents}
        tickets = await storage.store.list_tickets(100_000)
        fingerprints = [f"g{g}-h{h}-n{n}" for g in range(groups) for h in range(hosts)
                        for n in range(names)]  # fmt: skip
        states = await storage.store.alert_states(fingerprints)
        dead = await storage.bus.dead_letters(Stream.ALERTS)

    by_key = Counter(i.key for i in incidents)
    assert by_key == {f"group:generic:storm-{g}": 1 for g in range(groups)}
    assert all(len(alerts_of[i.id]) == i.alert_count == hosts * names for i in incidents)
    assert all(a.count == copies for i in incidents for a in alerts_of[i.id])
    assert len(states) == len(fingerprints)
    assert all(s.count == copies for s in states.values())
    owner = {i.key: i.id for i in incidents}
    assert all(
        states[f].incident_id == owner[f"group:generic:storm-{f[1:].split('-')[0]}"]
        for f in fingerprints
    )
    assert dead == []
    processed = [w.metric_sum("sereno_stage_entries_processed_total") for w in correlators]
    assert sum(processed) == len(bodies)  # each alert handled once, by exactly one worker
    assert sum(1 for p in processed if p > 0) >= 2  # they really did share the storm

    # The storm's recurring alerts also open problem records; those link incidents instead.
    problems = [t for t in tickets if t.category == "problem"]
    tickets = [t for t in tickets if t.category != "problem"]
    assert len(tickets) == len(incidents)
    assert {t.incident_id for t in tickets} == set(owner.values())
    versions = {i.id: i.version for i in incidents}
    assert all(t.incident_version == versions[t.incident_id] for t in tickets)
    made = [w.metric_sum("sereno_ticketer_tickets_created_total") for w in ticketers]
    assert sum(made) == len(incidents) + len(problems)
    events = [w.metric_sum("sereno_stage_entries_processed_total") for w in ticketers]
    print(  # noqa: T201 - figures to quote
        f"storm: {len(bodies)} alerts, {len(incidents)} incidents, {len(tickets)} tickets;"
        f" alerts handled per correlate worker {processed}; incident events per ticketer"
        f" {events}; races lost and retried: {_conflicts(correlators + ticketers)}"
    )
    assert [w.stop() for w in correlators + ticketers] == [0] * 5


@pytest.mark.timeout(300)
async def test_a_correlate_worker_killed_mid_run_loses_and_duplicates_nothing(
    redis_workers: WorkerFactory, redis_settings: Settings
) -> None:
    groups, hosts, names, copies = 2000, 1, 5, 2  # 20,000 alerts, 10,000 fingerprints
    bodies = _storm(groups, hosts, names, copies, seed=11)
    prefix = redis_settings.redis_prefix
    began = time.monotonic()
    async with Storage(redis_settings) as storage:
        await _publish(storage, bodies)
        published_s = time.monotonic() - began
        first = redis_workers("correlate", claim_idle_s=2)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            progress = await _group(storage, prefix, Stream.ALERTS, "correlate")
            if progress["read"] - progress["pending"] >= 3000 and progress["pending"] > 0:
                break
            await asyncio.sleep(0.05)
        first.kill()
        at_kill = await _group(storage, prefix, Stream.ALERTS, "correlate")
        done_before = at_kill["read"] - at_kill["pending"]
        assert 0 < done_before < len(bodies), at_kill
        assert at_kill["pending"] > 0, at_kill  # it died holding a batch

        second = redis_workers("correlate", claim_idle_s=2)
        await _drained(storage, prefix, [(Stream.ALERTS, "correlate")], 180)
        fingerprints = [f"g{g}-h0-n{n}" for g in range(groups) for n in range(names)]
        states = await storage.store.alert_states(fingerprints)
        incidents = await storage.store.list_incidents(IncidentFilter(limit=100_000))
        alerts_of = {i.id: await all_alerts(storage.store, i.id) for i in incidents}
        dead = await storage.bus.dead_letters(Stream.ALERTS)
    took_s = time.monotonic() - began

    reclaimed = second.metric_sum("sereno_bus_reclaimed_total")
    processed = second.metric_sum("sereno_stage_entries_processed_total")
    handled = sum(s.count for s in states.values())
    print(  # noqa: T201 - the counts to quote
        f"crash recovery: published {len(bodies)} in {published_s:.1f}s; killed the first"
        f" worker after {done_before} were committed, holding {at_kill['pending']}, with"
        f" {at_kill['unread']} unread; the second reclaimed {reclaimed:.0f} and processed"
        f" {processed:.0f}; alert states {len(states)} with counts summing to {handled};"
        f" incidents {len(incidents)} for {len({i.key for i in incidents})} keys; dead"
        f" letters {len(dead)}; {took_s:.1f}s in all"
    )
    assert len(states) == len(fingerprints)  # every alert has its state
    assert handled == len(bodies)  # each applied exactly once: not lost, not twice
    assert all(s.count == copies for s in states.values())
    assert len(incidents) == groups
    assert len({i.key for i in incidents}) == groups  # one incident per correlation key
    assert sum(a.count for i in incidents for a in alerts_of[i.id]) == len(bodies)
    assert dead == []
    assert reclaimed >= at_kill["pending"]  # the dead worker's batch, after the idle threshold
    assert processed == len(bodies) - done_before  # nothing the first had committed, again


@pytest.mark.timeout(600)
async def test_three_workers_on_one_storm_make_one_incident_holding_each_alert_once(
    redis_workers: WorkerFactory, redis_settings: Settings
) -> None:
    # 20,000 hosts of one sender's group alert at once: three correlate workers take
    # batches of the same storm and race on its one incident. Whoever loses a race reads
    # again; the incident ends with every alert once, each counted once.
    hosts = 20_000
    bodies = _storm(1, hosts, 1, 1, seed=13)
    correlators = [redis_workers("correlate") for _ in range(3)]
    prefix = redis_settings.redis_prefix
    began = time.monotonic()
    async with Storage(redis_settings) as storage:
        await _publish(storage, bodies)
        await _drained(storage, prefix, [(Stream.ALERTS, "correlate")], 480)
        [incident] = await storage.store.list_incidents(IncidentFilter(limit=10))
        alerts = await all_alerts(storage.store, incident.id)
        states = await storage.store.alert_states([f"g0-h{h}-n0" for h in range(hosts)])
        dead = await storage.bus.dead_letters(Stream.ALERTS)
    took_s = time.monotonic() - began
    processed = [w.metric_sum("sereno_stage_entries_processed_total") for w in correlators]
    print(  # noqa: T201 - figures to quote
        f"storm of {hosts} on 3 correlate workers: {took_s:.1f}s, entries per worker "
        f"{processed}, races lost and retried: {_conflicts(correlators)}"
    )
    assert dead == []
    assert incident.alert_count == len(alerts) == hosts
    assert len({a.fingerprint for a in alerts}) == hosts
    assert all(a.count == 1 for a in alerts)
    assert incident.resource_count == hosts
    assert incident.firing_count == hosts
    assert len(states) == hosts
    assert {s.incident_id for s in states.values()} == {incident.id}
    assert all(s.count == 1 for s in states.values())
    assert sum(processed) == hosts  # each applied once by whichever worker committed it
    assert [w.stop() for w in correlators] == [0] * 3
