"""Deduplication: is this alert news, or a repeat of what a fingerprint already said?"""

from __future__ import annotations

import enum

from core.models import Alert, AlertState, AlertStatus
from core.rules import FlappingRules


class Change(enum.Enum):
    FIRING = "firing"
    """A fingerprint starts firing (first time, or again after it resolved)."""
    RESOLVED = "resolved"
    """A firing fingerprint resolved."""
    REPEAT = "repeat"
    """Nothing new: the fingerprint already is in this state."""
    UNKNOWN_RESOLVED = "unknown_resolved"
    """A resolution for something never seen firing: nothing to resolve."""


def classify(state: AlertState | None, alert: Alert) -> Change:
    """What `alert` changes, given what is known of its fingerprint."""
    if alert.status is AlertStatus.FIRING:
        if state is not None and state.status is AlertStatus.FIRING:
            return Change.REPEAT
        return Change.FIRING
    if state is None or state.incident_id is None:
        return Change.UNKNOWN_RESOLVED
    if state.status is AlertStatus.RESOLVED:
        return Change.REPEAT
    return Change.RESOLVED


def remember(
    state: AlertState | None,
    alert: Alert,
    incident_id: str | None,
    change: Change,
    flapping: FlappingRules,
) -> AlertState:
    """The fingerprint's state after `alert`. Changes of state are kept for `flapping.within`;
    more than `flapping.toggles` of them, or the source saying so, mark it flapping."""
    now = alert.received_at
    changes = () if state is None else state.changes
    if change in (Change.FIRING, Change.RESOLVED):
        changes = (*changes, now)
    changes = tuple(t for t in changes if now - t <= flapping.within)
    is_flapping = alert.flapping or len(changes) > flapping.toggles
    if state is None:
        return AlertState(
            fingerprint=alert.fingerprint,
            incident_id=incident_id,
            status=alert.status,
            first_seen=now,
            last_seen=now,
            changes=changes,
            flapping=is_flapping,
        )
    return state.model_copy(
        update={
            "incident_id": incident_id,
            "status": alert.status,
            "last_seen": max(now, state.last_seen),
            "count": state.count + 1,
            "changes": changes,
            "flapping": is_flapping,
        }
    )
