"""The daily report's entry points: `sereno report daily`, GET /api/v1/reports/daily, and
the scheduler that produces and delivers it in `serve` at the configured hour."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from aiohttp import web

from core.clock import Clock
from core.config import Settings
from core.storage import Storage
from core.store import Changes, Store
from report.daily import MARKER, daily_report, default_day, report_day_after
from report.deliver import deliver
from report.render import ReportFormat, render
from report.window import next_run
from sereno.api import QueryError
from sereno.keys import PIPELINE

log = logging.getLogger(__name__)

LONGEST_WAIT_S = 300.0
"""The scheduler looks at the clock at least this often, so a clock that jumps (a suspended
machine, a changed time) delays a report by minutes at most."""


async def produce(settings: Settings, day: date | None, report_format: ReportFormat,
                  now: datetime) -> str:  # fmt: skip
    """The report of `day` (default: the latest due) rendered, from the configured storage."""
    async with Storage(settings) as storage:
        report = await daily_report(storage.store, settings, day or default_day(settings, now), now)
    return render(report, report_format, settings.language)


async def get_daily(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    settings, now = pipeline.settings, pipeline.clock.now()
    day = default_day(settings, now)
    if "date" in request.query:
        try:
            day = date.fromisoformat(request.query["date"])
        except ValueError:
            raise QueryError("date", "write a date as YYYY-MM-DD") from None
        # The next report may be looked at before its meeting (so far); later ones not.
        upcoming = report_day_after(settings, now)
        if day > upcoming:
            raise QueryError(
                "date",
                f"the report of {day} lies in the future: the next is {upcoming}, at "
                f"{settings.report.hour:02d}:{settings.report.minute:02d} {settings.timezone}",
            )
    try:
        report_format = ReportFormat(request.query.get("format", "json"))
    except ValueError:
        raise QueryError("format", "write one of: html, md, json") from None
    report = await daily_report(pipeline.storage.store, settings, day, now)
    return web.Response(
        text=render(report, report_format, settings.language),
        content_type=report_format.media_type,
        charset="utf-8",
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/reports/daily", get_daily)


async def produce_due(store: Store, settings: Settings, now: datetime) -> date | None:
    """Produce and deliver the latest report due unless it was delivered already (the day
    of the last one is a store marker, so a restart never sends one twice); its day."""
    day = default_day(settings, now)
    last = await store.marker(MARKER)
    if last is not None and date.fromisoformat(last) >= day:
        return None
    report = await daily_report(store, settings, day, now)
    problems = await deliver(settings.report, report, settings.language)
    # Delivered where it could be: a failed channel is logged, not retried all day long.
    await store.commit(Changes(markers={MARKER: day.isoformat()}))
    log.info("daily report of %s produced%s", day, f" ({len(problems)} failed)" if problems else "")
    return day


async def run_daily_reports(
    store: Store, settings: Settings, clock: Clock, stopping: asyncio.Event
) -> None:
    """Produce each day's report when its time comes, until `stopping` is set."""
    at = time(settings.report.hour, settings.report.minute)
    zone = ZoneInfo(settings.timezone)
    while not stopping.is_set():
        try:
            await produce_due(store, settings, clock.now())
        except Exception:  # the next look at the clock tries again
            log.exception("daily report failed; trying again in %.0fs", LONGEST_WAIT_S)
        wait = (next_run(clock.now(), at, zone) - clock.now()).total_seconds()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), min(max(wait, 1.0), LONGEST_WAIT_S))
