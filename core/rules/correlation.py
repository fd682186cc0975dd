"""Which alerts belong together, and how an incident lives and ends."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from core.rules.base import AlertMatch, Duration, Section

GROUP_FIELDS = ("sender_group", "service", "resource", "site", "name", "source", "severity")
"""What `group_by` can name besides labels: the sender's own group and the alert's fields."""


class CorrelationRule(Section):
    """Alerts this rule matches, and equal in every `group_by` value, form one incident."""

    name: str
    match: AlertMatch = AlertMatch()
    group_by: list[str] = Field(
        min_length=1, description=f"any of {', '.join(GROUP_FIELDS)}, or a label name"
    )
    reopen_window: Duration | None = Field(
        default=None, description="Overrides correlation.reopen_window for this rule"
    )


class FlappingRules(Section):
    """An alert that changes state more than `toggles` times within `within` is flapping."""

    toggles: int = Field(default=6, ge=2)
    within: Duration = timedelta(hours=1)
    calm: Duration = Field(
        default=timedelta(minutes=30),
        description="A flapping alert must stay resolved this long before its incident resolves",
    )


class CorrelationRules(Section):
    reopen_window: Duration = Field(
        default=timedelta(minutes=30),
        description="An alert of a resolved incident's group that fires within this time "
        "after the resolution reopens that incident instead of opening a new one.",
    )
    hold_down: Duration = Field(
        default=timedelta(0),
        description="An incident whose alerts have all resolved waits this long before it "
        "resolves, so a brief recovery does not close and reopen its ticket.",
    )
    symptom_hold: Duration = Field(
        default=timedelta(seconds=90),
        description="Incidents opened this long before their root cause's alert arrived are "
        "merged into the cause's incident as symptoms.",
    )
    settle: Duration = Field(
        default=timedelta(0),
        description="A new incident that its cause may still absorb (its resource sits "
        "behind another in the topology) waits this long before it is announced: no ticket, "
        "page or crisis until then; merged or resolved meanwhile, it never is. Like "
        "Alertmanager's group_wait: seconds of delay against a flood of pages.",
    )
    flapping: FlappingRules = FlappingRules()
    rules: list[CorrelationRule] = Field(
        default_factory=list,
        description="In order, first match wins; when none matches, the sender's own group, "
        "else service and resource",
    )
