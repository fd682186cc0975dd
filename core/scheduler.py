"""The scheduler: tells the pipeline that time has passed, so timers fall due without an
alert arriving (hold-downs, silent monitors, crisis durations)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.bus import Bus, Stream
from core.clock import Clock
from core.models import Tick

log = logging.getLogger(__name__)


async def tick(bus: Bus, clock: Clock) -> None:
    """Publish one tick at the clock's current time on the alerts stream."""
    await bus.publish(Stream.ALERTS, [Tick(at=clock.now()).model_dump_json()])


async def run_scheduler(bus: Bus, clock: Clock, every_s: float, stopping: asyncio.Event) -> None:
    """Tick every `every_s` seconds until `stopping` is set. Several schedulers at once are
    harmless: a tick only makes due what is already due."""
    log.info("scheduler ticking every %.0fs", every_s)
    while not stopping.is_set():
        try:
            await tick(bus, clock)
        except Exception:  # a missed tick is made up by the next one
            log.exception("tick failed; trying again in %.0fs", every_s)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), every_s)
