"""Who responds: routing to support groups, crisis rules, and heartbeats of the monitors."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from core.models import Priority, Severity
from core.rules.base import AlertMatch, Duration, Section


class Route(Section):
    """Incidents whose first alert this matches go to `group`."""

    match: AlertMatch
    group: str = Field(min_length=1)


class RoutingRules(Section):
    """Which support group owns an incident: the first route that matches, else the
    service's owning group, else `default_group`."""

    default_group: str = "service-desk"
    routes: list[Route] = Field(default_factory=list)


class CrisisRule(Section):
    """When an incident becomes a crisis for the committee. Every condition given must hold."""

    name: str
    priority: Priority | None = Field(
        default=None, description="This priority or a more urgent one"
    )
    users_at_least: int | None = Field(default=None, ge=0)
    services_down_in_site_at_least: int | None = Field(
        default=None, ge=2, description="Services of one site with open incidents at once"
    )
    open_longer_than: Duration | None = None

    def describe(self) -> str:
        """The rule in words, for the incident's timeline."""
        parts = []
        if self.priority is not None:
            parts.append(f"priority {self.priority.value} or higher")
        if self.users_at_least is not None:
            parts.append(f"at least {self.users_at_least:,} users affected")
        if self.services_down_in_site_at_least is not None:
            parts.append(f"{self.services_down_in_site_at_least}+ services of one site down")
        if self.open_longer_than is not None:
            parts.append(f"open longer than {_words(self.open_longer_than)}")
        return " and ".join(parts) or "always"


def _words(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


class Heartbeat(Section):
    """A monitor that must report at least every `every`; silence opens an incident of its
    own, so a dead monitor is never mistaken for a quiet night."""

    name: str
    match: AlertMatch = Field(description="Alerts that count as a sign of life")
    every: Duration
    severity: Severity = Severity.MAJOR
    service: str = ""
