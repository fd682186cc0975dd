"""SLA arithmetic as pure functions: due times by priority (in business hours where the rules
say so), breaches once a due time has passed, and the ticket's next timer."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import Priority, SlaBreach, SlaTarget, Ticket, TicketStatus
from core.rules import SlaRules
from core.rules.windows import Weekday

MAX_DAYS = 3660
"""Business hours are looked for this far ahead at most (ten years of holidays is absurd)."""
_WEEKDAYS = list(Weekday)


def add_working_time(start: datetime, span: timedelta, sla: SlaRules) -> datetime:
    """The moment `span` of business hours after `start`: only the hours of business days
    that are not holidays count, in the rules' time zone. Returned in `start`'s zone."""
    hours = sla.business_hours
    if hours is None:
        return start + span
    zone = sla.zone
    local = start.astimezone(zone)
    left = span
    day = local.date()
    for _ in range(MAX_DAYS):
        if _WEEKDAYS[day.weekday()] in hours.days and day not in sla.holidays:
            opens = datetime.combine(day, hours.start, zone)
            closes = datetime.combine(day, hours.end, zone)
            begin = max(opens, local)
            if begin < closes:
                if begin + left <= closes:
                    return (begin + left).astimezone(start.tzinfo)
                left -= closes - begin
        day += timedelta(days=1)
    raise ValueError("no business hours within ten years: check sla.business_hours")


def due_times(
    created_at: datetime, priority: Priority, sla: SlaRules
) -> tuple[datetime | None, datetime | None]:
    """Response and resolution due times of a ticket of `priority` opened at `created_at`."""
    target = sla.targets.get(priority)
    if target is None:
        return None, None
    if not target.business_hours:
        return created_at + target.response, created_at + target.resolution
    return (
        add_working_time(created_at, target.response, sla),
        add_working_time(created_at, target.resolution, sla),
    )


def new_breaches(ticket: Ticket, now: datetime) -> list[SlaBreach]:
    """Targets of `ticket` that have passed unmet by `now` and are not recorded yet. A
    target met at its due time exactly is met; one still unmet at that moment is missed."""
    found: list[SlaBreach] = []
    recorded = {b.target for b in ticket.breaches}
    response = ticket.response_due_at
    if (
        response is not None
        and response <= now
        and ticket.responded_at is None
        and ticket.status is TicketStatus.OPEN  # resolving a ticket answers it too
        and SlaTarget.RESPONSE not in recorded
    ):
        found.append(SlaBreach(target=SlaTarget.RESPONSE, due_at=response, noticed_at=now))
    resolution = ticket.resolution_due_at
    if (
        resolution is not None
        and resolution <= now
        and ticket.status is TicketStatus.OPEN
        and SlaTarget.RESOLUTION not in recorded
    ):
        found.append(SlaBreach(target=SlaTarget.RESOLUTION, due_at=resolution, noticed_at=now))
    return found


def next_due(ticket: Ticket, coalesce: timedelta) -> datetime | None:
    """When time alone may next change `ticket`: a held update going out, or an SLA target
    still to be met passing."""
    moments: list[datetime] = []
    if ticket.update_held and ticket.announced_at is not None:
        moments.append(ticket.announced_at + coalesce)
    recorded = {b.target for b in ticket.breaches}
    if ticket.status is TicketStatus.OPEN:
        if (
            ticket.response_due_at is not None
            and ticket.responded_at is None
            and SlaTarget.RESPONSE not in recorded
        ):
            moments.append(ticket.response_due_at)
        if ticket.resolution_due_at is not None and SlaTarget.RESOLUTION not in recorded:
            moments.append(ticket.resolution_due_at)
    return min(moments, default=None)
