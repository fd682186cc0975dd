"""A ticket following its incident, as pure functions."""

from __future__ import annotations

from collections.abc import Sequence
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
    TimelineEntry,
)
from core.rules import TicketRules
from ticketer.sla import due_times, next_due
from ticketer.texts import IncidentPage, TicketTexts

_PRIORITIES = list(Priority)


def runbook_url(incident: Incident, page: IncidentPage) -> str:
    """Where the incident's runbook is shown, on the same Sereno as the incident."""
    return f"{page.runbook_base}/runbooks/{incident.runbook}" if incident.runbook else ""


def category_of(incident: Incident, rules: TicketRules) -> TicketCategory:
    """Incidents from monitoring are incidents; a source the rules name may say otherwise."""
    first = incident.first_member
    source = first.source if first is not None else ""
    return rules.category_by_source.get(source, rules.category)


def new_ticket(
    ticket_id: str,
    backend: str,
    incident: Incident,
    page: IncidentPage,
    now: datetime,
    rules: TicketRules,
    texts: TicketTexts,
) -> Ticket:
    """The ticket `incident` opens now, with its SLA due times from `rules`."""
    response_due, resolution_due = due_times(now, incident.priority, rules.sla)
    history = [
        TicketChange(at=now, field="status", old=None, new=TicketStatus.OPEN.value,
                     note=texts.note("opened", incident_id=incident.id,
                                        priority=incident.priority.value)),
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
        title=texts.title(incident),
        priority=incident.priority,
        service=incident.service,
        description=texts.description(incident, page, runbook_url(incident, page)),
        runbook_url=runbook_url(incident, page),
        created_at=now,
        updated_at=now,
        announced_at=now,
        incident_version=incident.version,
        alert_count=incident.alert_count,
        announced_alert_count=incident.alert_count,
        group=incident.group,
        assignee=incident.assignee or incident.acknowledged_by,
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


HANDOVERS = ("assigned", "acknowledged")


def _last_said(notes: Sequence[TimelineEntry], kinds: tuple[str, ...]) -> str:
    """The text of the change's latest timeline entry of `kinds` (who did it, and from
    where: "assigned to agent1 by agent1 via rt")."""
    return next((e.text for e in reversed(notes) if e.kind in kinds), "")


def follow(
    ticket: Ticket,
    incident: Incident,
    page: IncidentPage,
    now: datetime,
    rules: TicketRules,
    texts: TicketTexts,
    notes: Sequence[TimelineEntry] = (),
) -> Ticket:
    """The ticket brought up to date with `incident` (`notes`: the timeline entries of the
    change that brought it), each change of status, priority, group
    and assignee kept in its history. Alerts joining are not: `announce` sums them up once
    per update that goes out. A change of priority moves the SLA due times to the new
    priority's targets."""
    changes: list[TicketChange] = []
    raised = _PRIORITIES.index(incident.priority) < _PRIORITIES.index(ticket.priority)
    _change(changes, now, "priority", ticket.priority.value, incident.priority.value,
            texts.note("priority_raised" if raised else "priority_lowered"))  # fmt: skip
    held = _last_said(notes, HANDOVERS)
    _change(changes, now, "group", ticket.group, incident.group, held)
    if ticket.responded_at is None and incident.acknowledged_at is not None:
        said = next((e.text for e in reversed(notes) if e.kind == "acknowledged"), "")
        changes.append(
            TicketChange(at=now, field="acknowledged", old=None, new="yes",
                         note=texts.note("acknowledged", text=said))
        )  # fmt: skip
    holder = incident.assignee or incident.acknowledged_by or ticket.assignee
    _change(changes, now, "assignee", ticket.assignee, holder, held)
    status = (
        TicketStatus.RESOLVED if incident.status is IncidentStatus.RESOLVED else TicketStatus.OPEN
    )
    if status is not ticket.status:
        note = texts.note("resolved" if status is TicketStatus.RESOLVED else "reopened")
        if incident.merged_into is not None:
            note = texts.note("duplicate", cause=incident.merged_into)
        changes.append(
            TicketChange(at=now, field="status", old=ticket.status.value, new=status.value,
                         note=note)
        )  # fmt: skip
    response_due, resolution_due = ticket.response_due_at, ticket.resolution_due_at
    if incident.priority != ticket.priority:
        response_due, resolution_due = due_times(ticket.created_at, incident.priority, rules.sla)
    return ticket.model_copy(
        update={
            "title": texts.title(incident),
            "priority": incident.priority,
            "service": incident.service,
            "description": texts.description(incident, page, runbook_url(incident, page)),
            "runbook_url": runbook_url(incident, page),
            "status": status,
            "resolved_at": now if status is TicketStatus.RESOLVED else None,
            "updated_at": now,
            "incident_version": incident.version,
            "alert_count": incident.alert_count,
            "group": incident.group,
            "assignee": holder,
            "responded_at": ticket.responded_at or incident.acknowledged_at,
            "response_due_at": response_due,
            "resolution_due_at": resolution_due,
            "history": (*ticket.history, *changes),
        }
    )


def announce(ticket: Ticket, now: datetime, rules: TicketRules, texts: TicketTexts) -> Ticket:
    """`ticket` as it goes downstream now: nothing held back, its next timer set, and the
    alerts that joined since the last update summed up in one history entry."""
    history = ticket.history
    before = (
        ticket.alert_count if ticket.announced_alert_count is None else ticket.announced_alert_count
    )
    joined = ticket.alert_count - before
    if joined > 0:
        summary = TicketChange(
            at=now, field="alerts", old=str(before), new=str(ticket.alert_count),
            note=texts.note("alerts_joined", joined=joined, total=ticket.alert_count),
        )  # fmt: skip
        history = (*history, summary)
    sent = ticket.model_copy(
        update={
            "announced_at": now,
            "update_held": False,
            "announced_alert_count": ticket.alert_count,
            "history": history,
        }
    )
    return sent.model_copy(update={"due_at": next_due(sent, rules.coalesce)})


def hold(ticket: Ticket, rules: TicketRules) -> Ticket:
    """`ticket` changed, but its update waits for the end of the coalescing interval."""
    held = ticket.model_copy(update={"update_held": True})
    return held.model_copy(update={"due_at": next_due(held, rules.coalesce)})


def may_announce(ticket: Ticket, now: datetime, rules: TicketRules) -> bool:
    """True when an update of `ticket` may go out now rather than wait (coalescing)."""
    return ticket.announced_at is None or now - ticket.announced_at >= rules.coalesce


def breach(
    ticket: Ticket,
    breaches: list[SlaBreach],
    now: datetime,
    rules: TicketRules,
    texts: TicketTexts,
) -> Ticket:
    """`ticket` with `breaches` recorded, each in its history too."""
    notes = [
        TicketChange(at=now, field="sla", old=None, new=f"{b.target.value} breached",
                     note=texts.note("sla_breached", due=b.due_at))
        for b in breaches
    ]  # fmt: skip
    breached = ticket.model_copy(
        update={"breaches": (*ticket.breaches, *breaches), "history": (*ticket.history, *notes)}
    )
    return breached.model_copy(update={"due_at": next_due(breached, rules.coalesce)})
