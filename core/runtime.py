"""Running a stage: read a batch, hand it to the stage, repeat; drain on stop.

A stage's `handle` commits its effects together with the acknowledgement of its input,
so the loop never acknowledges anything itself: a crash anywhere leaves unacknowledged
entries pending, and they come back when the stage starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from core.bus import Bus, DeadLetter, Entry, NotPendingError, Stream
from core.errors import PermanentError, Reason, Retry, StorageUnavailableError
from core.metrics import RuntimeMetrics
from core.models import SCHEMA_VERSION
from core.store import Changes, ConflictError, Store

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

MAX_ATTEMPTS = 30
"""Tries of one batch that keeps losing races (or asking to be retried) before it is let
go, to come back at the next read."""
MAX_PAUSE_S = 5.0
TRIM_EVERY_S = 10.0


class Stage(Protocol):
    """One step of the pipeline: consumes one stream as one consumer group."""

    @property
    def name(self) -> str: ...

    @property
    def stream(self) -> Stream: ...

    async def handle(self, entries: Sequence[Entry]) -> None:
        """Process `entries` and commit the effects with their acknowledgement, atomically."""
        ...


def decode(
    entries: Sequence[Entry], model: type[M], parse: Callable[[str], M] | None = None
) -> tuple[list[tuple[Entry, M]], list[Entry]]:
    """Parse entries into `model` (with `parse` if given, a faster reader of the same
    model); returns the good ones and the ones that never will parse."""
    read = parse or model.model_validate_json
    good: list[tuple[Entry, M]] = []
    bad: list[Entry] = []
    for entry in entries:
        try:
            value = read(entry.body)
        except ValidationError:
            log.exception("entry %s of %s cannot be read; setting it aside", entry.id, entry.stream)
            bad.append(entry)
            continue
        inner = getattr(value, "root", value)  # a RootModel carries the entry inside
        if getattr(inner, "schema_version", SCHEMA_VERSION) > SCHEMA_VERSION:
            log.error("entry %s of %s has a newer schema; setting it aside", entry.id, entry.stream)
            bad.append(entry)
            continue
        good.append((entry, value))
    return good, bad


async def set_aside(
    store: Store, stage: Stage, entries: Sequence[Entry], metrics: RuntimeMetrics
) -> None:
    """Move entries that can never be processed to the dead letters, so they do not block
    the stream and a person can still see them."""
    if not entries:
        return
    now = time.time()
    reason = Reason.MALFORMED_ENTRY
    letters = [
        DeadLetter(stage.stream, stage.name, e.id, e.body, reason.value, e.deliveries, now)
        for e in entries
    ]
    await store.commit(Changes(dead_letters=letters))
    metrics.dead_letters.labels(stage.name, reason.value).inc(len(entries))


async def _handle(stage: Stage, entries: Sequence[Entry]) -> None:
    """`stage.handle`, again after a lost race or a `Retry`, until it commits."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            await stage.handle(entries)
        except ConflictError:
            if attempt == MAX_ATTEMPTS:
                raise
            # Another worker got there first; the stage re-reads the state and decides
            # again. A random pause keeps two losers from colliding again in step.
            log.info("%s: conflict on attempt %d, retrying", stage.name, attempt)
            await asyncio.sleep(random.uniform(0, min(0.5, 0.002 * 2**attempt)))  # noqa: S311 - jitter, not secrecy
        except Retry as e:
            if attempt == MAX_ATTEMPTS:
                raise
            log.warning("%s: %s; retrying in %.1fs", stage.name, e, e.defer)
            await asyncio.sleep(e.defer)
        else:
            return


async def step(
    stage: Stage,
    bus: Bus,
    consumer: str,
    metrics: RuntimeMetrics,
    batch: int = 500,
    max_deliveries: int = 5,
) -> int:
    """Read and deal with one batch; returns how many entries it dealt with (0: nothing
    to do). Raises StorageUnavailableError, having asked for what it held back."""
    entries = await bus.read(stage.stream, stage.name, consumer, batch)
    if not entries:
        return 0
    dealt = len(entries)
    overdue = [e for e in entries if e.deliveries > max_deliveries]
    if overdue:
        # Delivered again and again, never answered: each time, the consumer died on it.
        reason = Reason.TOO_MANY_DELIVERIES
        moved = await bus.dead_letter(
            stage.stream, stage.name, overdue,
            f"{reason.value}: delivered more than {max_deliveries} times, never acknowledged",
        )  # fmt: skip
        metrics.dead_letters.labels(stage.name, reason.value).inc(moved)
        entries = [e for e in entries if e.deliveries <= max_deliveries]
    try:
        if entries:
            await _handle(stage, entries)
    except NotPendingError as e:
        # Another consumer took over this batch (we were too slow) and handled it.
        log.warning("%s: batch taken over by another consumer (%s); dropping it", stage.name, e)
        await bus.redeliver(stage.stream, stage.name, consumer)
        return dealt
    except ConflictError:
        log.warning("%s: still losing races after %d attempts; later", stage.name, MAX_ATTEMPTS)
        await bus.redeliver(stage.stream, stage.name, consumer)
        return 0
    except StorageUnavailableError:
        # Whether the commit happened is unknown: take the batch back when storage returns;
        # if it did happen, its entries are no longer pending and do not come back.
        await bus.redeliver(stage.stream, stage.name, consumer)
        raise
    except Exception:
        log.exception("%s: a batch of %d failed; trying its entries one by one", stage.name,
                      len(entries))  # fmt: skip
        await _isolate(stage, bus, consumer, entries, metrics, max_deliveries)
        return dealt
    _observe(stage, entries, metrics)
    return dealt


