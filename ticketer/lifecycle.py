"""A ticket following its incident, as pure functions."""

from __future__ import annotations

from datetime import datetime

from core.models import (
    Incident,
    IncidentStatus,
    Ticket,
    TicketChange,
    TicketStatus,
)


def ticket_title(incident: Incident) -> str:
    service = f"[{incident.service}] " if incident.service else ""
    return f"{incident.priority.value} {service}{incident.title}"


def describe(incident: Incident, incident_url: str) -> str:
    """What a support agent needs without opening Sereno."""
    lines = [
        incident.title,
        "",
        f"Priority: {incident.priority_reason or incident.priority.value}",
        f"Service: {incident.service or 'unknown'}"
        + (f" ({incident.users_affected:,} users affected)" if incident.users_affected else ""),
        f"Support group: {incident.group or 'unassigned'}",
        f"Opened: {incident.opened_at.isoformat()}",
        f"Incident: {incident_url}",
        "",
        *_first_steps(incident, incident_url),
        f"Affected resources ({len(incident.resources)}):",
        *(f"- {r}" for r in incident.resources[:50]),
        "",
        f"Alerts ({len(incident.alerts)}):",
        *(
            f"- [{a.status.value}] {a.name} {a.resource} ({a.source} {a.source_id}): {a.summary}"
            for a in incident.alerts[:50]
        ),
    ]
    if len(incident.alerts) > 50:
        lines.append(f"... and {len(incident.alerts) - 50} more")
    return "\n".join(lines)


def runbook_url(incident: Incident, incident_url: str) -> str:
    """Where the incident's runbook is shown, on the same Sereno as the incident."""
    if not incident.runbook:
        return ""
    base = incident_url.split("/api/v1/", 1)[0]
    return f"{base}/runbooks/{incident.runbook}"


def _first_steps(incident: Incident, incident_url: str) -> list[str]:
    if not incident.runbook:
        return ["No runbook applies to this incident yet.", ""]
    return [
        f"First steps ({incident.runbook_title}, {runbook_url(incident, incident_url)}):",
        *(f"{n}. {step}" for n, step in enumerate(incident.runbook_steps, start=1)),
        "",
    ]


def new_ticket(ticket_id: str, backend: str, incident: Incident, url: str, now: datetime) -> Ticket:
    return Ticket(
        id=ticket_id,
        incident_id=incident.id,
        backend=backend,
        title=ticket_title(incident),
        priority=incident.priority,
        service=incident.service,
        description=describe(incident, url),
        runbook_url=runbook_url(incident, url),
        created_at=now,
        updated_at=now,
        incident_version=incident.version,
        alert_count=len(incident.alerts),
        history=(
            TicketChange(at=now, field="status", old=None, new=TicketStatus.OPEN.value,
                         note=f"opened for {incident.id}"),
        ),
    )  # fmt: skip


def follow(ticket: Ticket, incident: Incident, url: str, now: datetime) -> Ticket:
    """The ticket brought up to date with `incident`, each change kept in its history."""
    changes: list[TicketChange] = []
    if incident.priority != ticket.priority:
        changes.append(
            TicketChange(at=now, field="priority", old=ticket.priority.value,
                         new=incident.priority.value)
        )  # fmt: skip
    joined = len(incident.alerts) - ticket.alert_count
    if joined > 0:
        changes.append(
            TicketChange(at=now, field="alerts", old=str(ticket.alert_count),
                         new=str(len(incident.alerts)), note=f"{joined} alert(s) joined")
        )  # fmt: skip
    acknowledged = [e for e in incident.timeline if e.kind == "acknowledged"]
    if acknowledged and not any(c.field == "acknowledged" for c in ticket.history):
        changes.append(
            TicketChange(at=now, field="acknowledged", old=None, new="yes",
                         note=acknowledged[-1].text)
        )  # fmt: skip
    status = (
        TicketStatus.RESOLVED if incident.status is IncidentStatus.RESOLVED else TicketStatus.OPEN
    )
    if status is not ticket.status:
        note = "incident resolved" if status is TicketStatus.RESOLVED else "incident fires again"
        if incident.merged_into is not None:
            note = f"duplicate: its alerts are symptoms of {incident.merged_into}"
        changes.append(
            TicketChange(at=now, field="status", old=ticket.status.value, new=status.value,
                         note=note)
        )  # fmt: skip
    return ticket.model_copy(
        update={
            "title": ticket_title(incident),
            "priority": incident.priority,
            "description": describe(incident, url),
            "runbook_url": runbook_url(incident, url),
            "status": status,
            "resolved_at": now if status is TicketStatus.RESOLVED else None,
            "updated_at": now,
            "incident_version": incident.version,
            "alert_count": len(incident.alerts),
            "history": (*ticket.history, *changes),
        }
    )
