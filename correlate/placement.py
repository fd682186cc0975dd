"""Where an alert belongs in the operator's world: its catalogue service and its site."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Alert
from core.rules import Rules


@dataclass(frozen=True, slots=True)
class Placement:
    service: str
    site: str


def place(alert: Alert, rules: Rules) -> Placement:
    """The catalogue service of `alert` and the site of its resource (topology first, then
    its own `site` label, then its service's site)."""
    service = rules.catalogue.service_for(alert)
    site = rules.topology.site_of(alert.resource) if alert.resource else ""
    if not site:
        site = alert.labels.get("site", "")
    if not site and service in rules.services:
        site = rules.services[service].site
    return Placement(service, site)
