"""The ticket policy against real storage, on a virtual clock: opening by priority and
after a wait, coalesced updates flushed on a tick, SLA breaches once, reopening the same
ticket, problem records for recurring incidents."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import VirtualClock
from core.metrics import make_runtime_metrics, make_ticketer_metrics
from core.models import (
    SAMPLE_SIZE,
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Severity,
    SlaTarget,
    Tick,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketsEntry,
    TicketStatus,
)
from core.rules import BusinessHours, ProblemRules, Rules, RulesRef, SlaRules, TicketRules
from core.rules import SlaTarget as Target
from core.rules.windows import Weekday
from core.runtime import drain
from core.storage import Storage
from core.store import Changes
from tests.conftest import T0
from ticketer.sla import add_working_time
from ticketer.texts import TicketTexts
from ticketer.worker import TicketerStage

RULES = TicketRules(
    open={Priority.P1: timedelta(0), Priority.P3: timedelta(seconds=90)},
    coalesce=timedelta(minutes=5),
    sla=SlaRules(
        targets={
            Priority.P1: Target(response=timedelta(minutes=15), resolution=timedelta(hours=4)),
            Priority.P3: Target(response=timedelta(hours=2), resolution=timedelta(hours=24)),
        }
    ),
    problems=ProblemRules(recurrences=3, within=timedelta(days=1)),
)


def _alert(n: int, name: str = "HostDown") -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"f{n}", source="generic", source_id=f"f{n}", name=name,
        resource=f"web-{n}", service="mail", severity=Severity.MAJOR,
        status=AlertStatus.FIRING, first_seen=T0, last_seen=T0,
    )  # fmt: skip


def _incident(
    incident_id: str = "INC-1", priority: Priority = Priority.P1, alerts: int = 1, **update: object
) -> Incident:
    incident = Incident(
        id=incident_id, key=incident_id, title="HostDown", severity=Severity.MAJOR,
        priority=priority, service="mail", opened_at=T0, group="sistemas", title_name="HostDown",
        sample=tuple(_alert(n) for n in range(min(alerts, SAMPLE_SIZE))), alert_count=alerts,
        version=alerts,
    )  # fmt: skip
    return incident.model_copy(update=update)


class Harness:
    def __init__(self, storage: Storage, rules: TicketRules = RULES) -> None:
        self.storage = storage
        self.clock = VirtualClock(T0)
        registry = CollectorRegistry()
        self.runtime = make_runtime_metrics(registry)
        self.metrics = make_ticketer_metrics(registry)
        self.stage = TicketerStage(
            storage.store, RulesRef(Rules(tickets=rules)), self.clock, "http://sereno",
            self.metrics, self.runtime, texts=TicketTexts("en", "Europe/Madrid"),
        )  # fmt: skip
        self.seen = 0

    async def event(self, kind: IncidentEventKind, incident: Incident) -> None:
        if incident.version and incident.id.startswith("INC"):
            # The store holds incidents as correlate committed them (problem records look).
            from core.store import Changes  # noqa: PLC0415 - test helper only

            await self.storage.store.commit(Changes(incidents=[incident]))
        body = IncidentEvent(kind=kind, at=self.clock.now(), incident=incident)
        await self.storage.bus.publish(Stream.INCIDENTS, [body.model_dump_json()])
        await drain([self.stage], self.storage.bus, self.runtime)

    async def tick(self, at: datetime) -> None:
        self.clock.advance_to(at)
        await self.storage.bus.publish(Stream.INCIDENTS, [Tick(at=at).model_dump_json()])
        await drain([self.stage], self.storage.bus, self.runtime)

    async def announced(self) -> list[TicketEvent]:
        """Ticket events published since the last call."""
        entries = await self.storage.bus.read(Stream.TICKETS, "test", "t", 10_000)
        await self.storage.bus.ack(Stream.TICKETS, "test", [e.id for e in entries])
        events = [TicketsEntry.model_validate_json(e.body).root for e in entries]
        return [e for e in events if isinstance(e, TicketEvent)]

    async def ticket(self, key: str = "INC-1") -> Ticket:
        found = await self.storage.store.ticket_for_incident(key, "builtin")
        assert found is not None
        return found


async def test_priority_opens_at_once_or_after_its_wait_or_never(storage: Storage) -> None:
    h = Harness(storage, RULES.model_copy(update={"problems": ProblemRules(recurrences=None)}))
    await h.event(IncidentEventKind.OPENED, _incident("INC-1", Priority.P1))
    await h.event(IncidentEventKind.OPENED, _incident("INC-2", Priority.P3))
    await h.event(IncidentEventKind.OPENED, _incident("INC-3", Priority.P5))
    assert [(e.kind, e.ticket.incident_id) for e in await h.announced()] == [
        (TicketEventKind.CREATED, "INC-1")
    ]
    # A P3 that is merged into its root cause before its wait ends never gets a ticket.
    merged = _incident("INC-2", Priority.P3, status=IncidentStatus.RESOLVED, merged_into="INC-9",
                       version=5)  # fmt: skip
    await h.event(IncidentEventKind.MERGED, merged)
    await h.event(IncidentEventKind.OPENED, _incident("INC-4", Priority.P3))
    await h.tick(T0 + timedelta(seconds=89))
    assert await h.announced() == []
    await h.tick(T0 + timedelta(seconds=90))
    assert [e.ticket.incident_id for e in await h.announced()] == ["INC-4"]
    # Priority raised to one that opens: the ticket opens then.
    await h.event(IncidentEventKind.UPDATED, _incident("INC-3", Priority.P1, version=9))
    [created] = await h.announced()
    assert (created.kind, created.ticket.incident_id) == (TicketEventKind.CREATED, "INC-3")
    assert await storage.store.ticket_for_incident("INC-2", "builtin") is None
    assert created.ticket.category == "incident"
    assert created.ticket.group == "sistemas"


async def test_updates_are_coalesced_and_a_held_one_goes_out_on_a_tick(storage: Storage) -> None:
    h = Harness(storage)
    await h.event(IncidentEventKind.OPENED, _incident(alerts=1))
    await h.announced()
    for n in range(2, 12):  # ten alerts join within a minute: one update, not ten
        h.clock.advance_to(T0 + timedelta(seconds=5 * n))
        await h.event(IncidentEventKind.UPDATED, _incident(alerts=n))
    assert await h.announced() == []
    held = await h.ticket()
    assert held.update_held
    assert held.alert_count == 11  # the builtin ticket is current; only the update waits
    assert held.due_at == T0 + timedelta(minutes=5)
    await h.tick(T0 + timedelta(minutes=5))
    [update] = await h.announced()
    assert (update.kind, update.ticket.alert_count) == (TicketEventKind.UPDATED, 11)
    assert not (await h.ticket()).update_held
    # A change after the interval goes out at once.
    h.clock.advance_to(T0 + timedelta(minutes=11))
    await h.event(IncidentEventKind.UPDATED, _incident(alerts=12))
    assert [e.kind for e in await h.announced()] == [TicketEventKind.UPDATED]


async def test_sla_breach_is_recorded_once_and_counted(storage: Storage) -> None:
    h = Harness(storage)
    await h.event(IncidentEventKind.OPENED, _incident())
    ticket = await h.ticket()
    assert ticket.response_due_at == T0 + timedelta(minutes=15)
    assert ticket.resolution_due_at == T0 + timedelta(hours=4)
    await h.announced()
    await h.tick(T0 + timedelta(minutes=16))
    await h.tick(T0 + timedelta(minutes=17))
    [breached] = await h.announced()
    assert breached.kind is TicketEventKind.SLA_BREACHED
    [breach] = (await h.ticket()).breaches
    assert (breach.target, breach.due_at) == (SlaTarget.RESPONSE, T0 + timedelta(minutes=15))
    assert breach.noticed_at == T0 + timedelta(minutes=16)
    counted = h.metrics.sla_breaches.labels("response", "P1")._value.get()
    assert counted == 1
    # Acknowledged later: the response came late; the resolution target still stands.
    at = T0 + timedelta(minutes=20)
    acked = _incident(version=3, status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=at,
                      acknowledged_by="ana")  # fmt: skip
    h.clock.advance_to(T0 + timedelta(minutes=20))
    await h.event(IncidentEventKind.ACKNOWLEDGED, acked)
    ticket = await h.ticket()
    assert ticket.responded_at == T0 + timedelta(minutes=20)
    assert ticket.due_at == T0 + timedelta(hours=4)


async def test_a_reopened_incident_reopens_the_same_ticket(storage: Storage) -> None:
    h = Harness(storage)
    await h.event(IncidentEventKind.OPENED, _incident())
    first = await h.ticket()
    resolved = _incident(version=2, status=IncidentStatus.RESOLVED, resolved_at=T0)
    await h.event(IncidentEventKind.RESOLVED, resolved)
    h.clock.advance_to(T0 + timedelta(minutes=1))
    await h.event(IncidentEventKind.REOPENED, _incident(version=3))
    kinds = [e.kind for e in await h.announced()]
    assert kinds == [TicketEventKind.CREATED, TicketEventKind.RESOLVED, TicketEventKind.REOPENED]
    ticket = await h.ticket()
    assert ticket.id == first.id
    assert ticket.status is TicketStatus.OPEN
    statuses = [(c.old, c.new) for c in ticket.history if c.field == "status"]
    assert statuses == [(None, "open"), ("open", "resolved"), ("resolved", "open")]
    assert len(await storage.store.list_tickets()) == 1


async def test_recurring_incidents_open_one_problem_record(storage: Storage) -> None:
    h = Harness(storage)
    for n in range(1, 5):
        h.clock.advance_to(T0 + timedelta(hours=n))
        opened = _incident(f"INC-{n}", opened_at=T0 + timedelta(hours=n))
        await h.event(IncidentEventKind.OPENED, opened)
        # It ends before the next one opens: a recurrence, not one storm.
        ended = opened.model_copy(update={"status": IncidentStatus.RESOLVED, "version": 2})
        await h.storage.store.commit(Changes(incidents=[ended]))
    problem = await h.ticket("problem:mail/HostDown")
    assert problem.category == "problem"
    assert problem.incidents == ("INC-1", "INC-2", "INC-3", "INC-4")
    problems = [t for t in await storage.store.list_tickets() if t.category == "problem"]
    assert len(problems) == 1
    kinds = [e.kind for e in await h.announced() if e.ticket.category == "problem"]
    assert kinds == [TicketEventKind.CREATED, TicketEventKind.UPDATED]


def test_business_hours_skip_nights_weekends_and_holidays() -> None:
    sla = SlaRules(
        timezone="Europe/Madrid",
        business_hours=BusinessHours(
            days=[Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI],
            start=datetime.strptime("08:00", "%H:%M").time(),  # noqa: DTZ007 - a time of day
            end=datetime.strptime("18:00", "%H:%M").time(),  # noqa: DTZ007 - a time of day
        ),
        holidays=[date(2026, 12, 8)],
    )
    friday_evening = datetime.fromisoformat("2026-12-04T16:00:00+01:00")
    # 2h left on Friday counts 2h; 3h more starts Monday 08:00, but Tuesday 8th is a holiday.
    due = add_working_time(friday_evening, timedelta(hours=5), sla)
    assert due == datetime.fromisoformat("2026-12-07T11:00:00+01:00")
    due = add_working_time(friday_evening, timedelta(hours=14), sla)
    assert due == datetime.fromisoformat("2026-12-09T10:00:00+01:00")


async def test_a_storm_leaves_a_history_read_at_a_glance(storage: Storage) -> None:
    h = Harness(storage)
    await h.event(IncidentEventKind.OPENED, _incident(alerts=1))
    # 600 alerts join over 30 minutes, one every 3 seconds, ticks every 30 seconds.
    for n in range(2, 602):
        at = T0 + timedelta(seconds=3 * n)
        h.clock.advance_to(at)
        await h.event(IncidentEventKind.UPDATED, _incident(alerts=n))
        if n % 10 == 0:
            await h.tick(at)
    await h.tick(T0 + timedelta(minutes=40))
    ticket = await h.ticket()
    assert ticket.alert_count == 601
    joins = [c for c in ticket.history if c.field == "alerts"]
    # One entry per coalesced update (every 5 minutes), never one per alert.
    assert 6 <= len(joins) <= 8
    assert all(b.at - a.at >= RULES.coalesce for a, b in itertools.pairwise(joins))
    assert [(c.old, c.new) for c in joins][-1][1] == "601"
    assert sum(int(c.new) - int(c.old or 0) for c in joins) == 600
    assert joins[0].note == f"{int(joins[0].new) - 1} alerts joined; {joins[0].new} in all"
    # Besides the summaries: opened, the group that holds it, the response target missed.
    assert [c.field for c in ticket.history if c.field != "alerts"] == ["status", "group", "sla"]
