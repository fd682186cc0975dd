"""On-call messages: the owning group hears when an incident opens, reopens, gets a higher
priority, is acknowledged, resolved or merged. Alerts joining it are not news."""

from __future__ import annotations

from core.models import IncidentEvent, IncidentEventKind, IncidentStatus, NotifyState
from core.rules import EscalationLevel, NotificationRules
from notify.plan import Planned

_KINDS = {
    IncidentEventKind.OPENED: "opened",
    IncidentEventKind.REOPENED: "reopened",
    IncidentEventKind.ACKNOWLEDGED: "acknowledged",
    IncidentEventKind.RESOLVED: "resolved",
    IncidentEventKind.MERGED: "merged",
}


def reached(state: NotifyState, levels: list[EscalationLevel]) -> tuple[str, ...]:
    """The channels of every escalation level notified so far, in order, once each."""
    last = (
        len(levels) - 1 if state.escalation_round else min(state.escalation_level, len(levels) - 1)
    )
    channels = [c for level in levels[: last + 1] for c in level.channels]
    return tuple(dict.fromkeys(channels))


def on_call(
    state: NotifyState, event: IncidentEvent, rules: NotificationRules
) -> tuple[NotifyState, list[Planned]]:
    """The on-call message `event` calls for (if any), and the escalation timer it starts
    or stops."""
    incident = event.incident
    kind = _KINDS.get(event.kind)
    if event.kind is IncidentEventKind.UPDATED and event.priority_raised:
        kind = "priority_raised"
    levels = rules.levels(incident.group)
    state = state.model_copy(update={"group": incident.group})
    if kind in ("opened", "reopened"):
        # A policy with somewhere to go next waits for an acknowledgement.
        waits = len(levels) > 1 or rules.repeats(incident.group) > 0
        state = state.model_copy(
            update={
                "escalation_level": 0,
                "escalation_round": 0,
                "escalate_at": event.at + levels[0].wait if levels and waits else None,
            }
        )
    if incident.status is not IncidentStatus.OPEN:
        state = state.model_copy(update={"escalate_at": None})
    if kind is None or not levels:
        return state, []
    message = Planned(
        kind=kind, template="on_call", channels=reached(state, levels),
        key=f"{kind}-v{incident.version}",
    )  # fmt: skip
    return state, [message]
