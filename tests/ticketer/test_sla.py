"""SLA arithmetic at its edges: a target met exactly when it falls due is met, one unmet at
that moment is missed, and a closed ticket records no breach."""

from __future__ import annotations

from datetime import timedelta

from core.models import Priority, SlaTarget, Ticket, TicketStatus
from tests.conftest import T0
from ticketer.sla import new_breaches, next_due

DUE = T0 + timedelta(minutes=15)
LATER = T0 + timedelta(hours=4)


def _ticket(**update: object) -> Ticket:
    made = Ticket(
        id="TKT-1", incident_id="INC-1", backend="builtin", title="t", priority=Priority.P2,
        created_at=T0, updated_at=T0, response_due_at=DUE, resolution_due_at=LATER,
    )  # fmt: skip
    return made.model_copy(update=update)


def test_a_response_at_its_due_time_exactly_is_met() -> None:
    assert new_breaches(_ticket(responded_at=DUE), DUE) == []
    assert new_breaches(_ticket(responded_at=DUE), LATER - timedelta(seconds=1)) == []


def test_a_response_a_moment_late_is_missed() -> None:
    [missed] = new_breaches(_ticket(), DUE)
    assert (missed.target, missed.due_at, missed.noticed_at) == (SlaTarget.RESPONSE, DUE, DUE)
    late = DUE + timedelta(microseconds=1)
    assert [b.target for b in new_breaches(_ticket(responded_at=late), LATER)] == [
        SlaTarget.RESOLUTION
    ]


def test_a_resolution_at_its_due_time_exactly_is_met() -> None:
    resolved = _ticket(responded_at=T0, status=TicketStatus.RESOLVED, resolved_at=LATER)
    assert new_breaches(resolved, LATER) == []
    [missed] = new_breaches(_ticket(responded_at=T0), LATER)
    assert missed.target is SlaTarget.RESOLUTION


def test_nothing_is_missed_before_its_due_time() -> None:
    assert new_breaches(_ticket(), DUE - timedelta(microseconds=1)) == []


def test_a_ticket_closed_before_anyone_answered_records_no_breach() -> None:
    closed = _ticket(status=TicketStatus.RESOLVED, resolved_at=T0 + timedelta(minutes=5))
    assert new_breaches(closed, LATER) == []
    assert next_due(closed, timedelta(minutes=5)) is None


def test_the_next_timer_is_the_first_target_still_to_meet() -> None:
    assert next_due(_ticket(), timedelta(minutes=5)) == DUE
    assert next_due(_ticket(responded_at=T0), timedelta(minutes=5)) == LATER
