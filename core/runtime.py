"""Running a stage: read a batch, hand it to the stage, repeat; drain on stop.

A stage's `handle` commits its effects together with the acknowledgement of its input,
so the loop never acknowledges anything itself: a crash anywhere leaves unacknowledged
entries pending, and they come back when the stage starts again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from core.bus import Bus, Entry, Stream
from core.errors import PermanentError, Reason, Retry
from core.metrics import RuntimeMetrics
from core.models import SCHEMA_VERSION
from core.store import Ack, Changes, ConflictError, Store

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

MAX_ATTEMPTS = 8


class Stage(Protocol):
    """One step of the pipeline: consumes one stream as one consumer group."""

    @property
    def name(self) -> str: ...

    @property
    def stream(self) -> Stream: ...

    async def handle(self, entries: Sequence[Entry]) -> None:
        """Process `entries` and commit the effects with their acknowledgement, atomically."""
        ...


def decode(entries: Sequence[Entry], model: type[M]) -> tuple[list[tuple[Entry, M]], list[Entry]]:
    """Parse entries into `model`; returns the good ones and the ones that never will parse."""
    good: list[tuple[Entry, M]] = []
    bad: list[Entry] = []
    for entry in entries:
        try:
            value = model.model_validate_json(entry.body)
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
    """Acknowledge entries that can never be processed, so they do not block the stream."""
    if not entries:
        return
    await store.commit(Changes(acks=[Ack(stage.stream, stage.name, tuple(e.id for e in entries))]))
    metrics.dead_letters.labels(stage.name, Reason.MALFORMED_ENTRY.value).inc(len(entries))


async def step(
    stage: Stage, bus: Bus, consumer: str, metrics: RuntimeMetrics, batch: int = 500
) -> int:
    """Read and handle one batch; returns how many entries it handled (0: nothing to do)."""
    entries = await bus.read(stage.stream, stage.name, consumer, batch)
    if not entries:
        return 0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            await stage.handle(entries)
            break
        except ConflictError:
            # Another writer got there first; the stage re-reads the state and decides again.
            log.info("%s: conflict on attempt %d, retrying", stage.name, attempt)
        except Retry as e:
            log.warning("%s: %s; retrying in %.1fs", stage.name, e, e.defer)
            await asyncio.sleep(e.defer)
    else:
        raise PermanentError(Reason.MALFORMED_ENTRY, f"{stage.name} gave up after {MAX_ATTEMPTS}")
    now = time.time()
    for entry in entries:
        metrics.stage_latency.labels(stage.name).observe(max(0.0, now - entry.published_at))
    metrics.entries_processed.labels(stage.name).inc(len(entries))
    return len(entries)


async def run_stage(
    stage: Stage,
    bus: Bus,
    consumer: str,
    metrics: RuntimeMetrics,
    stopping: asyncio.Event,
    poll_s: float = 1.0,
) -> None:
    """Run `stage` until `stopping` is set; the batch in hand is finished first."""
    log.info("stage %s started as %s", stage.name, consumer)
    while not stopping.is_set():
        try:
            handled = await step(stage, bus, consumer, metrics)
        except PermanentError:
            log.exception("stage %s cannot make progress; pausing", stage.name)
            handled = 0
        if handled == 0:
            await _idle(bus, stage.stream, stopping, poll_s)
    log.info("stage %s stopped", stage.name)


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
