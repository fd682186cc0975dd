"""The correlate stage: reads alerts and ticks, applies the pure steps, commits incidents and
events with the acknowledgement of its input."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from core.bus import Entry, Stream
from core.clock import Clock
from core.metrics import CorrelateMetrics, RuntimeMetrics
from core.models import (
    Alert,
    AlertReceived,
    AlertRole,
    AlertsEntry,
    AlertState,
    AlertStatus,
    CommandAction,
    Incident,
    IncidentCommand,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Tick,
    TimelineEntry,
)
from core.rules import Heartbeat, Rules, RulesRef
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from correlate import commands, crisis, heartbeat, lifecycle
from correlate.assess import owner
from correlate.batch import Batch
from correlate.dedup import Change, classify, remember
from correlate.draft import Draft
from correlate.grouping import Grouping, group, within_window
from correlate.placement import Placement, place
from correlate.suppress import suppression
from correlate.topology import find_cause, members_behind, symptoms_of, upstream_resources

log = logging.getLogger(__name__)

_PRIORITIES = list(Priority)
YIELD_EVERY = 50
"""Entries of a batch handled between two chances for the rest of the process to run."""


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
        states = await self._store.alert_states([a.fingerprint for a in alerts])
        batch = Batch(self._store, states, alerts)
        await batch.prefetch_owners(
            [r for a in alerts for r in (a.resource, *dict(rules.topology.ancestors(a.resource)))]
        )
        at = -1
        for done, (_, entry) in enumerate(good, start=1):
            if done % YIELD_EVERY == 0:
                # A storm's batch takes a while: let health checks and senders in meanwhile.
                await asyncio.sleep(0)
            if isinstance(entry.root, AlertReceived):
                at += 1
                batch.position = at
                batch.volume.received(entry.root.alert)
                await self._apply(batch, entry.root.alert, rules)
            elif isinstance(entry.root, IncidentCommand):
                await self._command(batch, entry.root)
            else:
                await self._on_tick(batch, rules)
        now = self._clock.now()
        for draft in batch.drafts.values():
            if draft.settle_at is not None:
                lifecycle.settle(draft, rules, draft.settle_at)
        await self._review(batch, rules, now)
        changes = _changes(batch, now)
        changes.acks = [Ack(self.stream, self.name, tuple(e.id for e, _ in good))]
        if any(isinstance(e.root, Tick) for _, e in good):
            # Time passes downstream after the events it caused here.
            changes.publish.append((Stream.INCIDENTS, Tick(at=now).model_dump_json()))
        await self._store.commit(changes)
        self._metrics.incidents_opened.inc(len(batch.opened))

    async def _command(self, batch: Batch, command: IncidentCommand) -> None:
        """A person acts on an incident (see `correlate.commands`)."""
        draft = await batch.draft(command.incident_id)
        if draft is not None and commands.apply(draft, command, self._clock.now()):
            if command.action is CommandAction.ACKNOWLEDGE:
                batch.acknowledged.add(draft.id)
            elif command.action is CommandAction.REOPEN:
                batch.reopened.add(draft.id)
            batch.put(draft)

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
        draft = None
        if state is not None and state.incident_id is not None:
            draft = await batch.draft(state.incident_id)
            if draft is not None:
                await batch.ready(draft, [alert])
        if change is Change.REPEAT or change is Change.UNKNOWN_RESOLVED:
            self._repeat(batch, draft, alert, change)
        elif change is Change.RESOLVED and draft is not None:
            if not draft.resolved:
                lifecycle.add_resolution(draft, alert, rules, now, flapping=remembered.flapping)
                batch.put(draft)
        elif change is Change.FIRING:
            arrival = lifecycle.Arrival(alert, placement.service, remembered.flapping)
            draft = await self._incident_for_firing(batch, arrival, placement, draft, rules)
        if (
            alert.acknowledged
            and draft is not None
            and draft.incident.status is IncidentStatus.OPEN
            and change is not Change.UNKNOWN_RESOLVED
        ):
            lifecycle.acknowledge(draft, alert, now)
            batch.acknowledged.add(draft.id)
            batch.put(draft)
        batch.states[alert.fingerprint] = remembered.model_copy(
            update={"incident_id": draft.id if draft is not None else None}
        )

    def _repeat(self, batch: Batch, draft: Draft | None, alert: Alert, change: Change) -> None:
        """A repeat: counted, and a change of severity followed."""
        self._metrics.alerts_deduplicated.inc()
        batch.volume.deduplicated(alert)
        if (
            draft is not None
            and change is Change.REPEAT
            and lifecycle.change_alert(draft, alert, self._clock.now())
        ):
            batch.put(draft)

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
        previous: Draft | None,
        rules: Rules,
    ) -> Draft:
        """Where a firing alert goes: back into its own open incident; else as a symptom
        into its failing upstream's incident; else its group's open incident; else the
        incident where its resource already fails (another source said so first); else a
        reopened or a new incident."""
        now = self._clock.now()
        alert = arrival.alert
        grouping = group(alert, placement, rules)
        if previous is not None and not previous.resolved:
            updated = previous
            lifecycle.add_firing(updated, arrival, rules, now)
        elif (symptom := await self._as_symptom(batch, arrival, rules, now)) is not None:
            return symptom
        elif (current := await self._joinable(batch, alert, grouping)) is not None:
            updated, why = current
            await batch.ready(updated, [alert])
            lifecycle.add_firing(
                updated, lifecycle.Arrival(alert, arrival.service, arrival.flapping, cause=why),
                rules, now,
            )  # fmt: skip
        else:
            updated = await self._reopen_or_open(batch, arrival, placement, grouping, rules)
        batch.put(updated)
        if alert.resource in upstream_resources(rules):
            await self._merge_symptoms(batch, updated, alert.resource, rules, now)
        return updated

    async def _as_symptom(
        self, batch: Batch, arrival: lifecycle.Arrival, rules: Rules, now: datetime
    ) -> Draft | None:
        cause = find_cause(arrival.alert.resource, rules.topology, batch.failing)
        if cause is None:
            return None
        target = await batch.draft(cause.incident_id)
        if target is None or target.resolved:
            return None
        await batch.ready(target, [arrival.alert])
        symptom = lifecycle.Arrival(
            arrival.alert, arrival.service, arrival.flapping, AlertRole.SYMPTOM, cause.reason
        )
        lifecycle.add_firing(target, symptom, rules, now)
        batch.put(target)
        self._metrics.symptoms_joined.inc()
        return target

    async def _joinable(
        self, batch: Batch, alert: Alert, grouping: Grouping
    ) -> tuple[Draft, str] | None:
        current = await batch.open_for_key(grouping.key)
        if current is not None:
            return current, grouping.why
        other = batch.failing(alert.resource) if alert.resource else None
        if other is not None:
            found = await batch.draft(other)
            if found is not None and not found.resolved:
                return found, f"{alert.resource} is already failing in {found.id}"
        return None

    async def _reopen_or_open(
        self,
        batch: Batch,
        arrival: lifecycle.Arrival,
        placement: Placement,
        grouping: Grouping,
        rules: Rules,
    ) -> Draft:
        now = self._clock.now()
        latest = await batch.latest_for_key(grouping.key)
        if (
            latest is not None
            and latest.incident.merged_into is None
            and within_window(latest.incident.resolved_at, now, grouping.reopen_window)
        ):
            batch.reopened.add(latest.id)
            await batch.ready(latest, [arrival.alert])
            back = replace(arrival, cause=grouping.why)
            lifecycle.reopen(latest, back, rules, now, grouping.reopen_window)
            return latest
        incident_id = await self._store.next_id("INC")
        batch.opened.add(incident_id)
        owned = owner(arrival.alert, arrival.service, rules)
        origin = lifecycle.Origin(
            grouping.key, grouping.rule, grouping.why, placement.site, owned.group, owned.why
        )  # fmt: skip
        opened = lifecycle.open_incident(incident_id, origin, arrival, rules, now)
        settle = rules.correlation.settle
        if settle > timedelta(0) and next(rules.topology.ancestors(arrival.alert.resource), None):
            lifecycle.hold_back(opened, now + settle)
        batch.add_new(opened)
        runbooks = self._rules.runbooks
        runbook = runbooks.for_alert(arrival.alert, arrival.service) if runbooks else None
        if runbook is not None:
            lifecycle.link_runbook(opened, runbook, now)
        return opened

    async def _merge_symptoms(
        self, batch: Batch, cause: Draft, resource: str, rules: Rules, now: datetime
    ) -> None:
        """Alerts that turn out to sit behind the cause become its symptoms: members of its
        own incident, and incidents opened shortly before the cause's alert arrived."""
        alerts = await batch.all_alerts(cause)
        own = members_behind(alerts, resource, rules.topology)
        if own:
            await batch.ready(cause, [a for a in alerts if a.fingerprint in own])
            lifecycle.as_symptoms(cause, [a for a in alerts if a.fingerprint in own], own, now)
            batch.put(cause)
            self._metrics.symptoms_joined.inc(len(own))
        since = now - rules.correlation.symptom_hold
        candidates = [
            d for d in await batch.recent_open(since)
            if d.id != cause.id and d.incident.merged_into is None
        ]  # fmt: skip
        with_alerts = {d.id: (d, await batch.all_alerts(d)) for d in candidates}
        found = symptoms_of(
            resource, ((d.incident, alerts) for d, alerts in with_alerts.values()), rules.topology
        )
        for duplicate_id, reasons in found.items():
            duplicate, moved = with_alerts[duplicate_id]
            await batch.ready(cause, moved)
            lifecycle.merge(cause, duplicate, moved, reasons, now)
            batch.put(cause)
            batch.put(duplicate)
            batch.merged.add(duplicate_id)
            self._metrics.incidents_merged.inc()
            self._metrics.symptoms_joined.inc(len(reasons))
            fingerprints = [a.fingerprint for a in moved]
            await batch.load_states(fingerprints)
            for fingerprint in fingerprints:
                if fingerprint in batch.states:
                    batch.states[fingerprint] = batch.states[fingerprint].model_copy(
                        update={"incident_id": cause.id}
                    )

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
        """Time has passed: settled incidents are announced, hold-downs end, silent monitors
        open incidents, timers are due."""
        now = self._clock.now()
        for due in await self._store.incidents_due(now):
            draft = batch.drafts.get(due.id) or await batch.draft(due.id)
            if draft is None:
                continue
            settles_at = draft.incident.settles_at
            if settles_at is not None and settles_at <= now:
                lifecycle.announce(draft, now)
                batch.announced.add(draft.id)
                batch.put(draft)
            ends = lifecycle.hold_ends(draft.incident, rules)
            if ends is not None and ends <= now and draft.incident.firing_count == 0:
                why = "its alerts stayed resolved through the " + (
                    "calm period" if draft.incident.flapping else "hold-down"
                )
                lifecycle.resolve(draft, now, why)
                batch.put(draft)
            else:
                batch.review.add(draft.id)
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
            draft = batch.drafts[incident_id]
            incident = draft.incident
            rule = (
                crisis.crisis_rule(incident, rules, now, site_counts.get(incident.site, 0))
                if incident.announced
                else None  # the committee hears of it once it is announced, if ever
            )
            if rule is not None:
                lifecycle.declare_crisis(draft, rule.name, rule.describe(), now)
                batch.put(draft)
                batch.crisis_declared.add(incident_id)
                self._metrics.crises_declared.labels(rule.name).inc()
                incident = draft.incident
            # A hold-down that has ended stays due until a tick resolves it; a crisis timer
            # counts only while it lies ahead.
            moments = [
                m
                for m in (
                    lifecycle.hold_ends(incident, rules),
                    crisis.next_check(incident, rules, now),
                    incident.settles_at,
                )
                if m is not None
            ]
            due = None if incident.status is IncidentStatus.RESOLVED else min(moments, default=None)
            if due != incident.due_at:
                batch.retime(draft, due)

    async def _site_counts(self, batch: Batch, rules: Rules) -> dict[str, int]:
        """Services with unresolved incidents, per site; only when a crisis rule counts them."""
        if not crisis.needs_site_count(rules) or not batch.review:
            return {}
        by_site = await batch.open_services_by_site()
        return {site: len(services) for site, services in by_site.items()}


