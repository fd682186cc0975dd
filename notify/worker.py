"""The notify stage: incident events and ticks in, messages decided and written, pending.

It consumes `incidents` as group `notify`, beside the ticketer. What it decides (the
messages, rendered for each channel, and what it has told whom) is committed with the
acknowledgement of its input; the delivery loop (`notify.delivery`) sends them apart, so
a slow or failing channel never holds back the pipeline. A message's id is its incident,
its key and its channel, and the incident's notify state says what was already decided:
a redelivered event or tick decides nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from core.bus import Entry, Stream
from core.config import Settings
from core.metrics import NotifyMetrics, RuntimeMetrics
from core.models import (
    Incident,
    IncidentEvent,
    IncidentsEntry,
    Notification,
    NotifyState,
    Tick,
)
from core.rules import RulesRef
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from notify import crisis, escalation, oncall
from notify.plan import Planned
from notify.render import MessageContext, Renderer

log = logging.getLogger("sereno.notifications")

TICKET_BACKEND = "builtin"
"""The backend whose ticket id a message names."""
SUMMARY_CHARS = 500


class NotifyStage:
    """Consumes `incidents` as group `notify`."""

    name = "notify"
    stream = Stream.INCIDENTS

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
        decoded, bad = decode(entries, IncidentsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not decoded:
            return
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        batch = _Batch(self._store, changes)
        for _, entry in decoded:
            if isinstance(entry.root, IncidentEvent):
                await self._on_event(batch, entry.root)
            else:
                await self._on_tick(batch, entry.root)
        for state in batch.changed():
            changes.put_notify_state(state)
        await self._store.commit(changes)
        for n in changes.notifications:
            self._metrics.messages.labels(n.kind).inc()
            log.debug("%s %s -> %s: %s", n.incident_id, n.kind, n.channel, n.subject)

    async def _on_event(self, batch: _Batch, event: IncidentEvent) -> None:
        incident = event.incident
        state = await batch.state(incident.id)
        if incident.version <= state.incident_version:
            return  # already handled: a redelivery, or an older event overtaken
        state = state.model_copy(update={"incident_version": incident.version})
        rules = self._rules.current.notifications
        state, planned = oncall.on_call(state, event, rules)
        state, more = crisis.on_change(
            state, incident, event.at, rules.crisis_committee, declared=event.crisis_declared
        )
        batch.put(state)
        await self._write(batch, incident, event.at, [*planned, *more])

    async def _on_tick(self, batch: _Batch, tick: Tick) -> None:
        rules = self._rules.current.notifications
        for due in await batch.due(tick.at):
            incident = await self._store.get_incident(due.incident_id)
            state, planned = escalation.escalate(due, incident, tick.at, rules)
            state, more = crisis.update(state, incident, tick.at, rules.crisis_committee)
            batch.put(state)
            if incident is not None:
                await self._write(batch, incident, tick.at, [*planned, *more])

    async def _write(
        self, batch: _Batch, incident: Incident, at: datetime, planned: list[Planned]
    ) -> None:
        if not planned:
            return
        rules = self._rules.current
        ticket = await self._store.ticket_for_incident(incident.id, TICKET_BACKEND)
        service = rules.services.get(incident.service)
        base = self._settings.base_url
        first_member = incident.first_member
        first = first_member.summary if first_member is not None else ""
        for message in planned:
            context = MessageContext(
                kind=message.kind, incident=incident,
                service_name=service.name if service else incident.service, at=at,
                incident_url=f"{base}/incidents/{incident.id}",
                runbook_url=f"{base}/runbooks/{incident.runbook}" if incident.runbook else "",
                summary=first[:SUMMARY_CHARS], ticket=ticket, level=message.level,
                update_number=message.update_number, next_update_at=message.next_update_at,
            )  # fmt: skip
            for name in message.channels:
                channel = rules.notifications.channels.get(name)
                if channel is None:
                    log.warning("%s: channel %s is not in the rules; skipped", incident.id, name)
                    continue
                language = channel.language or self._settings.language
                rendered = self._renderer.render(message.template, language, context)
                batch.changes.put_notification(
                    Notification(
                        id=f"{incident.id}:{message.key}:{name}", at=at, channel=name,
                        kind=message.kind, incident_id=incident.id, text=rendered.text,
                        html=rendered.html, delivered=False, attempts=0, next_attempt_at=at,
                    )
                )  # fmt: skip


class _Batch:
    """The notify states one batch reads and changes: each read once from the store (and
    expected unchanged at commit), then kept here as the batch changes it."""

    def __init__(self, store: Store, changes: Changes) -> None:
        self._store = store
        self.changes = changes
        self._states: dict[str, NotifyState] = {}
        self._changed: set[str] = set()

    async def state(self, incident_id: str) -> NotifyState:
        if incident_id not in self._states:
            read = await self._store.get_notify_state(incident_id)
            self.changes.expect_notify_state(incident_id, read)
            self._states[incident_id] = read or NotifyState(incident_id=incident_id)
        return self._states[incident_id]

    def put(self, state: NotifyState) -> None:
        if state != self._states.get(state.incident_id):
            self._changed.add(state.incident_id)
        self._states[state.incident_id] = state

    async def due(self, now: datetime) -> list[NotifyState]:
        """The states with a timer due at `now`, as this batch has left them."""
        ids = [s.incident_id for s in await self._store.notify_states_due(now)]
        ids += [i for i, s in self._states.items() if s.due_at and s.due_at <= now]
        states = [await self.state(i) for i in dict.fromkeys(ids)]
        return [s for s in states if s.due_at is not None and s.due_at <= now]

    def changed(self) -> list[NotifyState]:
        return [self._states[i] for i in self._changed]
