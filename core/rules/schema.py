"""All rules sections together, and the checks that span sections."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from pydantic import Field

from core.models import Alert, Severity
from core.rules.base import Section, any_match
from core.rules.catalogue import Catalogue, Service, Topology
from core.rules.correlation import GROUP_FIELDS, CorrelationRule, CorrelationRules
from core.rules.explain import Location, did_you_mean
from core.rules.notifications import NotificationRules
from core.rules.priority import PriorityRules
from core.rules.response import CrisisRule, Heartbeat, RoutingRules
from core.rules.sources import (
    DEFAULT_SEVERITY_WORDS,
    FieldMapping,
    ResourceRules,
    SourceSeverity,
)
from core.rules.windows import MaintenanceRules


@dataclass(frozen=True, slots=True)
class CrossProblem:
    """A problem no single section can see, at `where`. `reads` names the sections the
    check relied on, so it is not reported when one of those could not be read."""

    where: Location
    problem: str
    reads: frozenset[str]


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
    notifications: NotificationRules = NotificationRules()

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

    def counts(self) -> dict[str, int]:
        """How much policy these rules hold, section by section, for summaries."""
        return {
            "services": len(self.services),
            "topology_links": sum(len(p) for p in self.topology.depends_on.values()),
            "sites": len(self.topology.sites),
            "correlation_rules": len(self.correlation.rules),
            "crisis_rules": len(self.crisis),
            "maintenance_windows": len(self.maintenance.windows),
            "heartbeats": len(self.heartbeats),
            "routes": len(self.routing.routes),
            "mappings": len(self.mappings),
            "notification_channels": len(self.notifications.channels),
        }

    def summary(self) -> str:
        """The counts in words: "11 services, 12 topology links, 1 mapping"."""
        return ", ".join(
            f"{n} {name.replace('_', ' ').removesuffix('s') if n == 1 else name.replace('_', ' ')}"
            for name, n in self.counts().items()
        )

    def cross_check(self) -> list[CrossProblem]:
        """Problems no single section can see: names that refer to nothing, loops."""
        return [
            *self._unknown_services(),
            *self._service_loops(),
            *self._topology_loops(),
            *self._correlation_problems(),
            *(
                CrossProblem(("notifications", *loc), problem, frozenset({"notifications"}))
                for loc, problem in self.notifications.cross_problems()
            ),
        ]

    def _unknown_services(self) -> list[CrossProblem]:
        problems: list[CrossProblem] = []
        keys = sorted(self.services)
        known = ", ".join(keys) or "(no services yet)"
        sites = sorted(self.topology.sites)
        services, both = frozenset({"services"}), frozenset({"services", "topology"})

        def unknown(name: str) -> str:
            return f"unknown service '{name}'{did_you_mean(name, keys)}; write one of: {known}"

        for key, service in self.services.items():
            problems.extend(
                CrossProblem(("services", key, "depends_on", i), unknown(needed), services)
                for i, needed in enumerate(service.depends_on)
                if needed not in self.services
            )
            if service.site and sites and service.site not in self.topology.sites:
                problems.append(
                    CrossProblem(
                        ("services", key, "site"),
                        f"unknown site '{service.site}'{did_you_mean(service.site, sites)}; "
                        f"write one of the sites of topology.sites: {', '.join(sites)}",
                        both,
                    )
                )
        heartbeats = frozenset({"heartbeats", "services"})
        problems.extend(
            CrossProblem(("heartbeats", i, "service"), unknown(beat.service), heartbeats)
            for i, beat in enumerate(self.heartbeats)
            if beat.service and beat.service not in self.services
        )
        return problems

    def _correlation_problems(self) -> list[CrossProblem]:
        problems: list[CrossProblem] = []
        reads = frozenset({"correlation"})
        first_at: dict[str, int] = {}
        for i, rule in enumerate(self.correlation.rules):
            if rule.name in first_at:
                problems.append(
                    CrossProblem(
                        ("correlation", "rules", i, "name"),
                        f"rule name '{rule.name}' is already used by rules[{first_at[rule.name]}]"
                        "; give each rule its own name",
                        reads,
                    )
                )
            first_at.setdefault(rule.name, i)
            problems.extend(
                CrossProblem(
                    ("correlation", "rules", i, "group_by", j),
                    f"write the label name alone ('{field.removeprefix('labels.')}'); "
                    f"group_by takes {', '.join(GROUP_FIELDS)} or a label name",
                    reads,
                )
                for j, field in enumerate(rule.group_by)
                if field.startswith("labels.")
            )
        return problems

    def _service_loops(self) -> list[CrossProblem]:
        """Each loop of services needing each other, once."""
        problems: list[CrossProblem] = []
        seen: set[frozenset[str]] = set()
        for key in self.services:
            loop = self._service_loop_from(key)
            if loop is not None and frozenset(loop) not in seen:
                seen.add(frozenset(loop))
                problems.append(
                    CrossProblem(
                        ("services", key, "depends_on"),
                        f"services depend on each other in a loop: {' → '.join(loop)}; "
                        "remove one of these depends_on entries",
                        frozenset({"services"}),
                    )
                )
        return problems

    def _service_loop_from(self, key: str) -> list[str] | None:
        frontier = [(key, [key])]
        while frontier:
            current, trail = frontier.pop()
            for needed in self.services.get(current, Service(name="")).depends_on:
                if needed == key:
                    return [*trail, key]
                if needed not in trail and needed in self.services:
                    frontier.append((needed, [*trail, needed]))
        return None

    def _topology_loops(self) -> list[CrossProblem]:
        """Every topology entry whose resources would, through the chain, depend on
        themselves."""
        problems: list[CrossProblem] = []
        for pattern, parents in self.topology.depends_on.items():
            for i, parent in enumerate(parents):
                if _matches(pattern, parent):
                    problem = (
                        f"'{pattern}' depends on {parent}, which '{pattern}' matches too: "
                        f"{parent} would depend on itself; narrow the pattern"
                    )
                elif any(_matches(pattern, a) for a in dict(self.topology.ancestors(parent))):
                    problem = (
                        f"'{pattern}' depends on {parent}, which depends back on it: a "
                        "resource cannot be its own cause; remove one of the links of the loop"
                    )
                else:
                    continue
                where: Location = ("topology", "depends_on", pattern, i)
                problems.append(CrossProblem(where, problem, frozenset({"topology"})))
                break
        return problems


def _matches(pattern: str, resource: str) -> bool:
    return any_match([pattern], resource)
