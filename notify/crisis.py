"""The crisis committee: one declaration when an incident becomes a crisis, an update at
the rules' cadence while it lasts, one closing message when it ends."""

from __future__ import annotations

from datetime import datetime

from core.models import Incident, IncidentStatus, NotifyState
from core.rules import CrisisCommittee
from notify.plan import Planned


def _over(incident: Incident) -> bool:
    return incident.status is IncidentStatus.RESOLVED or incident.merged_into is not None


def on_change(
    state: NotifyState,
    incident: Incident,
    at: datetime,
    committee: CrisisCommittee,
    *,
    declared: bool = True,
) -> tuple[NotifyState, list[Planned]]:
    """Declare the crisis the first time `incident` is one; close it when it ends. The
    state remembers the declaration, so no redelivery or later rule declares it again.
    A crisis `incident` took over (`declared` false: an incident declared before was
    merged into it) is followed with updates without a second declaration; the merged
    one's crisis goes on there, so it gets no closing message."""
    channels = tuple(committee.channels)
    if incident.crisis and state.crisis_declared_at is None and not _over(incident):
        if not declared:
            next_at = at + committee.update_every
            update = {"crisis_declared_at": at, "crisis_update_at": next_at if channels else None}
            return state.model_copy(update=update), []
        next_at = at + committee.update_every
        state = state.model_copy(
            update={"crisis_declared_at": at, "crisis_update_at": next_at if channels else None}
        )
        message = Planned(
            kind="crisis_declared", template="crisis_declared", channels=channels,
            key="crisis-declared", next_update_at=next_at,
        )  # fmt: skip
        return state, [message] if channels else []
    if state.crisis_declared_at is not None and state.crisis_closed_at is None and _over(incident):
        state = state.model_copy(update={"crisis_closed_at": at, "crisis_update_at": None})
        if incident.merged_into is not None:
            return state, []
        message = Planned(
            kind="crisis_closed", template="crisis_closed", channels=channels, key="crisis-closed"
        )
        return state, [message] if channels else []
    return state, []


def update(
    state: NotifyState, incident: Incident | None, now: datetime, committee: CrisisCommittee
) -> tuple[NotifyState, list[Planned]]:
    """The update due at `now` while the crisis lasts (or its closing, if it ended
    unseen), and the state with the next one's time."""
    due = state.crisis_update_at
    if due is None or now < due:
        return state, []
    if incident is None:
        return state.model_copy(update={"crisis_update_at": None}), []
    if _over(incident):
        return on_change(state, incident, now, committee)
    # Keep the cadence of the declaration; after a pause, one update, not a burst.
    next_at = due + committee.update_every
    while next_at <= now:
        next_at += committee.update_every
    number = state.crisis_updates + 1
    state = state.model_copy(update={"crisis_updates": number, "crisis_update_at": next_at})
    message = Planned(
        kind="crisis_update", template="crisis_update", channels=tuple(committee.channels),
        key=f"crisis-update-{number}", update_number=number, next_update_at=next_at,
    )  # fmt: skip
    return state, [message]
