"""How much of what fires now a silence would hide, so a silence of everything, or of most
of the centre, is never made by a slip of the hand."""

from __future__ import annotations

from dataclasses import dataclass

from core.matchers import AlertMatch, any_match
from core.models import AlertStatus, IncidentAlert
from core.store import IncidentFilter, Store
from core.store.pages import all_alerts

PREVIEW_LIMIT = 50
MAX_OPEN_INCIDENTS = 100_000


@dataclass(frozen=True, slots=True)
class Reach:
    """What a silence would match among the alerts firing now."""

    matched: list[IncidentAlert]
    firing: int

    @property
    def share(self) -> float:
        return len(self.matched) / self.firing if self.firing else 0.0

    def describe(self) -> dict[str, object]:
        return {
            "firing": self.firing,
            "matched": len(self.matched),
            "share": round(self.share, 4),
            "alerts": [
                {"source": a.source, "name": a.name, "resource": a.resource,
                 "service": a.service, "severity": a.severity.value}
                for a in self.matched[:PREVIEW_LIMIT]
            ],
        }  # fmt: skip


def may_match(match: AlertMatch, alert: IncidentAlert) -> bool:
    """Whether `match` may hide `alert`. An incident keeps no labels of its alerts, so a
    label matcher counts as matching: the estimate errs on the side of asking."""
    checks = (
        (match.sources, alert.source),
        (match.names, alert.name),
        (match.resources, alert.resource),
        (match.services, alert.service),
    )
    if any(patterns and not any_match(patterns, value) for patterns, value in checks):
        return False
    return not match.severities or alert.severity in match.severities


async def firing_alerts(store: Store) -> list[IncidentAlert]:
    """Every alert firing now in an open incident. The one place this module reads
    incidents, so the incident model can change behind it."""
    incidents = await store.list_incidents(IncidentFilter(open_only=True, limit=MAX_OPEN_INCIDENTS))
    return [
        alert
        for incident in incidents
        if incident.firing_count
        for alert in await all_alerts(store, incident.id)
        if alert.status is AlertStatus.FIRING
    ]


async def reach(store: Store, match: AlertMatch) -> Reach:
    firing = await firing_alerts(store)
    return Reach([a for a in firing if may_match(match, a)], len(firing))
