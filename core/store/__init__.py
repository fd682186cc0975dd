"""The store: the pipeline's state, changed only through atomic `Changes`.

A stage computes what its input means, then commits the state it changed, the entries
it publishes downstream and the acknowledgement of its input in one atomic `commit`.
A crash before the commit redelivers the input; a crash after it loses nothing. That
is how at-least-once delivery becomes exactly-once effect.

When several workers run one stage, two of them may read the same state and decide on
it at once. A commit therefore also carries what its stage read (`expect_*`): the store
refuses it with ConflictError when that state has changed since, and the stage reads
again and decides again. It refuses with NotPendingError a commit whose input another
consumer has already acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel

from core.bus import DeadLetter, NotPendingError, Stream
from core.matchers import Silence
from core.models import (
    AlertState,
    AlertVolume,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Notification,
    NotifyState,
    Priority,
    Suppression,
    Ticket,
    TimelineEntry,
)

T = TypeVar("T")

INCIDENT = "incident"
ALERT_STATE = "alert_state"
TICKET = "ticket"
NOTIFICATION = "notification"
NOTIFY_STATE = "notify_state"

__all__ = [
    "ALERT_STATE",
    "INCIDENT",
    "NOTIFICATION",
    "NOTIFY_STATE",
    "TICKET",
    "Ack",
    "Changes",
    "ConflictError",
    "DeadLetter",
    "IncidentFilter",
    "NotPendingError",
    "Store",
]


@dataclass(frozen=True, slots=True)
class Ack:
    stream: Stream
    group: str
    ids: tuple[str, ...]


@dataclass(slots=True)
class Changes:
    """Everything one step of a stage changes, committed at once."""

    incidents: list[Incident] = field(default_factory=list)
    """Incident headers, written whole."""
    members: list[tuple[str, IncidentAlert]] = field(default_factory=list)
    """(incident id, alert) added to or changed in that incident, keyed by fingerprint."""
    timeline: list[tuple[str, TimelineEntry]] = field(default_factory=list)
    """(incident id, entry) appended to that incident's timeline, in order."""
    tallies: dict[tuple[str, str, str], int] = field(default_factory=dict)
    """(incident id, dimension, value) -> how much to add to that count (`Tally`)."""
    alert_states: list[AlertState] = field(default_factory=list)
    tickets: list[Ticket] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    """Written whole (a pending one enters the delivery outbox, a settled one leaves it)."""
    notify_states: list[NotifyState] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    heartbeats: dict[str, datetime] = field(default_factory=dict)
    """heartbeat name: its latest sign of life"""
    alert_volumes: list[AlertVolume] = field(default_factory=list)
    """Added to the stored counts of the same hour, source and name."""
    markers: dict[str, str] = field(default_factory=dict)
    """name: value, replacing the stored one (e.g. the last daily report produced)"""
    publish: list[tuple[Stream, str]] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    expected: dict[tuple[str, str], str | None] = field(default_factory=dict)
    """(kind, id) -> the JSON the stage read (None: it read nothing there). The commit
    refuses with ConflictError if the store holds anything else by then."""

    _positions: dict[tuple[str, str], int] = field(default_factory=dict, repr=False)

    def _put(self, items: list[T], kind: str, key: str, item: T) -> None:
        """Upsert in constant time, keeping only the newest value of an item touched twice."""
        at = self._positions.get((kind, key))
        if at is None:
            self._positions[kind, key] = len(items)
            items.append(item)
        else:
            items[at] = item

    def put_incident(self, incident: Incident) -> None:
        self._put(self.incidents, "incident", incident.id, incident)

    def put_member(self, incident_id: str, alert: IncidentAlert) -> None:
        self._put(self.members, "member", f"{incident_id}\0{alert.fingerprint}",
                  (incident_id, alert))  # fmt: skip

    def put_alert_state(self, state: AlertState) -> None:
        self._put(self.alert_states, "alert_state", state.fingerprint, state)

    def put_ticket(self, ticket: Ticket) -> None:
        self._put(self.tickets, "ticket", ticket.id, ticket)

    def put_notification(self, notification: Notification) -> None:
        self._put(self.notifications, "notification", notification.id, notification)

    def put_notify_state(self, state: NotifyState) -> None:
        self._put(self.notify_states, "notify_state", state.incident_id, state)

    def _expect(self, kind: str, key: str, read: BaseModel | None) -> None:
        # The first read of an item is what the step's decisions rest on.
        if (kind, key) not in self.expected:
            self.expected[kind, key] = None if read is None else read.model_dump_json()

    def expect_incident(self, incident_id: str, read: Incident | None) -> None:
        """Commit only if incident `incident_id` is still `read` (None: still absent)."""
        self._expect(INCIDENT, incident_id, read)

    def expect_alert_state(self, fingerprint: str, read: AlertState | None) -> None:
        """Commit only if the state of `fingerprint` is still `read` (None: still absent)."""
        self._expect(ALERT_STATE, fingerprint, read)

    def expect_ticket(self, ticket_id: str, read: Ticket | None) -> None:
        """Commit only if ticket `ticket_id` is still `read` (None: still absent)."""
        self._expect(TICKET, ticket_id, read)

    def expect_notification(self, notification_id: str, read: Notification | None) -> None:
        """Commit only if notification `notification_id` is still `read` (None: absent)."""
        self._expect(NOTIFICATION, notification_id, read)

    def expect_notify_state(self, incident_id: str, read: NotifyState | None) -> None:
        """Commit only if the notify state of `incident_id` is still `read` (None: absent)."""
        self._expect(NOTIFY_STATE, incident_id, read)


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    status: IncidentStatus | None = None
    priority: Priority | None = None
    service: str | None = None
    name: str | None = None
    """The name of its first member (`Incident.title_name`)."""
    open_only: bool = False
    opened_since: datetime | None = None
    limit: int = 500


