"""The correlate stage: reads alerts and ticks, applies the pure steps, commits incidents and
events with the acknowledgement of its input."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from core.bus import Entry, Stream
from core.clock import Clock
from core.incident_entries import incident_event_text
from core.metrics import CorrelateMetrics, RuntimeMetrics
from core.models import (
    Alert,
    AlertReceived,
    AlertRole,
    AlertsEntry,
    AlertState,
    AlertStatus,
    Incident,
    IncidentCommand,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Tick,
)
from core.rules import Heartbeat, Rules, RulesRef
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from correlate import commands, crisis, heartbeat, lifecycle
from correlate.assess import owner
from correlate.batch import Batch
from correlate.dedup import Change, classify, remember
from correlate.grouping import Grouping, group, within_window
from correlate.placement import Placement, place
from correlate.suppress import suppression
from correlate.topology import find_cause, members_behind, symptoms_of, upstream_resources

log = logging.getLogger(__name__)

_PRIORITIES = list(Priority)


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
        good, bad = decode(entries, AlertsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not good:
            return
        rules = self._rules.current
        alerts = [e.root.alert for _, e in good if isinstance(e.root, AlertReceived)]
        batch = Batch(self._store, await self._store.alert_states([a.fingerprint for a in alerts]))
        await batch.prefetch_owners(
            [r for a in alerts for r in (a.resource, *dict(rules.topology.ancestors(a.resource)))]
        )
        for _, entry in good:
            if isinstance(entry.root, AlertReceived):
                batch.volume.received(entry.root.alert)
                await self._apply(batch, entry.root.alert, rules)
            elif isinstance(entry.root, IncidentCommand):
                await self._command(batch, entry.root)
            else:
                await self._on_tick(batch, rules)
        now = self._clock.now()
        await self._review(batch, rules, now)
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in good))])
        for state in batch.states.values():
            changes.put_alert_state(state)
            # Another worker may be correlating the same alerts: commit only on what we read.
            changes.expect_alert_state(state.fingerprint, batch.read_states.get(state.fingerprint))
        # An incident opened and merged within this batch was never seen by anyone: it is
        # kept on record, but announcing it would only open a ticket already resolved.
        unseen = batch.opened & batch.merged
        for incident_id in sorted(batch.touched):
            incident = batch.final(incident_id)
            changes.put_incident(incident)
            changes.expect_incident(incident_id, batch.read.get(incident_id))
            if incident_id in batch.changed and incident_id not in unseen:
                record = changes.incident_record(incident)
                changes.publish.append((Stream.INCIDENTS, _event(batch, incident, record, now)))
        changes.suppressions = batch.suppressions
        changes.heartbeats = batch.heartbeats
        changes.alert_volumes = batch.volume.volumes()
        if any(isinstance(e.root, Tick) for _, e in good):
            # Time passes downstream after the events it caused here.
            changes.publish.append((Stream.INCIDENTS, Tick(at=now).model_dump_json()))
        await self._store.commit(changes)
        self._metrics.incidents_opened.inc(len(batch.opened))

    async def _command(self, batch: Batch, command: IncidentCommand) -> None:
        """A person acknowledges or resolves an incident (see `correlate.commands`)."""
        incident = await batch.incident(command.incident_id)
        changed = None if incident is None else commands.apply(incident, command, self._clock.now())
        if changed is not None:
            batch.put(changed)

    async def _apply(self, batch: Batch, alert: Alert, rules: Rules) -> None:
        now = self._clock.now()
        placement = place(alert, rules)
        beat = heartbeat.heartbeat_for(alert, placement.service, rules)
        if beat is not None:
            await self._sign_of_life(batch, beat, alert, rules)
            return
        state = batch.states.get(alert.fingerprint)
        change = await self._change(batch, state, alert, placement, rules)
        if change is None:
            return
        remembered = remember(
            state, alert, state.incident_id if state else None, change, rules.correlation.flapping
        )
        incident = None
        if state is not None and state.incident_id is not None:
            incident = await batch.incident(state.incident_id)
        if change is Change.REPEAT or change is Change.UNKNOWN_RESOLVED:
            self._metrics.alerts_deduplicated.inc()
            batch.volume.deduplicated(alert)
            if incident is not None and change is Change.REPEAT:
                batch.repeat(incident, alert)
        elif change is Change.RESOLVED and incident is not None:
            if incident.status is not IncidentStatus.RESOLVED:
                batch.put(
                    lifecycle.add_resolution(
                        incident, alert, rules, now, flapping=remembered.flapping
                    )
                )
        elif change is Change.FIRING:
            arrival = lifecycle.Arrival(alert, placement.service, remembered.flapping)
            incident = await self._incident_for_firing(batch, arrival, placement, incident, rules)
        if (
            alert.acknowledged
            and incident is not None
            and batch.incidents[incident.id].status is IncidentStatus.OPEN
            and change is not Change.UNKNOWN_RESOLVED
        ):
            batch.put(lifecycle.acknowledge(batch.incidents[incident.id], alert, now))
        batch.states[alert.fingerprint] = remembered.model_copy(
            update={"incident_id": incident.id if incident is not None else None}
        )

    async def _change(
        self,
        batch: Batch,
        state: AlertState | None,
        alert: Alert,
        placement: Placement,
        rules: Rules,
    ) -> Change | None:
        """What `alert` changes; None when a silence or maintenance window takes it."""
        now = self._clock.now()
        change = classify(state, alert)
        suppressed_before = state is not None and state.incident_id is None
        # A repeat of an alert that was suppressed: once its silence or window has ended it
        # is news again; until then it stays quiet.
        if (
            change is Change.REPEAT
            and suppressed_before
            and alert.status is AlertStatus.FIRING
            and not await self._suppressed(batch, alert, placement, rules, now, record=False)
        ):
            change = Change.FIRING
        if change is Change.FIRING and await self._suppressed(batch, alert, placement, rules, now):
            batch.states[alert.fingerprint] = remember(
                state, alert, None, change, rules.correlation.flapping
            )
            return None
        return change

    async def _suppressed(
        self,
        batch: Batch,
        alert: Alert,
        placement: Placement,
        rules: Rules,
        now: datetime,
        *,
        record: bool = True,
    ) -> bool:
        found = suppression(alert, placement.service, rules, await batch.silences(), now)
        if found is not None and record:
            batch.suppressions.append(found)
            batch.volume.suppressed(alert)
            self._metrics.alerts_suppressed.labels(found.by.partition(":")[0]).inc()
        return found is not None

    async def _incident_for_firing(
        self,
        batch: Batch,
        arrival: lifecycle.Arrival,
        placement: Placement,
        previous: Incident | None,
        rules: Rules,
    ) -> Incident:
        """Where a firing alert goes: back into its own open incident; else as a symptom
        into its failing upstream's incident; else its group's open incident; else the
        incident where its resource already fails (another source said so first); else a
        reopened or a new incident."""
        now = self._clock.now()
        alert = arrival.alert
        grouping = group(alert, placement, rules)
        if previous is not None and previous.status is not IncidentStatus.RESOLVED:
            updated = lifecycle.add_firing(previous, arrival, rules, now)
        elif (symptom := await self._as_symptom(batch, arrival, rules, now)) is not None:
            return symptom
        elif (current := await self._joinable(batch, alert, grouping)) is not None:
            joined, why = current
            updated = lifecycle.add_firing(
                joined, lifecycle.Arrival(alert, arrival.service, arrival.flapping, cause=why),
                rules, now,
            )  # fmt: skip
        else:
            updated = await self._reopen_or_open(batch, arrival, placement, grouping, rules)
        batch.put(updated)
        if alert.resource in upstream_resources(rules):
            updated = await self._merge_symptoms(batch, updated, alert.resource, rules, now)
        return updated

    async def _as_symptom(
        self, batch: Batch, arrival: lifecycle.Arrival, rules: Rules, now: datetime
    ) -> Incident | None:
        cause = find_cause(arrival.alert.resource, rules.topology, batch.failing)
        if cause is None:
            return None
        target = await batch.incident(cause.incident_id)
        if target is None or target.status is IncidentStatus.RESOLVED:
            return None
        symptom = lifecycle.Arrival(
            arrival.alert, arrival.service, arrival.flapping, AlertRole.SYMPTOM, cause.reason
        )
        updated = lifecycle.add_firing(target, symptom, rules, now)
        batch.put(updated)
        self._metrics.symptoms_joined.inc()
        return updated

    async def _joinable(
        self, batch: Batch, alert: Alert, grouping: Grouping
    ) -> tuple[Incident, str] | None:
        current = await batch.open_for_key(grouping.key)
        if current is not None:
            return current, grouping.why
        other = batch.failing(alert.resource) if alert.resource else None
        if other is not None:
            found = await batch.incident(other)
            if found is not None and found.status is not IncidentStatus.RESOLVED:
                return found, f"{alert.resource} is already failing in {found.id}"
        return None

    async def _reopen_or_open(
        self,
        batch: Batch,
        arrival: lifecycle.Arrival,
        placement: Placement,
        grouping: Grouping,
        rules: Rules,
    ) -> Incident:
        now = self._clock.now()
        latest = await batch.latest_for_key(grouping.key)
        if (
            latest is not None
            and latest.merged_into is None
            and within_window(latest.resolved_at, now, grouping.reopen_window)
        ):
            batch.reopened.add(latest.id)
            back = replace(arrival, cause=grouping.why)
            return lifecycle.reopen(latest, back, rules, now, grouping.reopen_window)
        incident_id = await self._store.next_id("INC")
        batch.opened.add(incident_id)
        owned = owner(arrival.alert, arrival.service, rules)
        origin = lifecycle.Origin(
            grouping.key, grouping.rule, grouping.why, placement.site, owned.group, owned.why
        )  # fmt: skip
        opened = lifecycle.open_incident(incident_id, origin, arrival, rules, now)
        runbooks = self._rules.runbooks
        runbook = runbooks.for_alert(arrival.alert, arrival.service) if runbooks else None
        return opened if runbook is None else lifecycle.link_runbook(opened, runbook, now)

    async def _merge_symptoms(
        self, batch: Batch, cause: Incident, resource: str, rules: Rules, now: datetime
    ) -> Incident:
        """Alerts that turn out to sit behind the cause become its symptoms: members of its
        own incident, and incidents opened shortly before the cause's alert arrived."""
        own = members_behind(cause, resource, rules.topology)
        if own:
            cause = lifecycle.as_symptoms(cause, own, rules, now)
            batch.put(cause)
            self._metrics.symptoms_joined.inc(len(own))
        since = now - rules.correlation.symptom_hold
        candidates = [
            i for i in await batch.recent_open(since) if i.id != cause.id and i.merged_into is None
        ]
        for duplicate_id, reasons in symptoms_of(resource, candidates, rules.topology).items():
            duplicate = batch.incidents[duplicate_id]
            cause, merged = lifecycle.merge(cause, duplicate, reasons, rules, now)
            batch.put(cause)
            batch.put(merged)
            batch.merged.add(duplicate_id)
            self._metrics.incidents_merged.inc()
            self._metrics.symptoms_joined.inc(len(reasons))
            moved = [a.fingerprint for a in duplicate.alerts]
            await batch.load_states(moved)
            for fingerprint in moved:
                if fingerprint in batch.states:
                    batch.states[fingerprint] = batch.states[fingerprint].model_copy(
                        update={"incident_id": cause.id}
                    )
        return cause

    async def _sign_of_life(
        self, batch: Batch, beat: Heartbeat, alert: Alert, rules: Rules
    ) -> None:
        """A monitor speaks: note it, and end its silence incident if one is open."""
        last = max(alert.received_at, batch.heartbeats.get(beat.name, alert.received_at))
        batch.heartbeats[beat.name] = last
        self._metrics.heartbeats_seen.labels(beat.name).inc()
        fingerprint = heartbeat.fingerprint(beat)
        await batch.load_states([fingerprint])
        state = batch.states.get(fingerprint)
        if state is not None and state.status is AlertStatus.FIRING:
            now = self._clock.now()
            await self._apply(
                batch, heartbeat.silence_alert(beat, last, now, AlertStatus.RESOLVED), rules
            )

    async def _on_tick(self, batch: Batch, rules: Rules) -> None:
        """Time has passed: hold-downs end, silent monitors open incidents, timers are due."""
        now = self._clock.now()
        for due in await self._store.incidents_due(now):
            incident = batch.incidents.get(due.id) or await batch.incident(due.id) or due
            ends = lifecycle.hold_ends(incident, rules)
            if ends is not None and ends <= now and not incident.firing:
                why = "its alerts stayed resolved through the " + (
                    "calm period" if incident.flapping else "hold-down"
                )
                batch.put(lifecycle.resolve(incident, now, why))
            else:
                batch.review.add(incident.id)
        stored = await self._store.heartbeats()
        last_seen = stored | batch.heartbeats
        silent = heartbeat.silent(rules, last_seen, now)
        await batch.load_states([heartbeat.fingerprint(b) for b, _ in silent])
        for beat, last in silent:
            state = batch.states.get(heartbeat.fingerprint(beat))
            if state is None or state.status is not AlertStatus.FIRING:
                await self._apply(
                    batch, heartbeat.silence_alert(beat, last, now, AlertStatus.FIRING), rules
                )

    async def _review(self, batch: Batch, rules: Rules, now: datetime) -> None:
        """Before committing: declare crises whose rules now hold, and set each incident's
        next timer (hold-down end, crisis duration)."""
        site_counts = await self._site_counts(batch, rules)
        for incident_id in sorted(batch.review):
            incident = batch.incidents[incident_id]
            rule = crisis.crisis_rule(incident, rules, now, site_counts.get(incident.site, 0))
            if rule is not None:
                incident = lifecycle.declare_crisis(incident, rule.name, rule.describe(), now)
                batch.put(incident)
                batch.crisis_declared.add(incident_id)
                self._metrics.crises_declared.labels(rule.name).inc()
            # A hold-down that has ended stays due until a tick resolves it; a crisis timer
            # counts only while it lies ahead.
            moments = [
                m
                for m in (
                    lifecycle.hold_ends(incident, rules),
                    crisis.next_check(incident, rules, now),
                )
                if m is not None
            ]
            due = None if incident.status is IncidentStatus.RESOLVED else min(moments, default=None)
            if due != incident.due_at:
                batch.retime(incident.model_copy(update={"due_at": due}))

    async def _site_counts(self, batch: Batch, rules: Rules) -> dict[str, int]:
        """Services with unresolved incidents, per site; only when a crisis rule counts them."""
        if not crisis.needs_site_count(rules) or not batch.review:
            return {}
        by_site = await batch.open_services_by_site()
        return {site: len(services) for site, services in by_site.items()}


def _event(batch: Batch, incident: Incident, record: str, now: datetime) -> str:
    if incident.id in batch.merged:
        kind = IncidentEventKind.MERGED
    elif incident.id in batch.opened:
        kind = IncidentEventKind.OPENED
    elif incident.status is IncidentStatus.RESOLVED:
        kind = IncidentEventKind.RESOLVED
    elif incident.id in batch.reopened:
        kind = IncidentEventKind.REOPENED
    elif incident.status is IncidentStatus.ACKNOWLEDGED and incident.acknowledged_at == now:
        kind = IncidentEventKind.ACKNOWLEDGED
    else:
        kind = IncidentEventKind.UPDATED
    before = batch.priority_before.get(incident.id, incident.priority)
    event = IncidentEvent(
        kind=kind,
        at=now,
        incident=incident,
        crisis_declared=incident.id in batch.crisis_declared,
        priority_raised=(
            incident.id not in batch.opened
            and _PRIORITIES.index(incident.priority) < _PRIORITIES.index(before)
        ),
    )
    return incident_event_text(event, record)
