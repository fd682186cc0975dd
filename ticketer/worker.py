"""The ticketer stage: incident events in, tickets of the builtin backend out."""

from __future__ import annotations

from collections.abc import Sequence

from core.bus import Entry, Stream
from core.clock import Clock
from core.metrics import RuntimeMetrics, TicketerMetrics
from core.models import (
    IncidentEvent,
    IncidentsEntry,
    Tick,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from ticketer.lifecycle import follow, new_ticket

BUILTIN = "builtin"


class TicketerStage:
    """Consumes `incidents` as group `ticketer`; publishes to `tickets`.

    Idempotent: the store allows one ticket per incident and backend, and an event whose
    incident version the ticket already reflects changes nothing.
    """

    name = "ticketer"
    stream = Stream.INCIDENTS

    def __init__(
        self,
        store: Store,
        clock: Clock,
        base_url: str,
        metrics: TicketerMetrics,
        runtime_metrics: RuntimeMetrics,
    ) -> None:
        self._store = store
        self._clock = clock
        self._base_url = base_url
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, IncidentsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not decoded:
            return
        good = [(e, x.root) for e, x in decoded if isinstance(x.root, IncidentEvent)]
        ticked = len(good) < len(decoded)
        now = self._clock.now()
        tickets: dict[str, Ticket | None] = {}
        read: dict[str, Ticket | None] = {}
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        created = 0
        for _, event in good:
            incident = event.incident
            if incident.id not in tickets:
                tickets[incident.id] = await self._store.ticket_for_incident(incident.id, BUILTIN)
                read[incident.id] = tickets[incident.id]
            ticket = tickets[incident.id]
            url = f"{self._base_url}/api/v1/incidents/{incident.id}"
            if ticket is None and incident.merged_into is not None:
                continue  # a duplicate that never had a ticket needs none: its cause has one
            if ticket is None:
                ticket = new_ticket(await self._store.next_id("TKT"), BUILTIN, incident, url, now)
                kind = TicketEventKind.CREATED
                created += 1
                if incident.status.value == "resolved":
                    ticket = follow(ticket, incident, url, now)
            elif incident.version <= ticket.incident_version:
                continue  # redelivered or overtaken: the ticket already reflects this
            else:
                ticket = follow(ticket, incident, url, now)
                resolved = ticket.status is TicketStatus.RESOLVED
                kind = TicketEventKind.RESOLVED if resolved else TicketEventKind.UPDATED
            tickets[incident.id] = ticket
            changes.put_ticket(ticket)
            # Another ticketer may be following the same incident: commit only on what we read.
            changes.expect_ticket(ticket.id, read[incident.id])
            changes.publish.append(
                (Stream.TICKETS, TicketEvent(kind=kind, at=now, ticket=ticket).model_dump_json())
            )
        if ticked:
            # Time passes downstream after the events it caused here.
            changes.publish.append((Stream.TICKETS, Tick(at=now).model_dump_json()))
        await self._store.commit(changes)
        self._metrics.tickets_created.labels(BUILTIN).inc(created)
