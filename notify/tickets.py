"""The notify stage's second input: ticket events. When a ticket's SLA target passes unmet,
the incident's owning group hears it once, on the channels its on-call messages reach.

It consumes `tickets` as group `notify`, so the stream is read (and can be trimmed) even
when no external ticket backend is configured. A breach is announced once by the ticketer,
and its message id names the ticket and the target: a redelivered event writes nothing new.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.bus import Entry, Stream
from core.config import Settings
from core.metrics import NotifyMetrics, RuntimeMetrics
from core.models import Notification, NotifyState, TicketEvent, TicketEventKind, TicketsEntry
from core.rules import RulesRef
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from notify import oncall
from notify.render import MessageContext, Renderer

log = logging.getLogger("sereno.notifications")

KIND = "sla_breached"


class TicketNotifyStage:
    """Consumes `tickets` as group `notify`."""

    name = "notify"
    stream = Stream.TICKETS

    def __init__(
        self,
        store: Store,
        rules: RulesRef,
        renderer: Renderer,
        settings: Settings,
        metrics: NotifyMetrics,
        runtime_metrics: RuntimeMetrics,
    ) -> None:
        self._store = store
        self._rules = rules
        self._renderer = renderer
        self._settings = settings
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, TicketsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not decoded:
            return
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        for _, entry in decoded:
            event = entry.root
            if isinstance(event, TicketEvent) and event.kind is TicketEventKind.SLA_BREACHED:
                await self._breached(changes, event)
        await self._store.commit(changes)
        for n in changes.notifications:
            self._metrics.messages.labels(n.kind).inc()

    async def _breached(self, changes: Changes, event: TicketEvent) -> None:
        ticket = event.ticket
        if ticket.backend != "builtin" or not ticket.breaches:
            return  # an external backend's copy repeats the builtin ticket's news
        incident = await self._store.get_incident(ticket.incident_id)
        if incident is None:
            log.info("%s: SLA breach, no incident %s to route it by", ticket.id, ticket.incident_id)
            return
        rules = self._rules.current
        state = await self._store.get_notify_state(incident.id)
        levels = rules.notifications.levels(incident.group)
        channels = oncall.reached(state or NotifyState(incident_id=incident.id), levels)
        breach = ticket.breaches[-1]
        service = rules.services.get(incident.service)
        base = self._settings.base_url
        context = MessageContext(
            kind=KIND, incident=incident, at=event.at,
            service_name=service.name if service else incident.service,
            incident_url=f"{base}/incidents/{incident.id}",
            runbook_url=f"{base}/runbooks/{incident.runbook}" if incident.runbook else "",
            summary="", ticket=ticket,
        )  # fmt: skip
        for name in channels:
            channel = rules.notifications.channels.get(name)
            if channel is None:
                log.warning("%s: channel %s is not in the rules; skipped", incident.id, name)
                continue
            message_id = f"{incident.id}:sla-{breach.target.value}-{ticket.id}:{name}"
            if await self._store.get_notification(message_id) is not None:
                continue  # decided before: a redelivery
            language = channel.language or self._settings.language
            rendered = self._renderer.render(KIND, language, context)
            changes.put_notification(
                Notification(
                    id=message_id, at=event.at, channel=name, kind=KIND,
                    incident_id=incident.id, text=rendered.text, html=rendered.html,
                    delivered=False, attempts=0, next_attempt_at=event.at,
                )
            )  # fmt: skip
