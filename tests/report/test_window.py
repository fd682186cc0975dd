"""Which hours a report covers and when the next falls due, in Madrid time, across the
changes of the clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from report.window import ReportWindow, latest_day, next_run

MADRID = ZoneInfo("Europe/Madrid")
NINE = time(9)


def test_the_day_the_clocks_go_forward_lasts_23_hours() -> None:
    window = ReportWindow(date(2026, 3, 29), NINE, MADRID)  # the clocks change that night
    assert window.start == datetime(2026, 3, 28, 8, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert window.end - window.start == timedelta(hours=23)
    assert window.shifted(-1).end == window.start


def test_the_next_report_is_at_nine_local_whatever_the_season() -> None:
    winter = datetime(2026, 3, 28, 8, 0, tzinfo=UTC)  # 09:00 in Madrid, due now
    assert next_run(winter, NINE, MADRID) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert next_run(winter - timedelta(seconds=1), NINE, MADRID) == winter


def test_before_nine_the_latest_report_is_yesterdays() -> None:
    assert latest_day(datetime(2026, 11, 20, 7, 59, tzinfo=UTC), NINE, MADRID) == date(2026, 11, 19)
    assert latest_day(datetime(2026, 11, 20, 8, 0, tzinfo=UTC), NINE, MADRID) == date(2026, 11, 20)
