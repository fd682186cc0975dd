"""Severity, impact, urgency and priority of an incident, and who owns it."""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Alert, Incident
from core.rules import AlertMatch, Criticality, Reach, Rules
from correlate.summary import worst_severity

_CRITICALITY_ORDER = list(Criticality)


def reach(incident: Incident, rules: Rules) -> Reach:
    """What the incident touches: its services and the services that depend on them (their
    users suffer too), and how many resources it spans."""
    touched: set[str] = set()
    for service in incident.services:
        if service in rules.services:
            touched |= {service, *rules.catalogue.dependents(service)}
    known = [rules.services[s] for s in sorted(touched)]
    users = max((s.users for s in known), default=0)
    criticality = min((s.criticality for s in known), key=_CRITICALITY_ORDER.index, default=None)
    main = rules.services.get(incident.service)
    return Reach(
        users=users,
        criticality=criticality,
        resources=incident.resource_count,
        service_name=main.name if main else incident.service,
    )


def assess(incident: Incident, rules: Rules) -> Incident:
    """`incident` with severity (worst firing alert), impact, urgency, priority and the
    reason for it, and users affected, from the summaries of its alerts."""
    severity = worst_severity(incident)
    touched = reach(incident, rules)
    assessment = rules.priority.assess(severity, touched)
    return incident.model_copy(
        update={
            "severity": severity,
            "impact": assessment.impact,
            "urgency": assessment.urgency,
            "priority": assessment.priority,
            "priority_reason": assessment.reason,
            "users_affected": touched.users,
        }
    )


@dataclass(frozen=True, slots=True)
class Ownership:
    group: str
    why: str
    """Which rule chose the group, in words, for the timeline."""


def owner(alert: Alert, service: str, rules: Rules) -> Ownership:
    """The support group of an incident that `alert` (of `service`) opens: the first routing
    rule that matches the alert, else the group that owns its service, else the default
    group; with the reason."""
    for number, route in enumerate(rules.routing.routes, start=1):
        if route.match.matches(alert, service):
            return Ownership(
                route.group, f"routing rule {number} matches ({_in_words(route.match)})"
            )
    known = rules.services.get(service)
    if known is not None and known.group:
        return Ownership(known.group, f"the group that owns service {known.name} (services.yaml)")
    return Ownership(
        rules.routing.default_group,
        "routing.default_group, as no routing rule matches and the service catalogue knows "
        "no owner",
    )


def _in_words(match: AlertMatch) -> str:
    parts = [
        f"{field} {', '.join(values)}"
        for field, values in (
            ("sources", match.sources),
            ("names", match.names),
            ("resources", match.resources),
            ("services", match.services),
            ("severities", [s.value for s in match.severities]),
        )
        if values
    ]
    parts.extend(f"label {name}={'|'.join(patterns)}" for name, patterns in match.labels.items())
    return "; ".join(parts) or "every alert"
