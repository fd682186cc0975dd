"""What an external ticket backend is, and the two ways a call to one can fail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

from core.models import Ticket, TicketEvent


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks to wait: delta-seconds or an HTTP date."""
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BackendUnavailableError(Exception):
    """The backend is down, slow or rate-limiting: the same call is tried again later."""

    def __init__(self, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class BackendRejectedError(Exception):
    """The backend refused the call for good (a 4xx other than 429): trying again will not
    help; the refusal is recorded on the ticket."""


class TicketBackend(Protocol):
    """An external ticket system. `deliver` must be safe to repeat for one event: a call
    whose answer was lost is made again."""

    @property
    def name(self) -> str: ...

    async def deliver(self, event: TicketEvent, key: str, sent: Ticket | None) -> str:
        """Send `event` (`key` identifies it across retries); `sent` is the ticket as this
        backend last took it (with its `external_ref`), None before the first time. Returns
        the ticket's reference in the backend."""
        ...

    def actions(self, event: TicketEvent) -> tuple[str, ...]:
        """The calls `deliver` makes for `event` on a backend that has the ticket from its
        first change on (create, comment, transition), named without making any."""
        ...

    async def close(self) -> None:
        """Let go of connections; called once by the owner when the stage stops."""
        ...
