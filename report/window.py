"""Which 24 hours a daily report covers, in the configured time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class ReportWindow:
    """From the report time of the day before `day` to the report time of `day` (local
    time: on the days the clocks change it lasts 23 or 25 hours, as the meeting's day does)."""

    day: date
    at: time
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.day - timedelta(days=1), self.at, self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day, self.at, self.zone).astimezone(UTC)

    def shifted(self, days: int) -> ReportWindow:
        """The window of the report `days` days later (earlier when negative)."""
        return ReportWindow(self.day + timedelta(days=days), self.at, self.zone)


def latest_day(now: datetime, at: time, zone: ZoneInfo) -> date:
    """The day of the latest report due at or before `now`: today once `at` has passed."""
    local = now.astimezone(zone)
    today = local.date()
    return today if local >= datetime.combine(today, at, zone) else today - timedelta(days=1)


def next_run(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The next moment after `now` when a report falls due, in UTC."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), at, zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), at, zone)
    return candidate.astimezone(UTC)
