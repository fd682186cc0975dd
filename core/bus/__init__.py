"""The bus: durable streams between stages, consumed by groups with acknowledgement.

Delivery is at-least-once. An entry read by a group stays pending until acknowledged;
a consumer that dies gets its pending entries again when it starts under the same name,
and any consumer reclaims entries left pending longer than the idle threshold. An entry
that can never be processed is moved, with the reason, to its stream's dead letters.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class Stream(enum.StrEnum):
    """The edges of the pipeline: one stream per edge."""

    ALERTS = "alerts"
    INCIDENTS = "incidents"
    TICKETS = "tickets"


@dataclass(frozen=True, slots=True)
class Entry:
    """One delivered stream entry."""

    stream: Stream
    id: str
    body: str
    published_at: float
    """Wall-clock epoch seconds when it was published; used for latency metrics only."""
    deliveries: int


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An entry set aside for good, kept with the reason so a person can look at it."""

    stream: Stream
    group: str
    entry_id: str
    body: str
    reason: str
    deliveries: int
    at: float
    """Wall-clock epoch seconds when it was set aside."""


class NotPendingError(Exception):
    """An acknowledgement names an entry that is no longer pending for its group: another
    consumer took it over and handled it, or this very commit already happened. Nothing
    was changed; the batch's effect belongs to whoever acknowledged it, so drop the batch."""


@dataclass(frozen=True, slots=True)
class Backlog:
    """How far a consuming group lags: entries not yet read, and read but not acknowledged."""

    stream: Stream
    group: str
    unread: int
    pending: int


class Bus(Protocol):
    """Durable streams. Implementations: `core.bus.sqlite`, `core.bus.redis`."""

    async def publish(self, stream: Stream, bodies: Sequence[str]) -> list[str]:
        """Append `bodies`; when this returns they are durable. Returns their ids in order."""
        ...

    async def read(self, stream: Stream, group: str, consumer: str, count: int) -> list[Entry]:
        """Up to `count` entries for `consumer` of `group`: its own and reclaimed pending
        entries first, then new ones. Entries stay pending until acknowledged."""
        ...

    async def ack(self, stream: Stream, group: str, ids: Sequence[str]) -> None:
        """Acknowledge entries: they will not be delivered to `group` again."""
        ...

    async def wait(self, stream: Stream, at_most_s: float) -> None:
        """Return when `stream` may have new entries, or after `at_most_s` seconds."""
        ...

    async def backlog(self) -> list[Backlog]:
        """Lag of every known consumer group."""
        ...

    async def redeliver(self, stream: Stream, group: str, consumer: str) -> None:
        """Hand `consumer` its own pending entries again at its next read, as after a
        restart: for a batch it let go of without acknowledging."""
        ...

    async def dead_letter(
        self, stream: Stream, group: str, entries: Sequence[Entry], reason: str
    ) -> int:
        """Move those of `entries` still pending for `group` to the dead letters of
        `stream` with `reason`, acknowledging them in the same atomic step. Returns how
        many moved; an entry no longer pending was handled elsewhere and is left alone."""
        ...

    async def dead_letters(self, stream: Stream, limit: int = 1000) -> list[DeadLetter]:
        """The dead letters of `stream`, oldest first."""
        ...

    async def trim(self, stream: Stream) -> int:
        """Drop the entries of `stream` that every group has read and acknowledged, never
        one that is unread or pending for any group. Returns how many were dropped."""
        ...
