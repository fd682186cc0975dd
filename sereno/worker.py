"""`sereno worker STAGE`: one stage in a process of its own, against Redis.

Run as many of each as the load needs, on as many machines: consumer names carry the
host and the pid, so workers never take each other's entries for their own, and what a
dead worker held is taken over by another once it has been idle for `claim_idle_s`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack

from aiohttp import web

from core.clock import WallClock
from core.config import ConfigError, Settings, StageName
from core.rules import RulesRef
from core.runtime import run_stage
from core.scheduler import run_scheduler
from sereno.app import add_ops_routes, create_app
from sereno.keys import PIPELINE
from sereno.pipeline import Pipeline, build_pipeline
from sereno.reports import run_daily_reports

log = logging.getLogger(__name__)


def check_worker_settings(settings: Settings) -> None:
    """Raise ConfigError unless the settings name a Redis: workers share their streams."""
    if not settings.redis_url:
        raise ConfigError(
            "sereno worker runs one stage against Redis: give --redis redis://HOST:PORT/DB"
            " or redis_url in the settings (without Redis, `sereno serve` runs every stage)"
        )


async def run_worker(
    settings: Settings, rules: RulesRef, stage: StageName, listen: str | None
) -> None:
    """Run `stage` until SIGTERM or SIGINT, then finish the batch in hand and stop.

    `ingest` serves the HTTP receivers on `listen` (default: the settings' `listen`);
    other stages serve /healthz, /readyz and /metrics there only when `listen` is given."""
    check_worker_settings(settings)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    own = settings.model_copy(update={"stages": (stage,)})
    async with AsyncExitStack() as stack:
        if stage is StageName.INGEST:
            # The application opens and closes its storage itself (cleanup_ctx). It is told
            # where it really listens: beyond loopback, auth and sender credentials are due.
            own = own.model_copy(update={"listen": listen or settings.listen})
            await _serve(stack, create_app(own, rules), own.listen)
            log.info("ingest worker listening on http://%s", listen or settings.listen)
            await stopping.wait()
            return
        pipeline = build_pipeline(own, rules, WallClock())
        await stack.enter_async_context(pipeline.storage)
        if listen is not None:
            ops = web.Application()
            ops[PIPELINE] = pipeline
            add_ops_routes(ops)
            await _serve(stack, ops, listen)
        log.info("%s worker on %s", stage.value, pipeline.storage.describe())
        await _run(pipeline, stage, stopping)


async def _run(pipeline: Pipeline, stage: StageName, stopping: asyncio.Event) -> None:
    if stage is StageName.SCHEDULER:
        # Ticks on the alerts stream make timers fall due (hold-downs, silent monitors,
        # crisis durations); several schedulers at once are harmless. The daily report is
        # not: two schedulers could both send it, so run one with report.schedule on.
        settings = pipeline.settings
        jobs = [run_scheduler(pipeline.storage.bus, pipeline.clock, settings.tick_s, stopping)]
        if settings.report.schedule:
            jobs.append(run_daily_reports(pipeline.storage.store, settings, pipeline.clock,
                                          stopping))  # fmt: skip
        await asyncio.gather(*jobs)
        return
    # The ticketer worker also runs the delivery loop of each external ticket backend.
    storage = pipeline.storage
    running = [
        run_stage(runnable, storage.bus, storage.consumer(runnable.name),
                  pipeline.runtime_metrics, stopping,
                  max_deliveries=pipeline.settings.max_deliveries)
        for runnable in pipeline.stages
    ]  # fmt: skip
    if pipeline.deliverer is not None:
        # The notify worker also delivers what it decided, apart from its stage.
        running.append(pipeline.deliverer.run(stopping))
    try:
        await asyncio.gather(*running)
    finally:
        for backend in pipeline.backends:
            await backend.close()
        for silencer in pipeline.silencers:
            await silencer.close()


async def _serve(stack: AsyncExitStack, app: web.Application, listen: str) -> None:
    host, _, port = listen.rpartition(":")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    stack.push_async_callback(runner.cleanup)
    await web.TCPSite(runner, host.strip("[]"), int(port)).start()
