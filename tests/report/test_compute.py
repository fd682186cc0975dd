"""The report computed from hand-made data: every figure as worked out by hand from
tests/report/fixtures.py (the comments say how), with the day before and the week."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core.models import Priority, SlaBreach, SlaTarget, TicketChange
from report.compute import compute_daily
from report.model import Breakdown, Figure, FlappingCheck, NoisyAlert
from tests.report.fixtures import END, HOSTILE, WINDOW, at, sample, ticket


def test_the_window_is_the_day_up_to_nine_in_madrid() -> None:
    assert (WINDOW.start, WINDOW.end) == (END - timedelta(hours=24), END)


def test_alert_figures_compare_with_the_day_before_and_the_week() -> None:
    alerts = compute_daily(sample(), WINDOW, END).alerts
    # 10 + 6 + 30 received; the day before 8; the week: 8 and 20 over seven days.
    assert alerts.received == Figure(value=46, previous=8, average_7d=4.0)
    assert alerts.deduplicated.value == 4 + 2 + 25
    assert alerts.suppressed.value == 1
    # Three incidents opened (the merged duplicate is not one): 46 / 3.
    assert alerts.incidents.value == 3
    assert alerts.compression.value == 15.33
    assert [(s.source, s.received.value, s.received.previous) for s in alerts.by_source] == [
        ("alertmanager", 30, 0), ("zabbix", 16, 8),
    ]  # fmt: skip
    assert alerts.suppressed_by == (("silence:s1", 1),)
    assert len(alerts.by_hour) == 24
    assert sum(h.received for h in alerts.by_hour) == 46
    assert alerts.by_hour[-1].backlog == 2


def test_incident_figures() -> None:
    incidents = compute_daily(sample(), WINDOW, END).incidents
    # The day before opened INC-5 (at its very start), INC-6 and INC-7; the week adds INC-8.
    assert incidents.opened == Figure(value=3, previous=3, average_7d=round(4 / 7, 2))
    assert incidents.resolved.value == 2
    assert incidents.merged == 1
    assert incidents.by_priority == (
        Breakdown(name="P1", opened=1, resolved=1), Breakdown(name="P3", opened=2, resolved=1),
    )  # fmt: skip
    assert incidents.by_service[0] == Breakdown(name="email", opened=2, resolved=1)
    # Acknowledged after 30 and 60 minutes; resolved after 120 and 60. The day before: 60
    # and 30; four days before, 60: the week's mean is over the days that resolved any.
    assert incidents.mtta_minutes.value == 45.0
    assert incidents.mttr_minutes == Figure(value=90.0, previous=45.0, average_7d=52.5)


def test_backlog_with_its_age() -> None:
    backlog = compute_daily(sample(), WINDOW, END).backlog
    assert backlog.open.value == 2
    assert backlog.open.previous == 1
    assert backlog.by_priority == ((Priority.P2, 1), (Priority.P3, 1))
    assert dict(backlog.by_age) == {
        "under_4h": 0, "4h_to_1d": 1, "1d_to_3d": 1, "3d_to_7d": 0, "over_7d": 0,
    }  # fmt: skip
    assert [(i.id, i.age_hours) for i in backlog.oldest] == [("INC-5", 48.0), ("INC-3", 5.0)]


def test_sla_counts_each_target_on_the_day_it_was_met_or_missed() -> None:
    sla = compute_daily(sample(), WINDOW, END).sla
    # Response: TKT-1 met, TKT-2 missed; TKT-3 not due yet. The day before: TKT-6 met.
    assert (sla.response_settled, sla.response_met) == (2, 1)
    assert sla.response_compliance == Figure(value=50.0, previous=100.0, average_7d=100.0)
    # Resolution: TKT-1 resolved an hour after its target.
    assert (sla.resolution_settled, sla.resolution_met) == (1, 0)
    assert sla.resolution_compliance.value == 0.0
    assert [(b.ticket_id, b.target) for b in sla.breaches] == [
        ("TKT-1", SlaTarget.RESOLUTION), ("TKT-2", SlaTarget.RESPONSE),
    ]  # fmt: skip


def test_crises_noise_flapping_recurring_and_runbooks() -> None:
    report = compute_daily(sample(), WINDOW, END)
    [crisis] = report.crises
    assert (crisis.id, crisis.rule, len(crisis.timeline)) == ("INC-5", "mass-outage", 2)
    assert crisis.timeline[1].text == HOSTILE
    assert report.noisiest == (
        NoisyAlert(source="alertmanager", name="HighLoad", received=30, deduplicated=25,
                   suppressed=0),
        NoisyAlert(source="zabbix", name="Down", received=16, deduplicated=6, suppressed=1),
    )  # fmt: skip
    assert report.flapping == (
        FlappingCheck(source="zabbix", name="Down", resource="host-3", incident_id="INC-3",
                      count=9),
    )  # fmt: skip
    assert [(p.kind, p.name, p.incident_ids) for p in report.problem_candidates] == [
        ("alert", "Down", ("INC-8", "INC-5", "INC-6", "INC-1", "INC-2", "INC-3")),
        ("service", "email", ("INC-8", "INC-5", "INC-7", "INC-6", "INC-2", "INC-3")),
    ]
    assert [i.id for i in report.without_runbook] == ["INC-2", "INC-3"]


def test_tickets_of_merged_incidents_count_nowhere_in_the_sla() -> None:
    """INC-4 was merged into INC-1: its ticket, missed and breached, is left out of the
    figures and of the breaches alike, and the report says how many were left out."""
    data = sample()
    duplicate = ticket(4, 3, response_due_at=at(2), resolution_due_at=at(1),
                       breaches=(SlaBreach(target=SlaTarget.RESPONSE, due_at=at(2),
                                           noticed_at=at(2)),))  # fmt: skip
    sla = compute_daily(replace(data, tickets=(*data.tickets, duplicate)), WINDOW, END).sla
    assert (sla.response_settled, sla.response_met) == (2, 1)
    assert (sla.resolution_settled, sla.resolution_met) == (1, 0)
    assert "TKT-4" not in {b.ticket_id for b in sla.breaches}
    assert sla.merged_left_out == 1


def test_a_ticket_resolved_before_its_response_was_due_was_answered() -> None:
    """Closed before its response fell due, it can record no breach: it is not a miss."""
    data = sample()
    quick = ticket(9, 6, response_due_at=at(4), resolved_at=at(5))
    sla = compute_daily(replace(data, tickets=(*data.tickets, quick)), WINDOW, END).sla
    assert (sla.response_settled, sla.response_met) == (3, 2)


def test_a_target_met_exactly_at_its_due_time_is_met() -> None:
    data = sample()
    on_time = ticket(9, 6, response_due_at=at(4), responded_at=at(4),
                     resolution_due_at=at(3), resolved_at=at(3))  # fmt: skip
    sla = compute_daily(replace(data, tickets=(*data.tickets, on_time)), WINDOW, END).sla
    assert (sla.response_settled, sla.response_met) == (3, 2)
    assert (sla.resolution_settled, sla.resolution_met) == (2, 1)


def test_open_incidents_by_who_holds_them_and_since_when() -> None:
    data = sample()
    taken = TicketChange(at=at(3), field="assignee", old=None, new="ana",
                         note="held by ana (group sistemas): ana via rt")  # fmt: skip
    tickets = tuple(
        t.model_copy(update={"history": (*t.history, taken)}) if t.incident_id == "INC-3" else t
        for t in data.tickets
    )
    held = compute_daily(replace(data, tickets=tickets), WINDOW, END).backlog.by_holder
    assert [(h.holder, h.id, h.held_hours, h.by) for h in held] == [
        ("ana", "INC-3", 3.0, "held by ana (group sistemas): ana via rt")
    ]
