"""A person's command on an incident (acknowledge, resolve, reopen, assign, comment), from
the API or a ticket system, applied by correlate, which owns incidents. Pure: the incident
and the command in, the changed incident out. Each change leaves a timeline entry naming
the actor and where the command came from (`origin`): that is the incident's record of who
held it when."""

from __future__ import annotations

from datetime import datetime

from core.models import (
    CommandAction,
    Incident,
    IncidentCommand,
    IncidentStatus,
    TimelineEntry,
)
from correlate import lifecycle


def _who(command: IncidentCommand) -> str:
    by = command.by or "someone"
    note = f": {command.note}" if command.note else ""
    return f"{by} via {command.origin}{note}"


def _noted(incident: Incident, now: datetime, kind: str, text: str, **update: object) -> Incident:
    return incident.model_copy(
        update={
            **update,
            "timeline": (*incident.timeline, TimelineEntry(at=now, kind=kind, text=text)),
            "version": incident.version + 1,
        }
    )


def apply(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    """`incident` after `command`; None when it changes nothing (already resolved, already
    held by that person, acknowledged again, an empty comment), so a repeated command is
    harmless."""
    if command.action is CommandAction.COMMENT:
        return _comment(incident, command, now)
    if command.action is CommandAction.REOPEN:
        return _reopen(incident, command, now)
    if incident.status is IncidentStatus.RESOLVED:
        return None
    if command.action is CommandAction.RESOLVE:
        return lifecycle.resolve(incident, now, f"by {_who(command)}")
    if command.action is CommandAction.ASSIGN:
        return _assign(incident, command, now)
    return _acknowledge(incident, command, now)


def _acknowledge(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return None
    return _noted(
        incident, now, "acknowledged", f"acknowledged by {_who(command)}",
        status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=command.by,
    )  # fmt: skip


def _assign(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    """Someone takes the incident (or hands it on, or lets go of it with an empty
    assignee). Taking an open incident acknowledges it: someone is on it."""
    group = command.group or incident.group
    if command.assignee == incident.acknowledged_by and group == incident.group:
        return None
    held = command.assignee or "nobody"
    where = f" (group {group})" if group else ""
    update: dict[str, object] = {"acknowledged_by": command.assignee, "group": group}
    if command.assignee and incident.status is IncidentStatus.OPEN:
        update |= {"status": IncidentStatus.ACKNOWLEDGED, "acknowledged_at": now}
    return _noted(incident, now, "assigned", f"held by {held}{where}: {_who(command)}", **update)


def _reopen(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    """A person says a resolved incident is not over. Not a duplicate merged elsewhere:
    its alerts live on in the incident it was merged into."""
    if incident.status is not IncidentStatus.RESOLVED or incident.merged_into is not None:
        return None
    return _noted(
        incident, now, "reopened", f"reopened by {_who(command)}",
        status=IncidentStatus.OPEN, resolved_at=None, resolving_since=None,
    )  # fmt: skip


def _comment(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    """A reply or a comment, on the timeline whatever the incident's status."""
    if not command.note.strip():
        return None
    return _noted(incident, now, "comment", _who(command))
