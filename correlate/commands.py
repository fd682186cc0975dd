"""A person's command on an incident (acknowledge, resolve), applied by correlate, which
owns incidents. Pure: the incident and the command in, the changed incident out."""

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


def apply(incident: Incident, command: IncidentCommand, now: datetime) -> Incident | None:
    """`incident` after `command`; None when it changes nothing (already resolved, or
    acknowledged again), so a repeated command is harmless."""
    if incident.status is IncidentStatus.RESOLVED:
        return None
    if command.action is CommandAction.RESOLVE:
        return lifecycle.resolve(incident, now, f"by {_who(command)}")
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return None
    return incident.model_copy(
        update={
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": command.by,
            "timeline": (
                *incident.timeline,
                TimelineEntry(at=now, kind="acknowledged", text=f"acknowledged by {_who(command)}"),
            ),
            "version": incident.version + 1,
        }
    )
