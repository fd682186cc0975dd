"""All rules sections together, and the checks that span sections."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field

from core.models import Alert, Severity
from core.rules.base import Section, any_match
from core.rules.catalogue import Catalogue, Service, Topology
from core.rules.correlation import GROUP_FIELDS, CorrelationRule, CorrelationRules
from core.rules.priority import PriorityRules
from core.rules.response import CrisisRule, Heartbeat, RoutingRules
from core.rules.sources import (
    DEFAULT_SEVERITY_WORDS,
    FieldMapping,
    ResourceRules,
    SourceSeverity,
)
from core.rules.windows import MaintenanceRules

Location = tuple[str | int, ...]


class Rules(Section):
    """All rules sections, each with a sensible default."""

    services: dict[str, Service] = Field(
        default_factory=dict, description="The service catalogue, by key"
    )
    topology: Topology = Topology()
    correlation: CorrelationRules = CorrelationRules()
    severity: dict[str, SourceSeverity] = Field(default_factory=dict)
    priority: PriorityRules = PriorityRules()
    routing: RoutingRules = RoutingRules()
    crisis: list[CrisisRule] = Field(default_factory=list)
    maintenance: MaintenanceRules = MaintenanceRules()
    heartbeats: list[Heartbeat] = Field(default_factory=list)
    resources: ResourceRules = ResourceRules()
    mappings: dict[str, FieldMapping] = Field(
        default_factory=dict,
        description="Receivers defined by field mapping: POST /api/v1/alerts/<name>",
    )

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(self.services)

    def severity_of(self, source: str, word: str | None) -> Severity:
        """Map a source's own severity word onto the one scale: the operator's mapping for
        that source first, then the common words, then the source's default."""
        mapping = self.severity.get(source, SourceSeverity())
        if word is None:
            return mapping.default
        key = word.strip().lower()
        if key in mapping.map:
            return mapping.map[key]
        return DEFAULT_SEVERITY_WORDS.get(key, mapping.default)

    def severity_label(self, source: str) -> str:
        return self.severity.get(source, SourceSeverity()).label

    def correlation_rule(self, alert: Alert, service: str) -> CorrelationRule | None:
        """The first correlation rule that takes `alert`, or None for the default grouping."""
        return next((r for r in self.correlation.rules if r.match.matches(alert, service)), None)

    def cross_check(self) -> list[tuple[Location, str]]:
        """Problems no single section can see: names that refer to nothing, cycles."""
        return [
            *self._unknown_services(),
            *self._service_cycles(),
            *self._topology_cycles(),
            *self._correlation_problems(),
        ]

    def _unknown_services(self) -> list[tuple[Location, str]]:
        problems: list[tuple[Location, str]] = []
        known = ", ".join(sorted(self.services)) or "(no services yet)"
        sites = ", ".join(sorted(self.topology.sites))
        for key, service in self.services.items():
            problems.extend(
                (("services", key, "depends_on", i),
                 f"unknown service '{needed}'; write one of: {known}")
                for i, needed in enumerate(service.depends_on)
                if needed not in self.services
            )  # fmt: skip
            if service.site and self.topology.sites and service.site not in self.topology.sites:
                problems.append(
                    (("services", key, "site"),
                     f"unknown site '{service.site}'; write one of: {sites}")
                )  # fmt: skip
        problems.extend(
            (("heartbeats", i, "service"),
             f"unknown service '{beat.service}'; write one of: {known}")
            for i, beat in enumerate(self.heartbeats)
            if beat.service and beat.service not in self.services
        )  # fmt: skip
        return problems

    def _correlation_problems(self) -> list[tuple[Location, str]]:
        problems: list[tuple[Location, str]] = []
        names = [r.name for r in self.correlation.rules]
        for i, rule in enumerate(self.correlation.rules):
            if names.index(rule.name) != i:
                problems.append(
                    (("correlation", "rules", i, "name"),
                     f"rule name '{rule.name}' is used twice; give each rule its own name")
                )  # fmt: skip
            problems.extend(
                (("correlation", "rules", i, "group_by", j),
                 (f"write the label name alone ('{field.removeprefix('labels.')}'); "
                  f"group_by takes {', '.join(GROUP_FIELDS)} or a label name"))
                for j, field in enumerate(rule.group_by)
                if field.startswith("labels.")
            )  # fmt: skip
        return problems

    def _service_cycles(self) -> list[tuple[Location, str]]:
        for key in self.services:
            path = [key]
            frontier = [(key, path)]
            while frontier:
                current, trail = frontier.pop()
                for needed in self.services.get(current, Service(name="")).depends_on:
                    if needed == key:
                        loop = " → ".join([*trail, key])
                        where: Location = ("services", key, "depends_on")
                        return [(where, f"services depend on each other in a loop: {loop}")]
                    if needed not in trail and needed in self.services:
                        frontier.append((needed, [*trail, needed]))
        return []

    def _topology_cycles(self) -> list[tuple[Location, str]]:
        for pattern, parents in self.topology.depends_on.items():
            for parent in parents:
                ancestors = dict(self.topology.ancestors(parent))
                if any(_matches(pattern, a) for a in ancestors) or _matches(pattern, parent):
                    where: Location = ("topology", "depends_on", pattern)
                    return [
                        (where, (f"'{pattern}' depends on {parent}, which depends back on it: "
                                 "a resource cannot be its own cause"))
                    ]  # fmt: skip
        return []


def _matches(pattern: str, resource: str) -> bool:
    return any_match([pattern], resource)
