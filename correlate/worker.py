"""The correlate stage: reads alerts, applies the pure steps, commits incidents and events."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from core.bus import Entry, Stream
from core.clock import Clock
from core.metrics import CorrelateMetrics, RuntimeMetrics
from core.models import (
    Alert,
    AlertReceived,
    AlertState,
    Incident,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
)
from core.rules import RulesRef
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from correlate import lifecycle
from correlate.dedup import Change, classify, remember
from correlate.grouping import correlation_key, within_window

log = logging.getLogger(__name__)


class _Batch:
    """The state one batch reads and writes: store reads cached, writes collected."""

    def __init__(self, store: Store, states: dict[str, AlertState]) -> None:
        self.store = store
        self.states = states
        self.read_states = dict(states)
        self.read: dict[str, Incident] = {}
        """Each incident as first read from the store: what the batch's decisions rest on."""
        self.incidents: dict[str, Incident] = {}
        self.open_by_key: dict[str, str | None] = {}
        self.opened: set[str] = set()
        self.reopened: set[str] = set()
        self.changed: set[str] = set()
        self.touched: set[str] = set()
        self.repeats: dict[str, dict[str, lifecycle.Repeats]] = {}

    async def incident(self, incident_id: str) -> Incident | None:
        if incident_id not in self.incidents:
            found = await self.store.get_incident(incident_id)
            if found is None:
                return None
            self.read.setdefault(found.id, found)
            self.incidents[incident_id] = found
        return self.incidents[incident_id]

    async def open_for_key(self, key: str) -> Incident | None:
        if key not in self.open_by_key:
            found = await self.store.open_incident_for_key(key)
            self.open_by_key[key] = found.id if found else None
            if found is not None:
                self.read.setdefault(found.id, found)
                self.incidents.setdefault(found.id, found)
        incident_id = self.open_by_key[key]
        return None if incident_id is None else self.incidents[incident_id]

    async def latest_for_key(self, key: str) -> Incident | None:
        """The newest incident of `key` in any status, as this batch has left it."""
        found = await self.store.latest_incident_for_key(key)
        if found is not None:
            self.read.setdefault(found.id, found)
            self.incidents.setdefault(found.id, found)
        candidates = [i for i in self.incidents.values() if i.key == key]
        return max(candidates, key=lambda i: (i.opened_at, i.id), default=None)

    def repeat(self, incident: Incident, alert: Alert) -> None:
        seen = self.repeats.setdefault(incident.id, {})
        if alert.fingerprint in seen:
            seen[alert.fingerprint].count += 1
            seen[alert.fingerprint].last_seen = alert.received_at
        else:
            seen[alert.fingerprint] = lifecycle.Repeats(1, alert.received_at)
        self.incidents.setdefault(incident.id, incident)
        self.touched.add(incident.id)

    def final(self, incident_id: str) -> Incident:
        """The incident as the batch leaves it, repeats applied once."""
        incident = self.incidents[incident_id]
        repeats = self.repeats.get(incident_id)
        return lifecycle.count_repeats(incident, repeats) if repeats else incident

    def put(self, incident: Incident) -> None:
        """A changed incident: stored, and announced downstream, at the end of the batch."""
        self.incidents[incident.id] = incident
        self.open_by_key[incident.key] = (
            None if incident.status is IncidentStatus.RESOLVED else incident.id
        )
        self.touched.add(incident.id)
        self.changed.add(incident.id)


class CorrelateStage:
    """Consumes `alerts` as group `correlate`; publishes to `incidents`."""

    name = "correlate"
    stream = Stream.ALERTS

    def __init__(
        self,
        store: Store,
        rules: RulesRef,
        clock: Clock,
        metrics: CorrelateMetrics,
        runtime_metrics: RuntimeMetrics,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics

    async def handle(self, entries: Sequence[Entry]) -> None:
        good, bad = decode(entries, AlertReceived)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not good:
            return
        states = await self._store.alert_states([r.alert.fingerprint for _, r in good])
        batch = _Batch(self._store, states)
        for _, received in good:
            await self._apply(batch, received.alert)
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in good))])
        for state in batch.states.values():
            changes.put_alert_state(state)
            # Another worker may be correlating the same alerts: commit only on what we read.
            changes.expect_alert_state(state.fingerprint, batch.read_states.get(state.fingerprint))
        now = self._clock.now()
        for incident_id in sorted(batch.touched):
            incident = batch.final(incident_id)
            changes.put_incident(incident)
            changes.expect_incident(incident_id, batch.read.get(incident_id))
            if incident_id in batch.changed:
                changes.publish.append((Stream.INCIDENTS, _event(batch, incident, now)))
        await self._store.commit(changes)
        self._metrics.incidents_opened.inc(len(batch.opened))

    async def _apply(self, batch: _Batch, alert: Alert) -> None:
        state = batch.states.get(alert.fingerprint)
        change = classify(state, alert)
        rules = self._rules.current
        now = self._clock.now()
        incident = None
        if state is not None and state.incident_id is not None:
            incident = await batch.incident(state.incident_id)
        if change is Change.REPEAT or change is Change.UNKNOWN_RESOLVED:
            self._metrics.alerts_deduplicated.inc()
            if incident is not None and change is Change.REPEAT:
                batch.repeat(incident, alert)
        elif change is Change.RESOLVED and incident is not None:
            if incident.status is not IncidentStatus.RESOLVED:
                batch.put(lifecycle.add_resolution(incident, alert, rules, now))
        elif change is Change.FIRING:
            incident = await self._incident_for_firing(batch, alert, incident)
        if (
            alert.acknowledged
            and incident is not None
            and incident.status is IncidentStatus.OPEN
            and change is not Change.UNKNOWN_RESOLVED
        ):
            batch.put(lifecycle.acknowledge(batch.incidents[incident.id], alert, now))
        batch.states[alert.fingerprint] = remember(
            state, alert, incident.id if incident is not None else None
        )

    async def _incident_for_firing(
        self, batch: _Batch, alert: Alert, previous: Incident | None
    ) -> Incident:
        rules = self._rules.current
        now = self._clock.now()
        key = correlation_key(alert)
        current = await batch.open_for_key(key)
        if (
            current is None
            and previous is not None
            and previous.status is not IncidentStatus.RESOLVED
        ):
            current = previous
        latest = None if current is not None else await batch.latest_for_key(key)
        if current is not None:
            updated = lifecycle.add_firing(current, alert, rules, now)
        elif latest is not None and within_window(
            latest.resolved_at, now, rules.correlation.window
        ):
            updated = lifecycle.reopen(latest, alert, rules, now)
            batch.reopened.add(updated.id)
        else:
            incident_id = await self._store.next_id("INC")
            updated = lifecycle.open_incident(incident_id, key, alert, rules, now)
            batch.opened.add(incident_id)
        batch.put(updated)
        return updated


def _event(batch: _Batch, incident: Incident, now: datetime) -> str:
    if incident.id in batch.opened:
        kind = IncidentEventKind.OPENED
    elif incident.status is IncidentStatus.RESOLVED:
        kind = IncidentEventKind.RESOLVED
    elif incident.id in batch.reopened:
        kind = IncidentEventKind.REOPENED
    elif incident.status is IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at == now:
        kind = IncidentEventKind.ACKNOWLEDGED
    else:
        kind = IncidentEventKind.UPDATED
    return IncidentEvent(kind=kind, at=now, incident=incident).model_dump_json()
