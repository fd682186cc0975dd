"""Deduplication: is this alert news, or a repeat of what a fingerprint already said?"""

from __future__ import annotations

import enum

from core.models import Alert, AlertState, AlertStatus


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


def remember(state: AlertState | None, alert: Alert, incident_id: str | None) -> AlertState:
    """The fingerprint's state after `alert`."""
    if state is None:
        return AlertState(
            fingerprint=alert.fingerprint,
            incident_id=incident_id,
            status=alert.status,
            first_seen=alert.received_at,
            last_seen=alert.received_at,
        )
    return state.model_copy(
        update={
            "incident_id": incident_id,
            "status": alert.status,
            "last_seen": alert.received_at,
            "count": state.count + 1,
        }
    )
