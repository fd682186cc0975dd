"""Matching alerts: the one language of silences, maintenance windows and rules."""

from __future__ import annotations

import fnmatch
import functools
import re
from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from core.models import Alert, AwareDatetime, Severity


def _one_or_many(value: object) -> object:
    """`names: HostDown` reads as `names: [HostDown]`: operators write one value bare."""
    return [value] if isinstance(value, str | int) else value


Patterns = Annotated[list[str], BeforeValidator(_one_or_many)]
"""One glob pattern or a list of them (`web-*`, `sw-core-?`); any of them may match."""


def any_match(patterns: list[str], value: str) -> bool:
    """True when `value` matches one of the glob `patterns`."""
    if not patterns:
        return False
    return _compiled(tuple(patterns)).match(value) is not None


@functools.lru_cache(maxsize=4096)
def _compiled(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for a list of glob patterns: every alert is matched against
    the rules' patterns many times, and one compiled expression is many times faster."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.DOTALL)


class AlertMatch(BaseModel):
    """Which alerts a rule is about. Every condition given must hold; within one condition
    any of its values may match. An empty matcher matches every alert."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: Patterns = Field(default_factory=list, description="e.g. zabbix, alertmanager")
    names: Patterns = Field(default_factory=list, description="alert names, e.g. HostDown")
    resources: Patterns = Field(default_factory=list, description="resources, e.g. web-*")
    services: Patterns = Field(default_factory=list, description="services, e.g. email")
    severities: list[Severity] = Field(default_factory=list)
    labels: dict[str, Patterns] = Field(
        default_factory=dict, description="label name: value pattern(s)"
    )

    def matches(self, alert: Alert, service: str | None = None) -> bool:
        """True when `alert` (whose service may have been resolved to `service`) matches."""
        checks = (
            (self.sources, alert.source),
            (self.names, alert.name),
            (self.resources, alert.resource),
            (self.services, alert.service if service is None else service),
        )
        if any(patterns and not any_match(patterns, value) for patterns, value in checks):
            return False
        if self.severities and alert.severity not in self.severities:
            return False
        return all(
            name in alert.labels and any_match(patterns, alert.labels[name])
            for name, patterns in self.labels.items()
        )


class Silence(BaseModel):
    """A silence made by a person: alerts it matches between `starts_at` and `ends_at` open
    nothing and are recorded as suppressed. Expiring a silence ends it now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    match: AlertMatch
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    created_by: str = Field(min_length=1, max_length=256)
    comment: str = Field(min_length=1, max_length=4096)
    created_at: AwareDatetime

    @model_validator(mode="after")
    def _ends_after_start(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must come after starts_at")
        return self

    def active(self, at: datetime) -> bool:
        """True when the silence is in force at the moment `at`."""
        return self.starts_at <= at < self.ends_at
