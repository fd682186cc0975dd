"""The daily report of one day, read from the store: what every entry point calls."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from core.config import Settings
from core.store import Store
from report.compute import compute_daily
from report.data import read_report_data
from report.model import DailyReport
from report.window import ReportWindow, latest_day, next_run

MARKER = "report:daily"
"""The store marker holding the day of the last report the scheduler delivered."""


def report_window(settings: Settings, day: date) -> ReportWindow:
    """The hours the report of `day` covers, by the configured hour and time zone."""
    at = time(settings.report.hour, settings.report.minute)
    return ReportWindow(day, at, ZoneInfo(settings.timezone))


def default_day(settings: Settings, now: datetime) -> date:
    """The day of the latest report whose time has come."""
    at = time(settings.report.hour, settings.report.minute)
    return latest_day(now, at, ZoneInfo(settings.timezone))


def report_day_after(settings: Settings, moment: datetime) -> date:
    """The day of the first report due after `moment`."""
    at = time(settings.report.hour, settings.report.minute)
    zone = ZoneInfo(settings.timezone)
    return next_run(moment, at, zone).astimezone(zone).date()


async def daily_report(store: Store, settings: Settings, day: date, now: datetime) -> DailyReport:
    """The report of `day`, as the store knows it at `now`."""
    window = report_window(settings, day)
    data = await read_report_data(store, window)
    return compute_daily(
        data, window, now, top=settings.report.top, recurring_min=settings.report.recurring_min
    )
