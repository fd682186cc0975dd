"""Severity, impact, urgency and priority of an incident, and who owns it."""

from __future__ import annotations

from core.models import Incident, Severity
from core.rules import Criticality, Reach, Rules

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
        resources=len(incident.resources),
        service_name=main.name if main else incident.service,
    )


def assess(incident: Incident, rules: Rules) -> Incident:
    """`incident` with severity (worst firing alert), impact, urgency, priority and the
    reason for it, and users affected, recomputed from its alerts."""
    firing = [a.severity for a in incident.alerts if a.status.value == "firing"]
    severity = Severity.worst(firing or [a.severity for a in incident.alerts])
    services = tuple(dict.fromkeys(a.service for a in incident.alerts if a.service))
    incident = incident.model_copy(update={"services": services})
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


def owner(service: str, first_alert_route: str | None, rules: Rules) -> str:
    """The support group of an incident: a matching route, else its service's owner, else
    the default group."""
    if first_alert_route:
        return first_alert_route
    known = rules.services.get(service)
    if known is not None and known.group:
        return known.group
    return rules.routing.default_group
