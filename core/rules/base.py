"""Building blocks of the rules schema: sections, durations, field paths and alert matchers."""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from core.matchers import AlertMatch, Patterns, any_match

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_duration(value: object) -> object:
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"'{value}' is not a duration; write for example 90s, 5m, 2h or 1d")
        return timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration)]
"""A duration written as 90s, 5m, 2h or 1d (or a number of seconds)."""


def _time_of_day(value: object) -> object:
    # Unquoted, YAML 1.1 reads 22:00 as the number 1320 (22 x 60): refuse it rather than
    # silently run a window at 00:22.
    if isinstance(value, int | float) and not isinstance(value, bool):
        hours, minutes = divmod(int(value), 60)
        guess = f'"{hours:02d}:{minutes:02d}"' if 0 <= value < 24 * 60 else '"22:00"'
        raise ValueError(  # noqa: TRY004 - pydantic reports ValueError only, not TypeError
            f"YAML read this time as the number {value}; write it in quotes, e.g. {guess}"
        )
    return value


TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]
"""A local time of day, written in quotes: "22:00"."""


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


_PATH = re.compile(r"^[^.\[\]]+(\[\d+\])*(\.[^.\[\]]+(\[\d+\])*)*$")


def _check_path(value: str) -> str:
    if value and not _PATH.match(value):
        raise ValueError(
            f"'{value}' is not a field path; write for example monitor.host or tags[0]"
        )
    return value


FieldPath = Annotated[str, AfterValidator(_check_path)]
"""Where a value sits in a JSON body: dotted keys and [index], e.g. monitor.tags[0]."""


__all__ = [
    "AlertMatch",
    "Duration",
    "FieldPath",
    "Patterns",
    "Section",
    "TimeOfDay",
    "any_match",
]
