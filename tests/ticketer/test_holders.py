"""Who held a ticket when, from its history: spans of assignee and group with the note of
the change that began each, open until the ticket resolves."""

from __future__ import annotations

from datetime import timedelta

from core.holders import Holding, held_now, holdings
from core.models import Priority, Ticket, TicketChange, TicketStatus
from tests.conftest import T0


def test_spans_follow_the_changes_of_holder_and_group() -> None:
    history = (
        TicketChange(at=T0, field="status", old=None, new="open"),
        TicketChange(at=T0, field="group", old=None, new="redes"),
        TicketChange(at=T0 + timedelta(minutes=5), field="assignee", old=None, new="ana",
                     note="held by ana (group redes): ana via rt"),
        TicketChange(at=T0 + timedelta(minutes=5), field="priority", old="P3", new="P2"),
        TicketChange(at=T0 + timedelta(minutes=20), field="group", old="redes",
                     new="sistemas", note="held by ana (group sistemas): luis via glpi"),
        TicketChange(at=T0 + timedelta(minutes=30), field="assignee", old="ana", new="luis",
                     note="held by luis (group sistemas): luis via api"),
    )  # fmt: skip
    ticket = Ticket(id="TKT-1", incident_id="INC-1", backend="builtin", title="x",
                    priority=Priority.P2, created_at=T0, updated_at=T0,
                    history=history)  # fmt: skip
    spans = holdings(ticket)
    assert [(s.holder, s.group) for s in spans] == [
        ("nobody", "redes"),
        ("ana", "redes"),
        ("ana", "sistemas"),
        ("luis", "sistemas"),
    ]
    assert [s.held_s(T0 + timedelta(hours=1)) for s in spans] == [300, 900, 600, 1800]
    assert spans[1].note == "held by ana (group redes): ana via rt"
    now = held_now(ticket)
    assert (now.holder, now.since, now.until) == ("luis", T0 + timedelta(minutes=30), None)
    assert now.as_json(T0 + timedelta(hours=1))["held_s"] == 1800
    done = ticket.model_copy(update={"status": TicketStatus.RESOLVED,
                                     "resolved_at": T0 + timedelta(minutes=45)})  # fmt: skip
    assert held_now(done).held_s(T0 + timedelta(days=9)) == 900


def test_a_ticket_nobody_took_is_held_by_nobody_since_it_opened() -> None:
    ticket = Ticket(id="TKT-1", incident_id="INC-1", backend="builtin", title="x",
                    priority=Priority.P2, created_at=T0, updated_at=T0)  # fmt: skip
    assert holdings(ticket) == [Holding("nobody", "", T0, None, "")]
