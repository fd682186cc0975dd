"""Deterministic races: a store that lets another worker commit just before this one does."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from core.matchers import Silence
from core.models import (
    AlertState,
    AlertVolume,
    Incident,
    IncidentAlert,
    Notification,
    NotifyState,
    Suppression,
    Ticket,
    TimelineEntry,
)
from core.store import Changes, IncidentFilter, Store


class RacingStore:
    """Delegates to `store`; right before its first commit, runs `rival` (which commits
    something of its own), so this worker commits on state that has changed under it."""

    def __init__(self, store: Store, rival: Callable[[], Awaitable[object]]) -> None:
        self._store = store
        self._rival: Callable[[], Awaitable[object]] | None = rival
        self.commits = 0

    async def commit(self, changes: Changes) -> None:
        if self._rival is not None:
            rival, self._rival = self._rival, None
            await rival()
        self.commits += 1
        await self._store.commit(changes)

    async def next_id(self, prefix: str) -> str:
        return await self._store.next_id(prefix)

    async def get_incident(self, incident_id: str) -> Incident | None:
        return await self._store.get_incident(incident_id)

    async def incident_members(
        self, incident_id: str, fingerprints: Sequence[str]
    ) -> dict[str, IncidentAlert]:
        return await self._store.incident_members(incident_id, fingerprints)

    async def members_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[IncidentAlert], int | None]:
        return await self._store.members_page(incident_id, after, limit)

    async def timeline_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[TimelineEntry], int | None]:
        return await self._store.timeline_page(incident_id, after, limit)

    async def tallies(
        self, incident_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        return await self._store.tallies(incident_id, keys)

    async def open_incident_for_key(self, key: str) -> Incident | None:
        return await self._store.open_incident_for_key(key)

    async def latest_incident_for_key(self, key: str) -> Incident | None:
        return await self._store.latest_incident_for_key(key)

    async def list_incidents(self, where: IncidentFilter) -> list[Incident]:
        return await self._store.list_incidents(where)

    async def alert_states(self, fingerprints: Sequence[str]) -> dict[str, AlertState]:
        return await self._store.alert_states(fingerprints)

    async def incidents_on_resources(self, resources: Sequence[str]) -> dict[str, str]:
        return await self._store.incidents_on_resources(resources)

    async def open_services_by_site(self) -> dict[str, set[str]]:
        return await self._store.open_services_by_site()

    async def incidents_due(self, now: datetime) -> list[Incident]:
        return await self._store.incidents_due(now)

    async def list_silences(self, limit: int = 1000) -> list[Silence]:
        return await self._store.list_silences(limit)

    async def get_silence(self, silence_id: str) -> Silence | None:
        return await self._store.get_silence(silence_id)

    async def list_suppressions(self, limit: int = 5000) -> list[Suppression]:
        return await self._store.list_suppressions(limit)

    async def heartbeats(self) -> dict[str, datetime]:
        return await self._store.heartbeats()

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        return await self._store.get_ticket(ticket_id)

    async def ticket_for_incident(self, incident_id: str, backend: str) -> Ticket | None:
        return await self._store.ticket_for_incident(incident_id, backend)

    async def list_tickets(self, limit: int = 500) -> list[Ticket]:
        return await self._store.list_tickets(limit)

    async def tickets_due(self, now: datetime) -> list[Ticket]:
        return await self._store.tickets_due(now)

    async def list_notifications(self, limit: int = 5000) -> list[Notification]:
        return await self._store.list_notifications(limit)

    async def alert_volumes(self, since: datetime, until: datetime) -> list[AlertVolume]:
        return await self._store.alert_volumes(since, until)

    async def marker(self, name: str) -> str | None:
        return await self._store.marker(name)

    async def get_notification(self, notification_id: str) -> Notification | None:
        return await self._store.get_notification(notification_id)

    async def notifications_to_send(self, now: datetime, limit: int = 100) -> list[Notification]:
        return await self._store.notifications_to_send(now, limit)

    async def get_notify_state(self, incident_id: str) -> NotifyState | None:
        return await self._store.get_notify_state(incident_id)

    async def notify_states_due(self, now: datetime) -> list[NotifyState]:
        return await self._store.notify_states_due(now)

    async def ping(self) -> bool:
        return await self._store.ping()
