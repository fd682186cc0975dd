"""A person's command on an incident (acknowledge, resolve), applied by correlate, which
owns incidents. It changes the incident's draft."""

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
    """The incident after `command`; False when it changes nothing (already resolved, or
    acknowledged again), so a repeated command is harmless."""
    incident = draft.incident
    if incident.status is IncidentStatus.RESOLVED:
        return False
    if command.action is CommandAction.RESOLVE:
        lifecycle.resolve(draft, now, f"by {_who(command)}")
        return True
    if incident.status is IncidentStatus.ACKNOWLEDGED:
        return False
    draft.update(status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now,
                 acknowledged_by=command.by)  # fmt: skip
    draft.note(now, "acknowledged", f"acknowledged by {_who(command)}")
    return True
