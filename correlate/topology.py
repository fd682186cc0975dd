"""Topology root cause: an alert behind a failing resource is a symptom, not an incident."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from core.models import AlertRole, AlertStatus, Incident, IncidentAlert
from core.rules import Rules, Topology


@dataclass(frozen=True, slots=True)
class Cause:
    incident_id: str
    resource: str
    """The failing upstream resource."""
    reason: str
    """In words: "web-17 depends on sw-core-2"."""


def _reason(resource: str, upstream: str, via: str) -> str:
    if via == resource:
        return f"{resource} depends on {upstream}, which is failing"
    return f"{resource} depends on {upstream} (through {via}), which is failing"


def find_cause(
    resource: str, topology: Topology, failing: Callable[[str], str | None]
) -> Cause | None:
    """The nearest upstream resource of `resource` that `failing` says has an unresolved
    incident, or None. `failing(resource)` gives that incident's id."""
    if not resource:
        return None
    for upstream, via in topology.ancestors(resource):
        incident_id = failing(upstream)
        if incident_id is not None:
            return Cause(incident_id, upstream, _reason(resource, upstream, via))
    return None


def upstream_resources(rules: Rules) -> frozenset[str]:
    """Every resource something depends on: only these can be a root cause."""
    return frozenset(p for parents in rules.topology.depends_on.values() for p in parents)


def symptoms_of(
    cause_resource: str,
    incidents: Iterable[tuple[Incident, Sequence[IncidentAlert]]],
    topology: Topology,
) -> dict[str, dict[str, str]]:
    """Incidents (by id, each with its alerts) all of whose firing alerts sit behind
    `cause_resource`, with the reason for each of their alerts: they are symptoms that
    arrived before their cause."""
    found: dict[str, dict[str, str]] = {}
    for incident, alerts in incidents:
        firing = [a for a in alerts if a.status is AlertStatus.FIRING]
        reasons: dict[str, str] = {}
        for alert in firing:
            via = dict(topology.ancestors(alert.resource)).get(cause_resource)
            if via is None:
                break
            reasons[alert.fingerprint] = _reason(alert.resource, cause_resource, via)
        else:
            if firing:
                found[incident.id] = reasons
    return found


def members_behind(
    alerts: Iterable[IncidentAlert], cause_resource: str, topology: Topology
) -> dict[str, str]:
    """Firing members among an incident's `alerts` that sit behind `cause_resource`, which
    fails in that same incident, with the reason for each (by fingerprint). A sender that
    groups a switch with its hosts (one Alertmanager group of ICMP probes) brings them in
    as members before the switch is known to be their cause."""
    found: dict[str, str] = {}
    for alert in alerts:
        if alert.role is AlertRole.SYMPTOM or alert.status is not AlertStatus.FIRING:
            continue
        via = dict(topology.ancestors(alert.resource)).get(cause_resource)
        if via is not None:
            found[alert.fingerprint] = _reason(alert.resource, cause_resource, via)
    return found
