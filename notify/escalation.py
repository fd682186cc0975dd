"""Escalation: nobody acknowledged in time, so the next level is told; after the last
level the policy starts over, as often as it says. It stops once someone acknowledges or
the incident resolves."""

from __future__ import annotations

from datetime import datetime

from core.models import Incident, IncidentStatus, NotifyState
from core.rules import NotificationRules
from notify.plan import Planned


def escalate(
    state: NotifyState, incident: Incident | None, now: datetime, rules: NotificationRules
) -> tuple[NotifyState, list[Planned]]:
    """The escalation due at `now`, if any, and the state with its next timer."""
    if state.escalate_at is None or now < state.escalate_at:
        return state, []
    levels = rules.levels(state.group)
    if incident is None or incident.status is not IncidentStatus.OPEN or not levels:
        return state.model_copy(update={"escalate_at": None}), []
    level, round_ = state.escalation_level + 1, state.escalation_round
    if level >= len(levels):
        level, round_ = 0, round_ + 1
    if round_ > rules.repeats(state.group):
        return state.model_copy(update={"escalate_at": None}), []
    count = state.escalations + 1
    state = state.model_copy(
        update={"escalation_level": level, "escalation_round": round_, "escalations": count,
                "escalate_at": now + levels[level].wait}
    )  # fmt: skip
    message = Planned(
        kind="escalated", template="on_call", channels=tuple(levels[level].channels),
        key=f"escalated-{count}", level=level + 1,
    )  # fmt: skip
    return state, [message]
