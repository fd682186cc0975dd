"""The HTTP application: receivers, read API, health and metrics, and the stages it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from core.clock import Clock, WallClock
from core.config import IngestSettings, Settings, StageName
from core.errors import StorageUnavailableError
from core.rules import RulesRef, RulesVersion, read_rules
from core.runtime import run_stage
from core.scheduler import run_scheduler
from ingest import http as ingest_http
from ingest.guard import Guard
from ingest.sns import Confirmer, HttpConfirmer
from sereno import (
    api,
    console,
    incident_commands,
    openapi,
    reload,
    reports,
    runbook_pages,
    silences,
    ticket_callback,
)
from sereno.auth import setup as auth_setup
from sereno.keys import PIPELINE
from sereno.pipeline import Pipeline, build_pipeline

log = logging.getLogger(__name__)

STOP_GRACE_S = 10.0
STORAGE_RETRY_AFTER_S = 5

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as JSON naming what is wrong; nothing leaves as a traceback."""
    try:
        return await handler(request)
    except StorageUnavailableError:
        log.exception("storage unavailable handling %s %s", request.method, request.path)
        return web.json_response(
            {"error": "storage unavailable; retry later", "detail": []},
            status=503,
            headers={"Retry-After": str(STORAGE_RETRY_AFTER_S)},
        )
    except web.HTTPException as e:
        if e.content_type == "application/json" or e.status < 400:
            raise
        message = e.reason
        if e.status == 404 and not request.match_info.route.resource:
            message = f"no such route: {request.method} {request.path}"
        elif e.status == 405:
            message = f"{request.method} is not allowed on {request.path}"
        elif e.status == 413:
            message = "request body too large (ingest.max_body_bytes)"
        return web.json_response(
            {"error": message, "detail": [{"field": "(request)", "problem": e.reason}]},
            status=e.status,
        )
    except Exception:
        log.exception("error handling %s %s", request.method, request.path)
        return web.json_response(
            {"error": "internal error; see the server log", "detail": []}, status=500
        )


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    storage_ok = await pipeline.storage.store.ping()
    # The rules in force are valid by construction: a reload that fails keeps the old ones.
    body: dict[str, object] = {"storage": storage_ok, "rules": True}
    if pipeline.rules.version is not None:
        body["rules_version"] = pipeline.rules.version.digest
        body["rules_loaded_at"] = pipeline.rules.version.loaded_at.isoformat()
    return web.json_response(body, status=200 if storage_ok else 503)


async def metrics(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    try:
        backlog = await pipeline.storage.bus.backlog()
    except StorageUnavailableError:
        # The counters of this process are still worth scraping; the backlog is unknown.
        log.warning("backlog unknown: storage unavailable")
        backlog = []
    for lag in backlog:
        labels = (lag.stream.value, lag.group)
        pipeline.runtime_metrics.bus_unread.labels(*labels).set(lag.unread)
        pipeline.runtime_metrics.bus_pending.labels(*labels).set(lag.pending)
    return web.Response(
        body=generate_latest(pipeline.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )


async def _storage_ctx(app: web.Application) -> AsyncIterator[None]:
    async with app[PIPELINE].storage:
        yield


async def _stages_ctx(app: web.Application) -> AsyncIterator[None]:
    pipeline = app[PIPELINE]
    stopping = asyncio.Event()
    storage, settings = pipeline.storage, pipeline.settings
    tasks = [
        asyncio.create_task(
            run_stage(stage, storage.bus, storage.consumer(stage.name), pipeline.runtime_metrics,
                      stopping, max_deliveries=settings.max_deliveries),
            name=f"stage-{stage.name}",
        )
        for stage in pipeline.stages
    ]  # fmt: skip
    if pipeline.deliverer is not None:
        tasks.append(asyncio.create_task(pipeline.deliverer.run(stopping), name="delivery"))
    tasks += [
        asyncio.create_task(watcher.run(stopping), name=f"watch-{name}")
        for name, watcher in pipeline.watchers.items()
    ]
    if StageName.SCHEDULER in pipeline.settings.stages:
        tasks.append(
            asyncio.create_task(
                run_scheduler(pipeline.storage.bus, pipeline.clock, pipeline.settings.tick_s,
                              stopping),
                name="scheduler",
            )
        )  # fmt: skip
        if settings.report.schedule:
            tasks.append(
                asyncio.create_task(
                    reports.run_daily_reports(storage.store, settings, pipeline.clock, stopping),
                    name="daily-report",
                )
            )
    yield
    stopping.set()
    # Each stage finishes the batch in hand; what it has not acknowledged comes back at restart.
    _, late = await asyncio.wait(tasks, timeout=STOP_GRACE_S) if tasks else (set(), set())
    for task in late:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    for backend in pipeline.backends:
        await backend.close()
    for silencer in pipeline.silencers:
        await silencer.close()
    for watcher in pipeline.watchers.values():
        await watcher.close()


def create_app(
    settings: Settings,
    rules: RulesRef | None = None,
    clock: Clock | None = None,
    confirmer: Confirmer | None = None,
) -> web.Application:
    """The whole of Sereno in one aiohttp application; nothing is opened until it starts.
    Without `rules`, the rules are read from `settings.rules_dir` (RulesError if invalid)."""
    clock = clock or WallClock()
    if rules is None:
        loaded = read_rules(settings.rules_dir)
        rules = RulesRef(loaded.rules, RulesVersion(loaded.digest, clock.now()))
    pipeline: Pipeline = build_pipeline(settings, rules, clock)
    app = web.Application(client_max_size=settings.ingest.max_body_bytes, middlewares=[json_errors])
    app[PIPELINE] = pipeline
    app.cleanup_ctx.append(_storage_ctx)
    auth_setup.install(app, settings, clock)
    app.cleanup_ctx.append(_stages_ctx)
    ingest_http.add_routes(
        app, pipeline.receiver, Guard(ingest_settings(settings)), confirmer or HttpConfirmer()
    )
    api.add_routes(app)
    silences.add_routes(app)
    incident_commands.add_routes(app)
    ticket_callback.add_routes(app)
    runbook_pages.add_routes(app)
    reports.add_routes(app)
    reload.add_routes(app)
    add_ops_routes(app)
    openapi.add_routes(app)
    console.add_routes(app)
    return app


def ingest_settings(settings: Settings) -> IngestSettings:
    """The receivers' settings, with whether every source needs a credential decided:
    unless said otherwise, yes when Sereno listens beyond loopback."""
    required = settings.ingest.require_credential
    if required is None:
        required = not settings.loopback
    return settings.ingest.model_copy(update={"require_credential": required})


def add_ops_routes(app: web.Application) -> None:
    """Liveness, readiness and metrics of the pipeline in `app[PIPELINE]`."""
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