def _changes(batch: Batch, now: datetime) -> Changes:
    """What the batch commits: alert states, each incident's header, the alerts it changed,
    its new timeline entries and tallies, and the events saying so."""
    changes = Changes()
    for state in batch.states.values():
        changes.put_alert_state(state)
        # Another worker may be correlating the same alerts: commit only on what we read.
        changes.expect_alert_state(state.fingerprint, batch.read_states.get(state.fingerprint))
    # An incident opened and merged within this batch was never seen by anyone: it is
    # kept on record, but announcing it would only open a ticket already resolved.
    unseen = batch.opened & batch.merged
    for incident_id in sorted(batch.drafts):
        draft = batch.drafts[incident_id]
        if not batch.written(draft):
            continue
        incident = batch.final(draft)
        story = tuple(draft.story())
        changes.put_incident(incident)
        changes.expect_incident(incident_id, draft.read)
        for alert in draft.changed.values():
            changes.put_member(incident_id, alert)
        changes.timeline += [(incident_id, entry) for entry in story]
        changes.tallies.update(
            ((incident_id, dim, value), n) for (dim, value), n in draft.deltas.items() if n
        )
        if incident_id in batch.changed and incident_id not in unseen and incident.announced:
            changes.publish.append((Stream.INCIDENTS, _event(batch, draft, incident, story, now)))
    changes.suppressions = batch.suppressions
    changes.heartbeats = batch.heartbeats
    changes.alert_volumes = batch.volume.volumes()
    return changes


def _event(
    batch: Batch, draft: Draft, incident: Incident, story: tuple[TimelineEntry, ...],
    now: datetime,
) -> str:  # fmt: skip
    if incident.id in batch.merged:
        kind = IncidentEventKind.MERGED
    elif incident.id in batch.opened or incident.id in batch.announced:
        kind = IncidentEventKind.OPENED
    elif incident.status is IncidentStatus.RESOLVED:
        kind = IncidentEventKind.RESOLVED
    elif incident.id in batch.reopened:
        kind = IncidentEventKind.REOPENED
    elif incident.id in batch.acknowledged and incident.status is IncidentStatus.ACKNOWLEDGED:
        kind = IncidentEventKind.ACKNOWLEDGED
    else:
        kind = IncidentEventKind.UPDATED
    before = batch.priority_before.get(incident.id, incident.priority)
    return IncidentEvent(
        kind=kind,
        at=now,
        incident=incident,
        alerts=tuple(draft.changed.values()),
        notes=story,
        crisis_declared=incident.id in batch.crisis_declared,
        priority_raised=(
            incident.id not in batch.opened
            and _PRIORITIES.index(incident.priority) < _PRIORITIES.index(before)
        ),
    ).model_dump_json()
