"""A ticket following its incident, as pure functions."""

from __future__ import annotations

from datetime import datetime

from core.models import (
    Incident,
    IncidentStatus,
    Priority,
    SlaBreach,
    Ticket,
    TicketCategory,
    TicketChange,
    TicketStatus,
)
from core.rules import TicketRules
from ticketer.sla import due_times, next_due

_PRIORITIES = list(Priority)


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


def category_of(incident: Incident, rules: TicketRules) -> TicketCategory:
    """Incidents from monitoring are incidents; a source the rules name may say otherwise."""
    first = next(iter(incident.members), None)
    source = first.source if first is not None else ""
    return rules.category_by_source.get(source, rules.category)


def new_ticket(
    ticket_id: str, backend: str, incident: Incident, url: str, now: datetime, rules: TicketRules
) -> Ticket:
    """The ticket `incident` opens now, with its SLA due times from `rules`."""
    response_due, resolution_due = due_times(now, incident.priority, rules.sla)
    history = [
        TicketChange(at=now, field="status", old=None, new=TicketStatus.OPEN.value,
                     note=f"opened for {incident.id} at {incident.priority.value}"),
    ]  # fmt: skip
    if incident.group:
        history.append(TicketChange(at=now, field="group", old=None, new=incident.group))
    if incident.acknowledged_by:
        history.append(
            TicketChange(at=now, field="assignee", old=None, new=incident.acknowledged_by)
        )
    ticket = Ticket(
        id=ticket_id,
        incident_id=incident.id,
        backend=backend,
        category=category_of(incident, rules).value,
        title=ticket_title(incident),
        priority=incident.priority,
        service=incident.service,
        description=describe(incident, url),
        runbook_url=runbook_url(incident, url),
        created_at=now,
        updated_at=now,
        announced_at=now,
        incident_version=incident.version,
        alert_count=len(incident.alerts),
        group=incident.group,
        assignee=incident.acknowledged_by,
        response_due_at=response_due,
        resolution_due_at=resolution_due,
        responded_at=incident.acknowledged_at,
        history=tuple(history),
    )
    return ticket.model_copy(update={"due_at": next_due(ticket, rules.coalesce)})


def _change(
    changes: list[TicketChange], now: datetime, field: str, old: str, new: str, note: str = ""
) -> None:
    if old != new:
        changes.append(TicketChange(at=now, field=field, old=old or None, new=new, note=note))


def follow(
    ticket: Ticket, incident: Incident, url: str, now: datetime, rules: TicketRules
) -> Ticket:
    """The ticket brought up to date with `incident`, each change kept in its history.
    A change of priority moves the SLA due times to the new priority's targets."""
    changes: list[TicketChange] = []
    raised = _PRIORITIES.index(incident.priority) < _PRIORITIES.index(ticket.priority)
    _change(changes, now, "priority", ticket.priority.value, incident.priority.value,
            "raised" if raised else "lowered")  # fmt: skip
    joined = len(incident.alerts) - ticket.alert_count
    if joined > 0:
        changes.append(
            TicketChange(at=now, field="alerts", old=str(ticket.alert_count),
                         new=str(len(incident.alerts)), note=f"{joined} alert(s) joined")
        )  # fmt: skip
    _change(changes, now, "group", ticket.group, incident.group)
    acknowledged = [e for e in incident.timeline if e.kind == "acknowledged"]
    if acknowledged and ticket.responded_at is None:
        changes.append(
            TicketChange(at=now, field="acknowledged", old=None, new="yes",
                         note=acknowledged[-1].text)
        )  # fmt: skip
    _change(changes, now, "assignee", ticket.assignee, incident.acknowledged_by or ticket.assignee)
    status = (
        TicketStatus.RESOLVED if incident.status is IncidentStatus.RESOLVED else TicketStatus.OPEN
    )
    if status is not ticket.status:
        note = "incident resolved" if status is TicketStatus.RESOLVED else "incident reopened"
        if incident.merged_into is not None:
            note = f"duplicate: its alerts are symptoms of {incident.merged_into}"
        changes.append(
            TicketChange(at=now, field="status", old=ticket.status.value, new=status.value,
                         note=note)
        )  # fmt: skip
    response_due, resolution_due = ticket.response_due_at, ticket.resolution_due_at
    if incident.priority != ticket.priority:
        response_due, resolution_due = due_times(ticket.created_at, incident.priority, rules.sla)
    return ticket.model_copy(
        update={
            "title": ticket_title(incident),
            "priority": incident.priority,
            "service": incident.service,
            "description": describe(incident, url),
            "runbook_url": runbook_url(incident, url),
            "status": status,
            "resolved_at": now if status is TicketStatus.RESOLVED else None,
            "updated_at": now,
            "incident_version": incident.version,
            "alert_count": len(incident.alerts),
            "group": incident.group,
            "assignee": incident.acknowledged_by or ticket.assignee,
            "responded_at": ticket.responded_at or incident.acknowledged_at,
            "response_due_at": response_due,
            "resolution_due_at": resolution_due,
            "history": (*ticket.history, *changes),
        }
    )


def announce(ticket: Ticket, now: datetime, rules: TicketRules) -> Ticket:
    """`ticket` as it goes downstream now: nothing held back, its next timer set."""
    sent = ticket.model_copy(update={"announced_at": now, "update_held": False})
    return sent.model_copy(update={"due_at": next_due(sent, rules.coalesce)})


def hold(ticket: Ticket, rules: TicketRules) -> Ticket:
    """`ticket` changed, but its update waits for the end of the coalescing interval."""
    held = ticket.model_copy(update={"update_held": True})
    return held.model_copy(update={"due_at": next_due(held, rules.coalesce)})


def may_announce(ticket: Ticket, now: datetime, rules: TicketRules) -> bool:
    """True when an update of `ticket` may go out now rather than wait (coalescing)."""
    return ticket.announced_at is None or now - ticket.announced_at >= rules.coalesce


def breach(ticket: Ticket, breaches: list[SlaBreach], now: datetime, rules: TicketRules) -> Ticket:
    """`ticket` with `breaches` recorded, each in its history too."""
    notes = [
        TicketChange(at=now, field="sla", old=None, new=f"{b.target.value} breached",
                     note=f"due {b.due_at.isoformat()}")
        for b in breaches
    ]  # fmt: skip
    breached = ticket.model_copy(
        update={"breaches": (*ticket.breaches, *breaches), "history": (*ticket.history, *notes)}
    )
    return breached.model_copy(update={"due_at": next_due(breached, rules.coalesce)})
