"""Crisis detection: when an incident must reach the crisis committee."""

from __future__ import annotations

from datetime import datetime

from core.models import Incident, IncidentStatus, Priority
from core.rules import CrisisRule, Rules

_PRIORITIES = list(Priority)


def _holds(rule: CrisisRule, incident: Incident, now: datetime, site_services: int) -> bool:
    if rule.priority is not None and _PRIORITIES.index(incident.priority) > _PRIORITIES.index(
        rule.priority
    ):
        return False
    if rule.users_at_least is not None and incident.users_affected < rule.users_at_least:
        return False
    if rule.services_down_in_site_at_least is not None and (
        # Only an incident that is itself one of the services down speaks for the site.
        site_services < rule.services_down_in_site_at_least or not incident.service_down
    ):
        return False
    return rule.open_longer_than is None or now - incident.opened_at > rule.open_longer_than


def crisis_rule(
    incident: Incident, rules: Rules, now: datetime, site_services: int
) -> CrisisRule | None:
    """The first crisis rule that holds for `incident` at `now`, or None. A crisis is
    declared once: an incident already in crisis, or resolved, gets None.
    `site_services` counts the services down at its site."""
    if incident.crisis or incident.status is IncidentStatus.RESOLVED:
        return None
    return next((r for r in rules.crisis if _holds(r, incident, now, site_services)), None)


def next_check(incident: Incident, rules: Rules, now: datetime) -> datetime | None:
    """When, after `now`, a duration rule could declare a crisis on time alone, if ever."""
    if incident.crisis or incident.status is IncidentStatus.RESOLVED:
        return None
    moments = [
        incident.opened_at + r.open_longer_than
        for r in rules.crisis
        if r.open_longer_than is not None and incident.opened_at + r.open_longer_than >= now
    ]
    return min(moments, default=None)


def needs_site_count(rules: Rules) -> bool:
    return any(r.services_down_in_site_at_least is not None for r in rules.crisis)