class ConflictError(Exception):
    """A commit lost a race (a second open incident for one key, a second ticket for one
    incident, state changed since it was read); nothing was changed: retry the step."""


class Store(Protocol):
    """Pipeline state. Implementations: `core.store.sqlite`, `core.store.redis`."""

    async def next_id(self, prefix: str) -> str:
        """A new id such as INC-42; durable, never repeated, gaps allowed."""
        ...

    async def commit(self, changes: Changes) -> None:
        """Apply `changes` atomically: state, downstream entries, dead letters and
        acknowledgements, or nothing at all. Raises ConflictError when the change would
        break a uniqueness rule or an expectation; NotPendingError when an acknowledged
        entry is not pending any more; StorageUnavailableError when storage cannot be
        reached (then it may or may not have happened, and the NotPendingError of a
        second try tells it did)."""
        ...

    async def get_incident(self, incident_id: str) -> Incident | None:
        """The incident's header."""
        ...

    async def incident_members(
        self, incident_id: str, fingerprints: Sequence[str]
    ) -> dict[str, IncidentAlert]:
        """Those of `fingerprints` that are alerts of the incident, by fingerprint."""
        ...

    async def members_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[IncidentAlert], int | None]:
        """The incident's alerts in the order they joined, from cursor `after` (0: the
        first); with the cursor of the next page, None after the last."""
        ...

    async def timeline_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[TimelineEntry], int | None]:
        """The incident's timeline in order, paged as `members_page`."""
        ...

    async def tallies(
        self, incident_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        """The incident's counts of these (dimension, value) keys; absent ones are 0."""
        ...

    async def open_incident_for_key(self, key: str) -> Incident | None:
        """The incident with correlation `key` that is not resolved, if any."""
        ...

    async def latest_incident_for_key(self, key: str) -> Incident | None:
        """The most recently opened incident with correlation `key`, in any status."""
        ...

    async def list_incidents(self, where: IncidentFilter) -> list[Incident]:
        """Newest first."""
        ...

    async def alert_states(self, fingerprints: Sequence[str]) -> dict[str, AlertState]: ...

    async def incidents_on_resources(self, resources: Sequence[str]) -> dict[str, str]:
        """For each of `resources` failing in an incident that is not resolved (an alert of
        it that `core.models.is_failing`), that incident's id, the lowest first. Kept by
        `commit` from the `failing` tallies it adds."""
        ...

    async def open_services_by_site(self) -> dict[str, set[str]]:
        """For each site, the services down there: the main services of its unresolved
        incidents of critical severity."""
        ...

    async def incidents_due(self, now: datetime) -> list[Incident]:
        """Incidents that are not resolved and whose `due_at` is at or before `now`."""
        ...

    async def list_silences(self, limit: int = 1000) -> list[Silence]:
        """Every silence, newest first, expired ones included."""
        ...

    async def get_silence(self, silence_id: str) -> Silence | None: ...

    async def list_suppressions(self, limit: int = 5000) -> list[Suppression]:
        """Oldest first."""
        ...

    async def heartbeats(self) -> dict[str, datetime]:
        """Each heartbeat's latest sign of life."""
        ...

    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    async def ticket_for_incident(self, incident_id: str, backend: str) -> Ticket | None: ...

    async def tickets_due(self, now: datetime) -> list[Ticket]:
        """Tickets whose `due_at` is at or before `now`, soonest first. Kept by `commit`
        from the tickets it writes; a ticket with nothing left to time has no `due_at`."""
        ...

    async def list_tickets(self, limit: int = 500) -> list[Ticket]:
        """Newest first."""
        ...

    async def list_notifications(self, limit: int = 5000) -> list[Notification]:
        """Oldest first."""
        ...

    async def alert_volumes(self, since: datetime, until: datetime) -> list[AlertVolume]:
        """The counts of every hour starting at or after `since` and before `until`,
        ordered by hour, source and name."""
        ...

    async def marker(self, name: str) -> str | None:
        """The value last committed for marker `name`, if any."""
        ...

    async def get_notification(self, notification_id: str) -> Notification | None: ...

    async def notifications_to_send(self, now: datetime, limit: int = 100) -> list[Notification]:
        """Pending notifications whose `next_attempt_at` is at or before `now`, earliest
        first: the delivery outbox, kept by `commit` from the notifications it writes."""
        ...

    async def get_notify_state(self, incident_id: str) -> NotifyState | None: ...

    async def notify_states_due(self, now: datetime) -> list[NotifyState]:
        """Notify states whose earliest timer (`due_at`) is at or before `now`, earliest
        first."""
        ...

    async def ping(self) -> bool:
        """True when the storage answers."""
        ...
