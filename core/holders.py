"""Who held a ticket when: the spans between the changes of assignee and group in its
history, each with the note saying who made the change and from where (`agent1 via rt`).
Pure: the ticket in, the spans out; the ticket API and the daily report show them (both
read it here, in the kernel, as stages never import each other)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models import Ticket, TicketStatus

HELD = ("assignee", "group")
NOBODY = "nobody"


@dataclass(frozen=True, slots=True)
class Holding:
    """One span: who held the ticket (or nobody, with only a group), from when until when
    (None: still), and the note of the change that began it."""

    holder: str
    group: str
    since: datetime
    until: datetime | None
    note: str

    def held_s(self, now: datetime) -> float:
        return ((self.until or now) - self.since).total_seconds()

    def as_json(self, now: datetime) -> dict[str, object]:
        return {
            "holder": self.holder, "group": self.group, "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "held_s": round(self.held_s(now)), "by": self.note,
        }  # fmt: skip


def holdings(ticket: Ticket) -> list[Holding]:
    """Every span from the ticket's opening, oldest first; the last one ends when the
    ticket resolved, or not at all."""
    spans: list[Holding] = []
    holder, group, since, note = NOBODY, "", ticket.created_at, ""
    for change in ticket.history:
        if change.field not in HELD:
            continue
        new_holder = (change.new or NOBODY) if change.field == "assignee" else holder
        new_group = change.new if change.field == "group" else group
        if (new_holder, new_group) == (holder, group):
            continue
        spans.append(Holding(holder, group, since, change.at, note))
        holder, group, since, note = new_holder, new_group, change.at, change.note
    end = ticket.resolved_at if ticket.status is TicketStatus.RESOLVED else None
    spans.append(Holding(holder, group, since, end, note))
    # A span of no time (the group set as the ticket opened) says nothing.
    return [s for s in spans if s.until is None or s.until > s.since]


def held_now(ticket: Ticket) -> Holding:
    """Who holds the ticket now, and since when."""
    return holdings(ticket)[-1]
