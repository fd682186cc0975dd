"""The state one correlate batch reads and writes: store reads cached, writes collected.

Within a batch the batch's own version of an incident always wins over the stored one,
so the pure steps see every change made earlier in the same batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from core.matchers import Silence
from core.models import (
    Alert,
    AlertState,
    Incident,
    IncidentStatus,
    Priority,
    Suppression,
)
from core.store import IncidentFilter, Store
from correlate import lifecycle
from correlate.volume import VolumeTally

OPEN_LIMIT = 100_000


class Batch:
    def __init__(self, store: Store, states: dict[str, AlertState]) -> None:
        self.store = store
        self.states = states
        self.read_states = dict(states)
        """Each alert state as read from the store (absent: read and not found, or never
        read): what the batch's decisions rest on, and what its commit expects."""
        self.read: dict[str, Incident] = {}
        """Each incident as first read from the store; the commit expects it unchanged."""
        self.incidents: dict[str, Incident] = {}
        self.priority_before: dict[str, Priority] = {}
        self.open_by_key: dict[str, str | None] = {}
        self.opened: set[str] = set()
        self.reopened: set[str] = set()
        self.merged: set[str] = set()
        self.crisis_declared: set[str] = set()
        self.changed: set[str] = set()
        self.touched: set[str] = set()
        self.review: set[str] = set()
        """Incidents whose crisis rules and timers must be looked at before committing."""
        self.repeats: dict[str, dict[str, lifecycle.Repeats]] = {}
        self.suppressions: list[Suppression] = []
        self.heartbeats: dict[str, datetime] = {}
        self.volume = VolumeTally()
        self._stored_owner: dict[str, str] = {}
        self._owner: dict[str, str] = {}
        self._owned: dict[str, set[str]] = {}
        self._silences: list[Silence] | None = None
        self._recent: dict[datetime, list[Incident]] = {}

    def _keep(self, incident: Incident) -> Incident:
        """Remember a stored incident the first time the batch sees it."""
        if incident.id not in self.incidents:
            self.read.setdefault(incident.id, incident)
            self.incidents[incident.id] = incident
            self.priority_before[incident.id] = incident.priority
        return self.incidents[incident.id]

    async def incident(self, incident_id: str) -> Incident | None:
        if incident_id not in self.incidents:
            found = await self.store.get_incident(incident_id)
            if found is None:
                return None
            self._keep(found)
        return self.incidents[incident_id]

    async def open_for_key(self, key: str) -> Incident | None:
        if key not in self.open_by_key:
            found = await self.store.open_incident_for_key(key)
            self.open_by_key[key] = found.id if found else None
            if found is not None:
                self._keep(found)
        incident_id = self.open_by_key[key]
        return None if incident_id is None else self.incidents[incident_id]

    async def latest_for_key(self, key: str) -> Incident | None:
        """The newest incident of `key` in any status, as this batch has left it."""
        found = await self.store.latest_incident_for_key(key)
        if found is not None:
            self._keep(found)
        candidates = [i for i in self.incidents.values() if i.key == key]
        return max(candidates, key=lambda i: (i.opened_at, i.id), default=None)

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
        """The unresolved incident in which `resource` has a firing alert, if known."""
        if resource in self._owner:
            return self._owner[resource]
        stored = self._stored_owner.get(resource)
        if stored is not None and stored in self.incidents:
            # The batch holds a newer version: trust it over the stored index.
            return stored if resource in self.incidents[stored].failing_resources else None
        return stored

    async def silences(self) -> list[Silence]:
        if self._silences is None:
            self._silences = await self.store.list_silences()
        return self._silences

    async def recent_open(self, since: datetime) -> list[Incident]:
        """Unresolved incidents opened at or after `since`, the batch's versions winning."""
        if since not in self._recent:
            self._recent[since] = await self.store.list_incidents(
                IncidentFilter(open_only=True, opened_since=since, limit=OPEN_LIMIT)
            )
            for found in self._recent[since]:
                self._keep(found)
        ids = {i.id for i in self._recent[since]} | {
            i.id for i in self.incidents.values() if i.opened_at >= since
        }
        return [
            self.incidents[i]
            for i in sorted(ids)
            if self.incidents[i].status is not IncidentStatus.RESOLVED
        ]

    async def open_services_by_site(self) -> dict[str, set[str]]:
        """Services down per site, the batch's changes applied."""
        found = await self.store.open_services_by_site()
        for incident in self.incidents.values():
            if not incident.site or not incident.service:
                continue
            services = found.setdefault(incident.site, set())
            if not incident.service_down:
                services.discard(incident.service)
            else:
                services.add(incident.service)
        return found

    def repeat(self, incident: Incident, alert: Alert) -> None:
        seen = self.repeats.setdefault(incident.id, {})
        if alert.fingerprint in seen:
            seen[alert.fingerprint].count += 1
            seen[alert.fingerprint].last_seen = alert.received_at
        else:
            seen[alert.fingerprint] = lifecycle.Repeats(1, alert.received_at)
        self._keep(incident)
        self.touched.add(incident.id)

    def final(self, incident_id: str) -> Incident:
        """The incident as the batch leaves it, repeats applied once."""
        incident = self.incidents[incident_id]
        repeats = self.repeats.get(incident_id)
        return lifecycle.count_repeats(incident, repeats) if repeats else incident

    def put(self, incident: Incident) -> None:
        """A changed incident: stored, and announced downstream, at the end of the batch."""
        self.priority_before.setdefault(incident.id, incident.priority)
        self.incidents[incident.id] = incident
        self.open_by_key[incident.key] = (
            None if incident.status is IncidentStatus.RESOLVED else incident.id
        )
        for resource in self._owned.pop(incident.id, set()):
            if self._owner.get(resource) == incident.id:
                del self._owner[resource]
        firing = incident.failing_resources
        for resource in firing:
            self._owner[resource] = incident.id
        self._owned[incident.id] = firing
        self.touched.add(incident.id)
        self.changed.add(incident.id)
        self.review.add(incident.id)

    def retime(self, incident: Incident) -> None:
        """Only the incident's timers changed: stored, but nothing to announce."""
        self.incidents[incident.id] = incident
        self.touched.add(incident.id)
