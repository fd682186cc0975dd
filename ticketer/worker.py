"""The ticketer stage: incident events and ticks in, tickets of the builtin backend out.

Every ticket change is committed with the `tickets` entry that announces it; that entry is
also the outbox of the external backends, which deliver it on their own (`delivery.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.bus import Entry, Stream
from core.clock import Clock
from core.metrics import RuntimeMetrics, TicketerMetrics
from core.models import (
    Incident,
    IncidentEvent,
    IncidentEventKind,
    IncidentsEntry,
    IncidentStatus,
    Tick,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from core.rules import RulesRef, TicketRules
from core.runtime import decode, set_aside
from core.store import Ack, Changes, IncidentFilter, Store
from ticketer import problems
from ticketer.lifecycle import announce, breach, follow, hold, may_announce, new_ticket
from ticketer.sla import new_breaches, next_due
from ticketer.texts import IncidentPage, TicketTexts

BUILTIN = "builtin"
MAX_OPEN_SCAN = 10_000


@dataclass
class _Batch:
    """The tickets one batch read and changed, and what it will announce."""

    now: datetime
    read: dict[str, Ticket | None] = field(default_factory=dict)
    tickets: dict[str, Ticket | None] = field(default_factory=dict)
    events: list[TicketEvent] = field(default_factory=list)
    changed: dict[str, Ticket] = field(default_factory=dict)
    by_id: dict[str, str] = field(default_factory=dict)
    """ticket id -> the incident (or problem) key it is filed under"""

    def put(self, key: str, ticket: Ticket, kind: TicketEventKind | None) -> None:
        self.tickets[key] = ticket
        self.by_id[ticket.id] = key
        self.changed[key] = ticket
        if kind is not None:
            self.events.append(TicketEvent(kind=kind, at=self.now, ticket=ticket))


class TicketerStage:
    """Consumes `incidents` as group `ticketer`; publishes to `tickets`.

    Idempotent: the store allows one ticket per incident and backend, and an event whose
    incident version the ticket already reflects changes nothing. Opening follows the ticket
    policy (`rules.tickets`); updates are coalesced; SLA breaches and held updates fall due
    on ticks.
    """

    name = "ticketer"
    stream = Stream.INCIDENTS

    def __init__(
        self,
        store: Store,
        rules: RulesRef,
        clock: Clock,
        base_url: str,
        metrics: TicketerMetrics,
        runtime_metrics: RuntimeMetrics,
        *,
        texts: TicketTexts,
    ) -> None:
        self._store = store
        self._texts = texts
        self._rules = rules
        self._clock = clock
        self._base_url = base_url
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, IncidentsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not decoded:
            return
        rules = self._rules.current.tickets
        batch = _Batch(self._clock.now())
        for _, entry in decoded:
            if isinstance(entry.root, IncidentEvent):
                await self._follow(batch, entry.root, rules)
                if entry.root.kind is IncidentEventKind.OPENED:
                    await self._recurrence(batch, entry.root.incident)
        ticked = any(isinstance(x.root, Tick) for _, x in decoded)
        if ticked:
            await self._on_tick(batch, rules)
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        for key, ticket in batch.changed.items():
            changes.put_ticket(ticket)
            # Another ticketer may be following the same incident: commit only on what we read.
            changes.expect_ticket(ticket.id, batch.read.get(key))
        changes.publish += [(Stream.TICKETS, e.model_dump_json()) for e in batch.events]
        if ticked:
            # Time passes downstream after the events it caused here.
            changes.publish.append((Stream.TICKETS, Tick(at=batch.now).model_dump_json()))
        await self._store.commit(changes)
        self._count(batch.events)

    def _count(self, events: list[TicketEvent]) -> None:
        for event in events:
            if event.kind is TicketEventKind.CREATED:
                self._metrics.tickets_created.labels(event.ticket.backend).inc()
            elif event.kind is TicketEventKind.SLA_BREACHED:
                target = event.ticket.breaches[-1].target.value
                self._metrics.sla_breaches.labels(target, event.ticket.priority.value).inc()

    async def _ticket(self, batch: _Batch, key: str) -> Ticket | None:
        if key not in batch.tickets:
            found = await self._store.ticket_for_incident(key, BUILTIN)
            batch.read[key] = batch.tickets[key] = found
            if found is not None:
                batch.by_id[found.id] = key
        return batch.tickets[key]

    def _page(self, incident: Incident) -> IncidentPage:
        service = self._rules.current.services.get(incident.service)
        return IncidentPage(
            url=f"{self._base_url}/incidents/{incident.id}",
            service_name=service.name if service else incident.service,
        )

    async def _follow(self, batch: _Batch, event: IncidentEvent, rules: TicketRules) -> None:
        incident, now = event.incident, batch.now
        ticket = await self._ticket(batch, incident.id)
        if ticket is None:
            await self._open_if_due(batch, incident, rules)
            return
        if incident.version <= ticket.incident_version:
            return  # redelivered or overtaken: the ticket already reflects this
        followed = follow(
            ticket, incident, self._page(incident), now, rules, self._texts, event.notes
        )
        if followed.status is not ticket.status:
            reopened = followed.status is TicketStatus.OPEN
            kind = TicketEventKind.REOPENED if reopened else TicketEventKind.RESOLVED
            batch.put(incident.id, announce(followed, now, rules, self._texts), kind)
        elif may_announce(ticket, now, rules):
            batch.put(
                incident.id, announce(followed, now, rules, self._texts), TicketEventKind.UPDATED
            )
        else:
            batch.put(incident.id, hold(followed, rules), None)

    async def _open_if_due(self, batch: _Batch, incident: Incident, rules: TicketRules) -> None:
        """Open the incident's ticket if the policy says its time has come. An incident that
        has ended (resolved, or merged into its cause) before that never gets one."""
        wait = rules.opens_after(incident.priority)
        if (
            wait is None
            or incident.status is IncidentStatus.RESOLVED
            or incident.merged_into is not None
            or incident.opened_at + wait > batch.now
        ):
            return
        ticket_id = await self._store.next_id("TKT")
        ticket = new_ticket(
            ticket_id, BUILTIN, incident, self._page(incident), batch.now, rules, self._texts
        )
        batch.put(incident.id, ticket, TicketEventKind.CREATED)

    async def _on_tick(self, batch: _Batch, rules: TicketRules) -> None:
        """Time has passed: held updates go out, SLA targets pass, waiting incidents whose
        time has come get their tickets."""
        now = batch.now
        for due in await self._store.tickets_due(now):
            key = batch.by_id.get(due.id, due.incident_id)
            ticket = await self._ticket(batch, key)
            if ticket is None or ticket.due_at is None or ticket.due_at > now:
                continue
            breaches = new_breaches(ticket, now)
            for found in breaches:
                ticket = breach(ticket, [found], now, rules, self._texts)
                batch.put(key, ticket, TicketEventKind.SLA_BREACHED)
            if ticket.update_held and may_announce(ticket, now, rules):
                batch.put(key, announce(ticket, now, rules, self._texts), TicketEventKind.UPDATED)
            elif not breaches:
                # Nothing left to do at this moment (a timer that no longer applies).
                retimed = ticket.model_copy(update={"due_at": next_due(ticket, rules.coalesce)})
                if retimed.due_at != ticket.due_at:
                    batch.put(key, retimed, None)
        await self._open_waiting(batch, rules)

    async def _open_waiting(self, batch: _Batch, rules: TicketRules) -> None:
        """Incidents whose priority opens a ticket after a wait, and whose wait is over."""
        if any(wait.total_seconds() > 0 for wait in rules.open.values()):
            waiting = await self._store.list_incidents(
                IncidentFilter(open_only=True, limit=MAX_OPEN_SCAN)
            )
            for incident in waiting:
                if rules.opens_after(incident.priority) is None:
                    continue
                if await self._ticket(batch, incident.id) is None:
                    await self._open_if_due(batch, incident, rules)

    async def _recurrence(self, batch: _Batch, incident: Incident) -> None:
        """An incident opened: if its kind keeps recurring, open or update the problem."""
        key = problems.recurrence_key(incident)
        rules = self._rules.current.tickets
        if key is None or rules.problems.recurrences is None:
            return
        recent = await self._store.list_incidents(
            IncidentFilter(
                status=IncidentStatus.RESOLVED,
                service=incident.service,
                name=incident.title_name,
                opened_since=batch.now - rules.problems.within,
                limit=MAX_OPEN_SCAN,
            )
        )
        recurred = problems.recurrences(incident, recent)
        if not problems.is_problem_due(recurred, rules):
            return
        current = await self._ticket(batch, key)
        if current is None:
            ticket_id = await self._store.next_id("TKT")
            created = problems.problem_ticket(
                ticket_id, BUILTIN, key, recurred, self._base_url, batch.now, self._texts
            )
            batch.put(key, created, TicketEventKind.CREATED)
            return
        linked = problems.link(current, recurred, self._base_url, batch.now, self._texts)
        if linked is not None:
            batch.put(key, linked, TicketEventKind.UPDATED)
