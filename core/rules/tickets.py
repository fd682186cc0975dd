"""The ticket policy: which incidents get a ticket and when, how often a ticket is updated,
its category, the SLA it is held to, and when recurring incidents open a problem record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator

from core.models import Priority, TicketCategory
from core.rules.base import Duration, Section, TimeOfDay
from core.rules.ticket_systems import TicketSystems
from core.rules.windows import Weekday, known_zone


class SlaTarget(Section):
    """How soon a ticket of one priority must be acknowledged (response) and resolved."""

    response: Duration
    resolution: Duration
    business_hours: bool = Field(
        default=False,
        description="Count only business hours (sla.business_hours, minus holidays)",
    )

    @model_validator(mode="after")
    def _response_first(self) -> Self:
        if self.resolution < self.response:
            raise ValueError("resolution must not come sooner than response")
        return self


class BusinessHours(Section):
    """The hours the support groups work, local time: every week on `days`."""

    days: list[Weekday] = Field(
        default_factory=lambda: [Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI],
        min_length=1,
    )
    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.end <= self.start:
            raise ValueError(
                f"end ({self.end:%H:%M}) must come after start ({self.start:%H:%M}) on the same "
                'day, e.g. start: "08:00", end: "18:00"'
            )
        return self


class SlaRules(Section):
    timezone: str = Field(default="Europe/Madrid", description="Zone of business hours")
    business_hours: BusinessHours | None = None
    holidays: list[date] = Field(default_factory=list, description="Days without business hours")
    targets: dict[Priority, SlaTarget] = Field(default_factory=dict)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)

    @model_validator(mode="after")
    def _hours_when_counted(self) -> Self:
        counted = sorted(p.value for p, t in self.targets.items() if t.business_hours)
        if counted and self.business_hours is None:
            raise ValueError(
                f"targets of {', '.join(counted)} count business hours: add business_hours: "
                '{days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}'
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ProblemRules(Section):
    """An incident that recurs (same service and alert name) `recurrences` times within
    `within` opens one problem record linking them, updated as more recur."""

    recurrences: int | None = Field(
        default=3, ge=2, description="Incidents that make a problem; null: no problem records"
    )
    within: Duration = timedelta(days=7)


def _default_open() -> dict[Priority, timedelta]:
    # Without a policy every incident gets its ticket at once, as it always has.
    return dict.fromkeys(Priority, timedelta(0))


class TicketRules(Section):
    """When incidents become tickets, and what those tickets promise."""

    open: dict[Priority, Duration] = Field(
        default_factory=_default_open,
        description="Priorities that open a ticket, each after the incident has been open this "
        "long; a priority not listed never opens one",
    )
    coalesce: Duration = Field(
        default=timedelta(minutes=5),
        description="At most one update of a ticket per this interval; changes wait for it",
    )
    category: TicketCategory = TicketCategory.INCIDENT
    category_by_source: dict[str, TicketCategory] = Field(
        default_factory=dict,
        description="Sources whose incidents are of another category (user request forms)",
    )
    sla: SlaRules = SlaRules()
    problems: ProblemRules = ProblemRules()
    systems: TicketSystems = Field(
        default_factory=TicketSystems,
        description="How each external ticket system's queues, priorities and statuses map",
    )

    @field_validator("category_by_source")
    @classmethod
    def _no_problems_by_source(cls, value: dict[str, TicketCategory]) -> dict[str, TicketCategory]:
        for source, category in value.items():
            if category is TicketCategory.PROBLEM:
                raise ValueError(
                    f"source '{source}': problem records come from recurrences (problems:), "
                    "not from a source; write incident or service_request"
                )
        return value

    def opens_after(self, priority: Priority) -> timedelta | None:
        """How long an incident of `priority` is open before its ticket opens; None: never."""
        return self.open.get(priority)
