"""What the operations centre runs: its services and what depends on what."""

from __future__ import annotations

import enum
from collections.abc import Iterator

from pydantic import Field, PrivateAttr

from core.models import Alert
from core.rules.base import AlertMatch, Patterns, Section, any_match

ANCESTORS_KEPT = 100_000
"""Resources whose ancestors a topology remembers; it forgets them all past this."""


class Criticality(enum.StrEnum):
    """How much the business leans on a service."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Service(Section):
    """One business service of the catalogue."""

    name: str = Field(description="Business name people know it by, e.g. 'Email'")
    criticality: Criticality = Criticality.MEDIUM
    users: int = Field(default=0, ge=0, description="People who use it")
    group: str = Field(default="", description="Support group that owns it")
    hosts: Patterns = Field(
        default_factory=list, description="Resources it runs on (service → hosts), e.g. mail-*"
    )
    match: AlertMatch | None = Field(
        default=None, description="Further alerts that belong to it, e.g. by label"
    )
    depends_on: list[str] = Field(
        default_factory=list, description="Services it needs (service → service)"
    )
    site: str = ""


class Topology(Section):
    """What depends on what: host → switch → router; and which site holds which resource."""

    depends_on: dict[str, list[str]] = Field(
        default_factory=dict,
        description="resource pattern: the resources it depends on, e.g. 'web-*': [sw-core-2]",
    )
    sites: dict[str, Patterns] = Field(
        default_factory=dict, description="site: the resource patterns it holds"
    )
    _ancestors: dict[str, tuple[tuple[str, str], ...]] = PrivateAttr(default_factory=dict)
    """Each resource's ancestors, worked out once per rules version (up to ANCESTORS_KEPT)."""

    def upstream(self, resource: str) -> list[str]:
        """The resources `resource` depends on directly."""
        found: list[str] = []
        for pattern, parents in self.depends_on.items():
            if any_match([pattern], resource):
                found.extend(p for p in parents if p != resource and p not in found)
        return found

    def ancestors(self, resource: str) -> Iterator[tuple[str, str]]:
        """Every resource `resource` depends on, nearest first, each with the resource that
        depends on it directly (so a symptom can say "web-17 depends on sw-core-2")."""
        known = self._ancestors.get(resource)
        if known is None:
            known = tuple(self._walk(resource))
            if len(self._ancestors) >= ANCESTORS_KEPT:
                self._ancestors.clear()
            self._ancestors[resource] = known
        return iter(known)

    def _walk(self, resource: str) -> Iterator[tuple[str, str]]:
        seen = {resource}
        frontier = [resource]
        while frontier:
            child = frontier.pop(0)
            for parent in self.upstream(child):
                if parent not in seen:
                    seen.add(parent)
                    frontier.append(parent)
                    yield parent, child

    def site_of(self, resource: str) -> str:
        """The site holding `resource`, or "" when no site names it."""
        return next(
            (site for site, patterns in self.sites.items() if any_match(patterns, resource)), ""
        )


class Catalogue:
    """Finds an alert's service. Built once per rules version."""

    def __init__(self, services: dict[str, Service]) -> None:
        self._services = services

    def service_for(self, alert: Alert) -> str:
        """The catalogue's key for `alert`'s service: the service it names if the catalogue
        knows it, else the first service whose hosts or matcher take it, else what it says."""
        if alert.service in self._services:
            return alert.service
        for key, service in self._services.items():
            if alert.resource and any_match(service.hosts, alert.resource):
                return key
            if service.match is not None and service.match.matches(alert):
                return key
        return alert.service

    def dependents(self, key: str) -> set[str]:
        """Services that need `key`, directly or not: they suffer when it fails."""
        found: set[str] = set()
        frontier = [key]
        while frontier:
            current = frontier.pop()
            for other, service in self._services.items():
                if current in service.depends_on and other not in found and other != key:
                    found.add(other)
                    frontier.append(other)
        return found
