"""An incident's summaries, kept as its alerts change: counts, distinct resources and names,
worst firing severity, failing resources. A change of one alert adds its new contribution
and takes away its old one, so the cost never depends on how many alerts the incident has.

Distinct counts need to know whether another alert of the incident has the same resource
or name: the store keeps a tally per (dimension, value) of each incident
(`core.store.Changes.tallies`), and a distinct count moves when a tally leaves or reaches 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from core.models import (
    SAMPLE_SIZE,
    AlertRole,
    AlertStatus,
    Incident,
    IncidentAlert,
    Severity,
    is_failing,
)

RESOURCE = "resource"
MEMBER_RESOURCE = "member_resource"
MEMBER_NAME = "member_name"
FAILING = "failing"
"""Tallied dimensions; `failing` is also the store's index of resources failing where."""
MAX_SERVICES = 64

_DISTINCT = {
    RESOURCE: "resource_count",
    MEMBER_RESOURCE: "member_resource_count",
    MEMBER_NAME: "member_name_count",
}

TallyKey = tuple[str, str]
"""(dimension, value)"""


def tally_keys(name: str, resource: str) -> list[TallyKey]:
    """Every tally an alert of `name` on `resource` may count in, whatever its role and
    status: what to read before changing it."""
    keys = [(MEMBER_NAME, name)]
    if resource:
        keys += [(RESOURCE, resource), (MEMBER_RESOURCE, resource), (FAILING, resource)]
    return keys


def _tallied(alert: IncidentAlert | None) -> dict[TallyKey, int]:
    if alert is None:
        return {}
    found: dict[TallyKey, int] = {}
    member = alert.role is AlertRole.MEMBER
    if member:
        found[MEMBER_NAME, alert.name] = 1
    if alert.resource:
        found[RESOURCE, alert.resource] = 1
        if member:
            found[MEMBER_RESOURCE, alert.resource] = 1
        if is_failing(alert):
            found[FAILING, alert.resource] = 1
    return found


@dataclass(slots=True)
class Summary:
    """The summaries of one incident being changed, and the tally increments so far."""

    incident: Incident
    read: Callable[[TallyKey], int]
    """The stored tally of a key (with earlier changes of the same batch applied)."""
    deltas: dict[TallyKey, int] = field(default_factory=dict)

    def tally(self, key: TallyKey) -> int:
        return self.read(key) + self.deltas.get(key, 0)

    def change(self, before: IncidentAlert | None, after: IncidentAlert) -> None:
        """One alert of the incident is now `after` (it was `before`, None if new)."""
        i = self.incident
        old, new = _tallied(before), _tallied(after)
        update: dict[str, object] = self._distinct(old, new)
        update["alert_count"] = i.alert_count + (before is None)
        update["symptom_count"] = i.symptom_count + _is_symptom(after) - _is_symptom(before)
        update["firing_count"] = i.firing_count + _is_firing(after) - _is_firing(before)
        update["flapping_count"] = i.flapping_count + after.flapping - _flapping(before)
        update["firing_severities"] = _severities(i.firing_severities, before, after)
        update["peak_severity"] = Severity.worst([i.peak_severity, after.severity])
        if after.service and after.service not in i.services and len(i.services) < MAX_SERVICES:
            update["services"] = (*i.services, after.service)
        update.update(self._titled(old, new, after))
        update["sample"] = _sampled(i.sample, after)
        self.incident = i.model_copy(update=update)

    def _distinct(self, old: dict[TallyKey, int], new: dict[TallyKey, int]) -> dict[str, object]:
        """The tallies' increments, and the distinct counts that move with them."""
        counts = {name: getattr(self.incident, name) for name in _DISTINCT.values()}
        for key in old.keys() | new.keys():
            step = new.get(key, 0) - old.get(key, 0)
            if not step:
                continue
            was = self.tally(key)
            self.deltas[key] = self.deltas.get(key, 0) + step
            count = _DISTINCT.get(key[0])
            if count is not None and (was > 0) != (was + step > 0):
                counts[count] += 1 if step > 0 else -1
        return dict(counts)

    def _titled(
        self, old: dict[TallyKey, int], new: dict[TallyKey, int], after: IncidentAlert
    ) -> dict[str, object]:
        """What names the title: the first member's name and resource; emptied when the
        last member of that name (resource) became a symptom, for another to name it."""
        i, update = self.incident, dict[str, object]()
        if after.role is AlertRole.MEMBER:
            if not i.title_name:
                update["title_name"] = after.name
            if not i.title_resource and after.resource:
                update["title_resource"] = after.resource
        for key, name in ((MEMBER_NAME, "title_name"), (MEMBER_RESOURCE, "title_resource")):
            named = (key, getattr(i, name))
            if named in old and named not in new and self.tally(named) <= 0:
                update[name] = ""
        return update


def _severities(
    counts: dict[Severity, int], before: IncidentAlert | None, after: IncidentAlert
) -> dict[Severity, int]:
    """Firing alerts by severity, `before` taken out and `after` counted."""
    found = dict(counts)
    if before is not None and before.status is AlertStatus.FIRING:
        found[before.severity] = found.get(before.severity, 0) - 1
    if after.status is AlertStatus.FIRING:
        found[after.severity] = found.get(after.severity, 0) + 1
    return {s: n for s, n in found.items() if n > 0}


def _sampled(sample: tuple[IncidentAlert, ...], alert: IncidentAlert) -> tuple[IncidentAlert, ...]:
    # The header is read whenever incidents are listed: its sample goes without labels,
    # which the alert's own row keeps.
    if alert.labels:
        alert = alert.model_copy(update={"labels": {}})
    for at, held in enumerate(sample):
        if held.fingerprint == alert.fingerprint:
            return (*sample[:at], alert, *sample[at + 1 :])
    return (*sample, alert) if len(sample) < SAMPLE_SIZE else sample


def _is_firing(alert: IncidentAlert | None) -> int:
    return int(alert is not None and alert.status is AlertStatus.FIRING)


def _is_symptom(alert: IncidentAlert | None) -> int:
    return int(alert is not None and alert.role is AlertRole.SYMPTOM)


def _flapping(alert: IncidentAlert | None) -> int:
    return int(alert is not None and alert.flapping)


def worst_severity(incident: Incident) -> Severity:
    """The worst severity of its firing alerts; with none firing, the worst it had."""
    firing = [s for s, n in incident.firing_severities.items() if n > 0]
    return Severity.worst(firing) if firing else incident.peak_severity


def title_for(incident: Incident) -> str:
    """A title a person can read: what fails, where, and how widely."""
    names = incident.member_name_count
    name = incident.title_name or "alert"
    what = name if names <= 1 else f"{name} and {names - 1} more"
    resources = incident.member_resource_count
    if resources == 1 and incident.title_resource:
        title = f"{what} on {incident.title_resource}"
    elif resources > 1:
        title = f"{what} on {resources} resources"
    else:
        title = what
    symptoms = incident.symptom_count
    return f"{title} (+{symptoms} symptoms)" if symptoms else title
