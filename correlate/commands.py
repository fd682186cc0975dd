"""A person's command on an incident (acknowledge, resolve, assign, comment, reopen), by
hand or from a ticket system, applied by correlate, which owns incidents. It changes the
incident's draft."""

from __future__ import annotations

from datetime import datetime

from core.models import CommandAction, IncidentCommand, IncidentStatus
from correlate import lifecycle
from correlate.draft import Draft


def _who(command: IncidentCommand) -> str:
    by = command.by or "someone"
    note = f": {command.note}" if command.note else ""
    return f"{by} via {command.origin}{note}"


def apply(draft: Draft, command: IncidentCommand, now: datetime) -> bool:
    """The incident after `command`; False when it changes nothing (resolved already,
    acknowledged again, assigned to whom it already is), so a repeated command is harmless.
    Every change names its actor and where it came from on the timeline: who held the
    incident, and when, is read there."""
    if command.action is CommandAction.COMMENT:
        said = (command.text or command.note).strip()
        if not said:
            return False
        draft.note(now, "comment", f"{command.by or 'someone'} via {command.origin}: {said}")
        return True
    if command.action is CommandAction.REOPEN:
        return _reopen(draft, command, now)
    if draft.incident.status is IncidentStatus.RESOLVED:
        return False
    steps = {CommandAction.RESOLVE: _resolve, CommandAction.ASSIGN: _assign}
    return steps.get(command.action, _acknowledge)(draft, command, now)


def _resolve(draft: Draft, command: IncidentCommand, now: datetime) -> bool:
    lifecycle.resolve(draft, now, f"by {_who(command)}")
    return True


def _acknowledge(draft: Draft, command: IncidentCommand, now: datetime) -> bool:
    incident = draft.incident
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return False
    draft.update(status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now,
                 acknowledged_by=command.by, assignee=incident.assignee or command.by)  # fmt: skip
    draft.note(now, "acknowledged", f"acknowledged by {_who(command)}")
    return True


def _assign(draft: Draft, command: IncidentCommand, now: datetime) -> bool:
    """Someone holds it now (nobody, for an empty assignee), maybe in another group. A
    person who takes it themselves (an agent taking the ticket in the ticket system) has
    also acknowledged it."""
    incident = draft.incident
    group = command.group or incident.group
    if (command.assignee, group) == (incident.assignee, incident.group):
        return False
    draft.update(assignee=command.assignee, group=group)
    if (
        command.assignee
        and command.assignee == command.by
        and incident.status is IncidentStatus.OPEN
    ):
        draft.update(status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now,
                     acknowledged_by=command.by)  # fmt: skip
    whom = command.assignee or "nobody"
    draft.note(now, "assigned", f"held by {whom} (group {group}): {_who(command)}")
    return True


def _reopen(draft: Draft, command: IncidentCommand, now: datetime) -> bool:
    incident = draft.incident
    if incident.status is not IncidentStatus.RESOLVED or incident.merged_into is not None:
        return False
    draft.update(status=IncidentStatus.OPEN, resolved_at=None, resolving_since=None)
    draft.state_changed(now)
    draft.note(now, "reopened", f"reopened by {_who(command)}")
    return True