async def _isolate(
    stage: Stage,
    bus: Bus,
    consumer: str,
    entries: Sequence[Entry],
    metrics: RuntimeMetrics,
    max_deliveries: int,
) -> None:
    """Handle `entries` one at a time, so one poison entry does not hold back the rest; it
    is dead-lettered once it has failed on `max_deliveries` deliveries."""
    failed = False
    for entry in entries:
        try:
            await _handle(stage, [entry])
        except NotPendingError:
            continue
        except StorageUnavailableError:
            await bus.redeliver(stage.stream, stage.name, consumer)
            raise
        except Exception as e:
            reason = e.reason if isinstance(e, PermanentError) else Reason.HANDLER_FAILED
            if isinstance(e, PermanentError) or entry.deliveries >= max_deliveries:
                log.exception("%s: entry %s dead-lettered (%s)", stage.name, entry.id, reason)
                why = f"{reason.value}: {type(e).__name__}: {e}"
                moved = await bus.dead_letter(stage.stream, stage.name, [entry], why)
                metrics.dead_letters.labels(stage.name, reason.value).inc(moved)
            else:
                log.exception(
                    "%s: entry %s failed on delivery %d of %d", stage.name, entry.id,
                    entry.deliveries, max_deliveries,
                )  # fmt: skip
                failed = True
        else:
            _observe(stage, [entry], metrics)
    if failed:
        await bus.redeliver(stage.stream, stage.name, consumer)


def _observe(stage: Stage, entries: Sequence[Entry], metrics: RuntimeMetrics) -> None:
    now = time.time()
    for entry in entries:
        metrics.stage_latency.labels(stage.name).observe(max(0.0, now - entry.published_at))
    metrics.entries_processed.labels(stage.name).inc(len(entries))


async def run_stage(
    stage: Stage,
    bus: Bus,
    consumer: str,
    metrics: RuntimeMetrics,
    stopping: asyncio.Event,
    poll_s: float = 1.0,
    max_deliveries: int = 5,
    trim_every_s: float = TRIM_EVERY_S,
) -> None:
    """Run `stage` until `stopping` is set; the batch in hand is finished first. Rides out
    storage outages, retrying with backoff; trims the stream it reads now and then."""
    # A stage's name is its consumer group, which one stage may hold on several streams
    # (notify reads both incidents and tickets): the stream tells the two loops apart.
    log.info("stage %s started on stream %s as %s", stage.name, stage.stream.value, consumer)
    pause = 0.0
    next_trim = time.monotonic() + trim_every_s
    while not stopping.is_set():
        try:
            handled = await step(stage, bus, consumer, metrics, max_deliveries=max_deliveries)
            if time.monotonic() >= next_trim:
                next_trim = time.monotonic() + trim_every_s
                await bus.trim(stage.stream)
        except StorageUnavailableError as e:
            pause = min(MAX_PAUSE_S, max(0.1, pause * 2))
            log.warning("stage %s: storage unavailable (%s); again in %.1fs", stage.name, e,
                        pause)  # fmt: skip
            await _sleep(stopping, pause)
            continue
        pause = 0.0
        if handled == 0:
            await _idle(bus, stage.stream, stopping, poll_s)
    log.info("stage %s stopped on stream %s", stage.name, stage.stream.value)


async def _sleep(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


async def _idle(bus: Bus, stream: Stream, stopping: asyncio.Event, poll_s: float) -> None:
    """Wait for new entries, a stop, or the poll interval, whichever comes first."""
    waiters = {
        asyncio.create_task(bus.wait(stream, poll_s)),
        asyncio.create_task(stopping.wait()),
    }
    _, pending = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def drain(stages: Sequence[Stage], bus: Bus, metrics: RuntimeMetrics) -> int:
    """Run every stage until none has anything left; for replay. Returns entries handled."""
    total = 0
    while True:
        handled = 0
        for stage in stages:
            handled += await step(stage, bus, f"{stage.name}-replay", metrics)
        if handled == 0:
            return total
        total += handled
