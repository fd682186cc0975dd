"""What to say about a ticket event, in one line a person reads at a glance."""

from __future__ import annotations

from core.models import TicketEvent, TicketEventKind


def on_call_line(event: TicketEvent) -> str | None:
    """The on-call message for `event`, or None when it is not worth a message."""
    ticket = event.ticket
    if event.kind is TicketEventKind.CREATED:
        runbook = f"; runbook: {ticket.runbook_url}" if ticket.runbook_url else ""
        return f"Opened: {ticket.title} ({ticket.id}, {ticket.incident_id}){runbook}"
    if event.kind is TicketEventKind.RESOLVED:
        return f"Resolved: {ticket.title} ({ticket.id}, {ticket.incident_id})"
    return None
