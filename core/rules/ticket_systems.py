"""How each external ticket system's fields map onto Sereno's: where a ticket goes (queue,
category, group) by support group and service, the system's priority scale, and which of
its statuses count as taken, resolved and reopened. One section per backend under
`tickets.systems` in rules/tickets.yaml; the connection itself (URL, credentials) is in the
settings."""

from __future__ import annotations

from typing import Generic, Self, TypeVar

from pydantic import Field, model_validator

from core.models import Priority
from core.rules.base import Section


def _default_rt_priorities() -> dict[Priority, int]:
    return {Priority.P1: 90, Priority.P2: 70, Priority.P3: 50, Priority.P4: 30, Priority.P5: 10}


T = TypeVar("T", str, int)


class Statuses(Section, Generic[T]):
    """Which statuses mean what: entering a `taken` one acknowledges the incident, a
    `resolved` one resolves it, leaving `resolved` for a `reopened` one reopens it.
    `resolve_to` and `reopen_to` are what Sereno sets."""

    taken: list[T] = Field(default_factory=list)
    resolved: list[T] = Field(min_length=1)
    reopened: list[T] = Field(min_length=1)
    resolve_to: T
    reopen_to: T

    def action(self, old: T, new: T) -> str:
        """What moving from status `old` to `new` asks of the incident: "resolve",
        "reopen", "acknowledge" or "" (nothing)."""
        if new in self.resolved and old not in self.resolved:
            return "resolve"
        if old in self.resolved and new in self.reopened:
            return "reopen"
        if new in self.taken and old not in self.taken and old not in self.resolved:
            return "acknowledge"
        return ""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        both = set(self.resolved) & (set(self.taken) | set(self.reopened))
        if both:
            raise ValueError(f"{sorted(map(str, both))} cannot be resolved and also taken or "
                             "reopened; list each status once")  # fmt: skip
        if self.resolve_to not in self.resolved:
            raise ValueError(f"resolve_to {self.resolve_to!r} must be one of resolved")
        if self.reopen_to not in self.reopened:
            raise ValueError(f"reopen_to {self.reopen_to!r} must be one of reopened")
        return self


def _rt_statuses() -> Statuses[str]:
    return Statuses[str](taken=["open"], resolved=["resolved", "rejected"],
                         reopened=["open", "new", "stalled"], resolve_to="resolved",
                         reopen_to="open")  # fmt: skip


class RtMapping(Section):
    """Request Tracker: queues by service (first) and support group, RT's 0-99 priority."""

    queue: str = Field(default="General", min_length=1, description="When nothing is mapped")
    queues: dict[str, str] = Field(default_factory=dict, description="Support group -> queue")
    services: dict[str, str] = Field(default_factory=dict, description="Service -> queue")
    priorities: dict[Priority, int] = Field(default_factory=_default_rt_priorities)
    statuses: Statuses[str] = Field(default_factory=_rt_statuses)

    @model_validator(mode="after")
    def _priorities_in_range(self) -> Self:
        wrong = {p.value: v for p, v in self.priorities.items() if not 0 <= v <= 99}
        if wrong:
            raise ValueError(f"RT priorities run from 0 to 99; got {wrong}")
        return self

    def queue_for(self, group: str, service: str) -> str:
        return self.services.get(service) or self.queues.get(group) or self.queue


class GlpiScale(Section):
    """GLPI's urgency and impact (1 very low .. 5 very high) and priority (.. 6 major)."""

    urgency: int = Field(ge=1, le=5)
    impact: int = Field(ge=1, le=5)
    priority: int = Field(ge=1, le=6)


def _default_scales() -> dict[Priority, GlpiScale]:
    values = {Priority.P1: (5, 5, 6), Priority.P2: (4, 4, 5), Priority.P3: (3, 3, 3),
              Priority.P4: (2, 2, 2), Priority.P5: (1, 1, 1)}  # fmt: skip
    return {p: GlpiScale(urgency=u, impact=i, priority=r) for p, (u, i, r) in values.items()}


def _glpi_statuses() -> Statuses[int]:
    # GLPI: 1 new, 2 processing (assigned), 3 processing (planned), 4 pending, 5 solved,
    # 6 closed.
    return Statuses[int](taken=[2, 3], resolved=[5, 6], reopened=[1, 2, 3, 4], resolve_to=5,
                         reopen_to=2)  # fmt: skip


class GlpiMapping(Section):
    """GLPI: ITIL categories by service (first) and support group, the group assigned, and
    GLPI's urgency/impact/priority for each of Sereno's priorities."""

    category: int = Field(default=0, ge=0, description="ITIL category when nothing is mapped")
    categories: dict[str, int] = Field(default_factory=dict, description="Group -> category")
    services: dict[str, int] = Field(default_factory=dict, description="Service -> category")
    groups: dict[str, int] = Field(
        default_factory=dict, description="Support group -> GLPI group assigned, and back"
    )
    scales: dict[Priority, GlpiScale] = Field(default_factory=_default_scales)
    statuses: Statuses[int] = Field(default_factory=_glpi_statuses)

    def category_for(self, group: str, service: str) -> int:
        return self.services.get(service) or self.categories.get(group) or self.category


def _jira_statuses() -> Statuses[str]:
    return Statuses[str](taken=["In Progress"], resolved=["Done", "Resolved", "Closed"],
                         reopened=["To Do", "In Progress", "Reopened"], resolve_to="Done",
                         reopen_to="To Do")  # fmt: skip


class JiraMapping(Section):
    """Jira: which statuses mean taken, resolved, reopened (the way out moves issues by the
    transitions named in the settings)."""

    statuses: Statuses[str] = Field(default_factory=_jira_statuses)


class TicketSystems(Section):
    rt: RtMapping = RtMapping()
    glpi: GlpiMapping = GlpiMapping()
    jira: JiraMapping = JiraMapping()
