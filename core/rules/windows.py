"""Planned maintenance: recurring (weekly) or one-off windows in which alerts open nothing."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from functools import cache
from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, ValidationInfo, field_validator, model_validator

from core.models import AwareDatetime
from core.rules.base import AlertMatch, Section, TimeOfDay
from core.rules.explain import did_you_mean


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


_WEEKDAYS = list(Weekday)


class Weekly(Section):
    """Every week on `days`, from `start` to `end` local time (an end before the start runs
    past midnight into the next day)."""

    days: list[Weekday] = Field(min_length=1)
    start: TimeOfDay
    end: TimeOfDay

    def covers(self, local: datetime) -> bool:
        """True when the local time `local` lies inside one of this window's occurrences."""
        for days_back in (0, 1):
            day = (local - timedelta(days=days_back)).date()
            if _WEEKDAYS[day.weekday()] not in self.days:
                continue
            begins = datetime.combine(day, self.start, local.tzinfo)
            ends = datetime.combine(day, self.end, local.tzinfo)
            if ends <= begins:
                ends += timedelta(days=1)
            if begins <= local < ends:
                return True
        return False


class MaintenanceWindow(Section):
    """A planned window: matched alerts inside it never open incidents; they are recorded
    as suppressed by this window."""

    name: str
    match: AlertMatch
    weekly: Weekly | None = None
    starts_at: AwareDatetime | None = Field(default=None, description="One-off window start")
    ends_at: AwareDatetime | None = None
    comment: str = ""

    @field_validator("ends_at")
    @classmethod
    def _ends_after_start(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        starts_at = info.data.get("starts_at")
        if value is not None and starts_at is not None and value <= starts_at:
            raise ValueError(
                f"ends_at ({value.isoformat()}) must come after starts_at ({starts_at.isoformat()})"
            )
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        one_off = self.starts_at is not None or self.ends_at is not None
        if self.weekly is not None and one_off:
            raise ValueError(
                "give weekly: {…} for a recurring window or starts_at and ends_at for a "
                "one-off window, not both"
            )
        if self.weekly is None and not one_off:
            raise ValueError(
                'say when: add weekly: {days: [sun], start: "01:00", end: "05:00"}, or '
                "starts_at and ends_at (e.g. 2026-11-20T22:00:00+01:00)"
            )
        if self.weekly is None and self.starts_at is None:
            raise ValueError("a one-off window needs starts_at as well as ends_at")
        if self.weekly is None and self.ends_at is None:
            raise ValueError("a one-off window needs ends_at as well as starts_at")
        return self

    def active(self, at: datetime, zone: ZoneInfo) -> bool:
        """True when the window is open at the moment `at`."""
        if self.weekly is not None:
            return self.weekly.covers(at.astimezone(zone))
        assert self.starts_at is not None  # noqa: S101 - guaranteed by _one_kind
        assert self.ends_at is not None  # noqa: S101 - guaranteed by _one_kind
        return self.starts_at <= at < self.ends_at


class MaintenanceRules(Section):
    timezone: str = Field(default="Europe/Madrid", description="Zone of the weekly windows")
    windows: list[MaintenanceWindow] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def known_zone(value: str) -> str:
    """`value` if it names a zone of the IANA database; else a ValueError saying so."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        close = did_you_mean(value, _zone_names())
        raise ValueError(
            f"unknown time zone '{value}'{close}; write a zone name of the IANA "
            "database, such as Europe/Madrid or UTC"
        ) from e
    return value


@cache
def _zone_names() -> list[str]:
    return sorted(available_timezones())
