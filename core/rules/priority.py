"""Priority as ITIL has it: impact and urgency give P1…P5 through a matrix."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from core.models import Impact, Priority, Severity, Urgency
from core.rules.base import Section
from core.rules.catalogue import Criticality


class ImpactLevel(Section):
    """When an incident reaches an impact level: any one condition given is enough."""

    users_at_least: int | None = Field(default=None, ge=0)
    criticality: list[Criticality] = Field(default_factory=list)
    resources_at_least: int | None = Field(
        default=None, ge=1, description="An incident this wide reaches the level, whatever it is"
    )

    def reached(self, users: int, criticality: Criticality | None, resources: int) -> str | None:
        """Why the level is reached, in words, or None."""
        if self.users_at_least is not None and users >= self.users_at_least:
            return f"{users:,} users affected (≥ {self.users_at_least:,})"
        if criticality is not None and criticality in self.criticality:
            return f"criticality {criticality.value}"
        if self.resources_at_least is not None and resources >= self.resources_at_least:
            return f"{resources} resources affected (≥ {self.resources_at_least})"
        return None


def _default_matrix() -> dict[Impact, dict[Urgency, Priority]]:
    p = Priority
    return {
        Impact.HIGH: {Urgency.HIGH: p.P1, Urgency.MEDIUM: p.P2, Urgency.LOW: p.P3},
        Impact.MEDIUM: {Urgency.HIGH: p.P2, Urgency.MEDIUM: p.P3, Urgency.LOW: p.P4},
        Impact.LOW: {Urgency.HIGH: p.P3, Urgency.MEDIUM: p.P4, Urgency.LOW: p.P5},
    }


def _default_urgency() -> dict[Severity, Urgency]:
    return {
        Severity.CRITICAL: Urgency.HIGH,
        Severity.MAJOR: Urgency.HIGH,
        Severity.MINOR: Urgency.MEDIUM,
        Severity.WARNING: Urgency.LOW,
        Severity.INFO: Urgency.LOW,
    }


@dataclass(frozen=True, slots=True)
class Assessment:
    impact: Impact
    urgency: Urgency
    priority: Priority
    reason: str


@dataclass(frozen=True, slots=True)
class Reach:
    """What an incident touches, as the priority matrix weighs it."""

    users: int
    criticality: Criticality | None
    resources: int
    service_name: str = ""


class PriorityRules(Section):
    urgency: dict[Severity, Urgency] = Field(default_factory=_default_urgency)
    impact: dict[Impact, ImpactLevel] = Field(
        default_factory=lambda: {
            Impact.HIGH: ImpactLevel(users_at_least=5000, resources_at_least=50),
            Impact.MEDIUM: ImpactLevel(users_at_least=100, resources_at_least=5),
        },
        description="high and medium: when they are reached; otherwise the impact is low",
    )
    matrix: dict[Impact, dict[Urgency, Priority]] = Field(default_factory=_default_matrix)

    def assess(self, severity: Severity, reach: Reach) -> Assessment:
        """Impact, urgency and priority of an incident of `severity` with `reach`, and why."""
        urgency = self.urgency.get(severity, Urgency.MEDIUM)
        impact, why = Impact.LOW, "no impact threshold reached"
        for level in (Impact.HIGH, Impact.MEDIUM):
            rule = self.impact.get(level)
            reached = (
                rule.reached(reach.users, reach.criticality, reach.resources) if rule else None
            )
            if reached is not None:
                impact, why = level, reached
                break
        priority = self.matrix.get(impact, {}).get(urgency, Priority.P3)
        service = f"{reach.service_name}: " if reach.service_name else ""
        reason = (
            f"{priority.value} from impact {impact.value} ({service}{why}) and urgency "
            f"{urgency.value} (severity {severity.value})"
        )
        return Assessment(impact, urgency, priority, reason)
