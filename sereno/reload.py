"""Reloading the rules while running, on SIGHUP or `POST /api/v1/rules/reload`.

The rules folder is read again; valid rules are swapped in whole (`RulesRef.replace`), so
each stage's next batch uses them. Invalid rules change nothing: the rules in force stay,
and the problems are logged and answered. Incidents, tickets and everything stored stay as
they are; an open incident is reassessed under the new rules when it next changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from core.rules import RulesError, RulesVersion, read_rules
from core.runbooks import load_runbooks
from sereno.keys import PIPELINE
from sereno.pipeline import Pipeline

log = logging.getLogger(__name__)

RELOAD_LOCK = web.AppKey("rules_reload_lock", asyncio.Lock)


@dataclass(frozen=True, slots=True)
class Reloaded:
    """Rules put in force: their version, the one they replaced, and what they hold."""

    version: RulesVersion
    previous: str | None
    counts: dict[str, int]
    summary: str

    def as_json(self, rules_dir: str) -> dict[str, object]:
        return {
            "status": "reloaded" if self.previous != self.version.digest else "unchanged",
            "rules_dir": rules_dir,
            "version": self.version.digest,
            "previous_version": self.previous,
            "loaded_at": self.version.loaded_at.isoformat(),
            "counts": self.counts,
            "summary": self.summary,
        }


async def reload_rules(pipeline: Pipeline, lock: asyncio.Lock) -> Reloaded:
    """Read the rules folder again and put its rules in force if they are valid; raise
    RulesError, with the rules in force unchanged, if they are not. Reloads run one at a
    time under `lock`, so the last one read is the one in force."""
    folder = pipeline.settings.rules_dir
    async with lock:
        try:
            # Reading and validating a folder of files must not stall the event loop.
            loaded = await asyncio.to_thread(read_rules, folder)
            # Runbooks are checked against the new rules (their services) and reloaded too.
            runbooks = await asyncio.to_thread(
                load_runbooks, pipeline.settings.runbooks_dir, loaded.rules
            )
        except RulesError as e:
            in_force = pipeline.rules.version.digest if pipeline.rules.version else "unknown"
            log.error(  # noqa: TRY400 - the problems are the message; a traceback adds nothing
                "rules reload refused: %d problem(s) in %s; the rules in force (version %s) "
                "stay:\n  %s",
                len(e.problems), folder, in_force, "\n  ".join(str(p) for p in e.problems),
            )  # fmt: skip
            raise
        previous = pipeline.rules.version.digest if pipeline.rules.version else None
        version = RulesVersion(loaded.digest, pipeline.clock.now())
        pipeline.rules.replace(loaded.rules, version, runbooks)
    reloaded = Reloaded(version, previous, loaded.rules.counts(), loaded.rules.summary())
    log.info(
        "rules reloaded from %s: version %s (was %s): %s",
        folder, version.digest, previous, reloaded.summary,
    )  # fmt: skip
    return reloaded


async def reload_route(request: web.Request) -> web.Response:
    """POST /api/v1/rules/reload: 200 with what is now in force, or 422 naming each
    problem's file and line (the rules in force stay)."""
    pipeline = request.app[PIPELINE]
    folder = str(pipeline.settings.rules_dir)
    try:
        reloaded = await reload_rules(pipeline, request.app[RELOAD_LOCK])
    except RulesError as e:
        in_force = pipeline.rules.version.digest if pipeline.rules.version else "unknown"
        count = f"{len(e.problems)} problem{'s' if len(e.problems) != 1 else ''}"
        return web.json_response(
            {
                "error": f"invalid rules in {folder} ({count}); the rules in force "
                f"(version {in_force}) stay",
                "detail": [
                    {"field": f"{p.file}:{p.line} {p.where}", "problem": p.problem}
                    for p in e.problems
                ],
            },
            status=422,
        )
    return web.json_response(reloaded.as_json(folder))


async def reload_on_sighup(app: web.Application) -> AsyncIterator[None]:
    """While the app runs, SIGHUP reloads the rules (as daemons do); problems are logged."""
    loop = asyncio.get_running_loop()
    running: set[asyncio.Task[None]] = set()

    async def reload_from_signal() -> None:
        with contextlib.suppress(RulesError):  # already logged; the old rules stay
            await reload_rules(app[PIPELINE], app[RELOAD_LOCK])

    def on_signal() -> None:
        log.info("SIGHUP: reloading the rules")
        task = asyncio.create_task(reload_from_signal(), name="rules-reload")
        running.add(task)
        task.add_done_callback(running.discard)

    loop.add_signal_handler(signal.SIGHUP, on_signal)
    yield
    loop.remove_signal_handler(signal.SIGHUP)
    for task in list(running):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def add_routes(app: web.Application) -> None:
    app[RELOAD_LOCK] = asyncio.Lock()
    app.router.add_post("/api/v1/rules/reload", reload_route)
