"""The state one correlate batch reads and writes: store reads cached, drafts collected.

Within a batch the batch's own draft of an incident always wins over the stored one, so
the steps see every change made earlier in the same batch. Alerts and tallies are loaded
for the batch's own alerts only, one query per incident, never all of an incident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from core.matchers import Silence
from core.models import (
    Alert,
    AlertState,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Priority,
    Suppression,
)
from core.store import IncidentFilter, Store
from correlate.draft import Draft
from correlate.summary import tally_keys
from correlate.volume import VolumeTally

OPEN_LIMIT = 100_000
PAGE = 1000


class Batch:
    def __init__(
        self, store: Store, states: dict[str, AlertState], alerts: Sequence[Alert]
    ) -> None:
        self.store = store
        self.states = states
        self.read_states = dict(states)
        """Each alert state as read from the store (absent: read and not found, or never
        read): what the batch's decisions rest on, and what its commit expects."""
        self.drafts: dict[str, Draft] = {}
        self.priority_before: dict[str, Priority] = {}
        self.open_by_key: dict[str, str | None] = {}
        self.opened: set[str] = set()
        self.reopened: set[str] = set()
        self.merged: set[str] = set()
        self.acknowledged: set[str] = set()
        self.announced: set[str] = set()
        """Incidents that stopped settling in this batch: announced as opened."""
        self.crisis_declared: set[str] = set()
        self.changed: set[str] = set()
        self.review: set[str] = set()
        """Incidents whose crisis rules and timers must be looked at before committing."""
        self.suppressions: list[Suppression] = []
        self.heartbeats: dict[str, datetime] = {}
        self.volume = VolumeTally()
        self._alerts = list(alerts)
        self.position = 0
        """Index in the batch's alerts of the one being handled."""
        self._ahead: dict[str, int] = {}
        """Per incident: how many of the batch's next alerts to load with its next miss."""
        self._stored_owner: dict[str, str] = {}
        self._down: dict[str, set[str]] = {}
        """resource -> incidents of this batch in which it fails now"""
        self._silences: list[Silence] | None = None
        self._recent: dict[datetime, list[Incident]] = {}

    def _keep(self, incident: Incident) -> Draft:
        """The draft of a stored incident, made the first time the batch sees it."""
        if incident.id not in self.drafts:
            self.drafts[incident.id] = Draft(incident)
            self.priority_before[incident.id] = incident.priority
        return self.drafts[incident.id]

    def add_new(self, draft: Draft) -> None:
        self.drafts[draft.id] = draft
        self.priority_before[draft.id] = draft.incident.priority

    async def draft(self, incident_id: str) -> Draft | None:
        if incident_id not in self.drafts:
            found = await self.store.get_incident(incident_id)
            if found is None:
                return None
            self._keep(found)
        return self.drafts[incident_id]

    async def ready(self, draft: Draft, alerts: Iterable[Alert | IncidentAlert]) -> Draft:
        """`draft` with what steps on `alerts` read loaded: their alerts in it and their
        tallies. A miss also loads what the batch's next alerts would read there, twice as
        many at each miss: a storm's batch of 500 joining one incident costs about ten
        queries, a batch spread over many incidents about two each."""
        if draft.new:
            return draft
        wanted = list(alerts)
        if all(
            draft.knows_member(a.fingerprint)
            and all(draft.knows_tally(k) for k in tally_keys(a.name, a.resource))
            for a in wanted
        ):
            return draft
        ahead = self._ahead.get(draft.id, 1)
        self._ahead[draft.id] = min(ahead * 2, PAGE)
        wanted += self._alerts[self.position + 1 : self.position + 1 + ahead]
        fingerprints = list(
            dict.fromkeys(a.fingerprint for a in wanted if not draft.knows_member(a.fingerprint))
        )
        keys = [k for a in wanted for k in tally_keys(a.name, a.resource)]
        if fingerprints:
            found = await self.store.incident_members(draft.id, fingerprints)
            draft.loaded_members(found, fingerprints)
            # A stored alert may name another resource than the alert that changes it.
            keys += [k for a in found.values() for k in tally_keys(a.name, a.resource)]
        keys = [k for k in dict.fromkeys(keys) if not draft.knows_tally(k)]
        if keys:
            draft.loaded_tallies(await self.store.tallies(draft.id, keys), keys)
        return draft

    async def all_alerts(self, draft: Draft) -> list[IncidentAlert]:
        """Every alert of the incident, as this batch has left them: for the rare steps
        that must look at all of them (a cause arriving after its symptoms)."""
        found: dict[str, IncidentAlert] = {}
        if not draft.new:
            after: int | None = 0
            while after is not None:
                page, after = await self.store.members_page(draft.id, after, PAGE)
                found.update((a.fingerprint, a) for a in page)
        found.update(draft.changed)
        draft.loaded_members(found, list(found))
        return list(found.values())

    async def open_for_key(self, key: str) -> Draft | None:
        if key not in self.open_by_key:
            found = await self.store.open_incident_for_key(key)
            self.open_by_key[key] = found.id if found else None
            if found is not None:
                self._keep(found)
        incident_id = self.open_by_key[key]
        return None if incident_id is None else self.drafts[incident_id]

    async def latest_for_key(self, key: str) -> Draft | None:
        """The newest incident of `key` in any status, as this batch has left it."""
        found = await self.store.latest_incident_for_key(key)
        if found is not None:
            self._keep(found)
        candidates = [d for d in self.drafts.values() if d.incident.key == key]
        return max(candidates, key=lambda d: (d.incident.opened_at, d.id), default=None)

    async def load_states(self, fingerprints: Iterable[str]) -> None:
        missing = [f for f in fingerprints if f not in self.states]
        if missing:
            found = await self.store.alert_states(missing)
            for fingerprint, state in found.items():
                self.read_states.setdefault(fingerprint, state)
            self.states.update(found)

    async def prefetch_owners(self, resources: Sequence[str]) -> None:
        """Load which stored incidents have these resources failing, in one query."""
        missing = [r for r in dict.fromkeys(resources) if r and r not in self._stored_owner]
        if missing:
            self._stored_owner.update(await self.store.incidents_on_resources(missing))

    def failing(self, resource: str) -> str | None:
        """The unresolved incident in which `resource` has a failing alert, if known."""
        down = sorted(i for i in self._down.get(resource, ()) if self.drafts[i].fails(resource))
        if down:
            return down[0]
        stored = self._stored_owner.get(resource)
        if stored is not None and stored in self.drafts:
            draft = self.drafts[stored]
            if draft.resolved or (draft.knows_tally(("failing", resource))
                                  and not draft.fails(resource)):  # fmt: skip
                return None
        return stored

    async def silences(self) -> list[Silence]:
        if self._silences is None:
            self._silences = await self.store.list_silences()
        return self._silences

    async def recent_open(self, since: datetime) -> list[Draft]:
        """Unresolved incidents opened at or after `since`, the batch's drafts winning."""
        if since not in self._recent:
            self._recent[since] = await self.store.list_incidents(
                IncidentFilter(open_only=True, opened_since=since, limit=OPEN_LIMIT)
            )
            for found in self._recent[since]:
                self._keep(found)
        ids = {i.id for i in self._recent[since]} | {
            d.id for d in self.drafts.values() if d.incident.opened_at >= since
        }
        return [self.drafts[i] for i in sorted(ids) if not self.drafts[i].resolved]

    async def open_services_by_site(self) -> dict[str, set[str]]:
        """Services down per site, the batch's changes applied."""
        found = await self.store.open_services_by_site()
        for draft in self.drafts.values():
            incident = draft.incident
            if not incident.site or not incident.service:
                continue
            services = found.setdefault(incident.site, set())
            if not incident.service_down:
                services.discard(incident.service)
            else:
                services.add(incident.service)
        return found

    def put(self, draft: Draft) -> None:
        """A changed incident: stored, and announced downstream, at the end of the batch."""
        incident = draft.incident
        self.open_by_key[incident.key] = (
            None if incident.status is IncidentStatus.RESOLVED else incident.id
        )
        for resource in draft.failing_touched:
            self._down.setdefault(resource, set()).add(draft.id)
        draft.failing_touched.clear()
        self.changed.add(draft.id)
        self.review.add(draft.id)

    def retime(self, draft: Draft, due_at: datetime | None) -> None:
        """Only the incident's timers changed: stored, but nothing to announce."""
        draft.update(due_at=due_at)

    def final(self, draft: Draft) -> Incident:
        """The header as the batch leaves it: one version more if it changed."""
        incident = draft.incident
        if draft.id in self.changed and draft.read is not None:
            return incident.model_copy(update={"version": draft.read.version + 1})
        return incident

    def written(self, draft: Draft) -> bool:
        """Whether the batch has anything of it to write."""
        return (
            draft.new
            or draft.id in self.changed
            or bool(draft.changed)
            or draft.incident != draft.read
        )
