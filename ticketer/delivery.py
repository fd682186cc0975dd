"""Delivering ticket changes to an external backend: the `tickets` stream is the outbox.

The ticketer commits each ticket change together with its `tickets` entry, and never calls
a backend itself, so correlation and ticketing never wait on one. Each external backend
reads that stream as a consumer group of its own (`deliver-<backend>`): a slow or broken
backend holds back only its own deliveries. A change is acknowledged only once the backend
took it (or refused it for good), in the same commit as the backend's copy of the ticket
and the attempts made; a crash before that delivers it again, with the same delivery key.
Retries are bounded (`give_up_after_s`): a change the backend never took in that time is
moved to the dead letters with the reason, in that same commit, and counted
(`sereno_bus_dead_letters_total{reason="gave_up"}`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_delay,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from core.bus import DeadLetter, Entry, Stream
from core.clock import Clock
from core.errors import Reason
from core.metrics import RuntimeMetrics, TicketerMetrics
from core.models import BackendCall, Ticket, TicketEvent, TicketsEntry
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, TicketBackend

log = logging.getLogger(__name__)

KEEP_ATTEMPTS = 50
"""Attempts kept on a backend's copy of a ticket, latest last."""
GIVE_UP_AFTER_S = 3600.0
"""How long one change is retried while its backend is unavailable before it is set aside."""


def delivery_key(event: TicketEvent) -> str:
    """Identifies one ticket change across redeliveries and retries."""
    return f"{event.ticket.id}:{event.kind.value}:{event.ticket.updated_at.isoformat()}"


class RetryAfterOrBackoff(wait_base):
    """Waits as long as the backend's Retry-After asks, or the backoff, whichever is longer:
    a rate-limited backend refuses a call made before it said, and lengthens the wait."""

    def __init__(self, backoff: Callable[[RetryCallState], float]) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        backoff = self._backoff(retry_state)
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, BackendUnavailableError) and error.retry_after_s is not None:
            return max(backoff, error.retry_after_s)
        return backoff


class DeliveryStage:
    """Consumes `tickets` as group `deliver-<backend>`; calls the backend, retrying with
    exponential backoff and jitter while it is unavailable."""

    stream = Stream.TICKETS

    def __init__(
        self,
        store: Store,
        backend: TicketBackend,
        clock: Clock,
        metrics: TicketerMetrics,
        runtime_metrics: RuntimeMetrics,
        backoff_max_s: float = 60.0,
        give_up_after_s: float = GIVE_UP_AFTER_S,
    ) -> None:
        self._store = store
        self._backend = backend
        self._clock = clock
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics
        self._backoff_max_s = backoff_max_s
        self._give_up_after_s = give_up_after_s
        self.name = f"deliver-{backend.name}"

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, TicketsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        for entry, value in decoded:
            event = value.root
            changes = Changes(acks=[Ack(self.stream, self.name, (entry.id,))])
            gave_up = None
            if isinstance(event, TicketEvent) and event.ticket.backend == "builtin":
                read = await self._store.ticket_for_incident(
                    event.ticket.incident_id, self._backend.name
                )
                attempts, ref, gave_up = await self._deliver(event, read)
                copy = await self._copy(event, read, attempts, ref)
                changes.put_ticket(copy)
                changes.expect_ticket(copy.id, read)
            if gave_up is not None:
                # Set aside instead of acknowledged: kept, with the reason, for a person.
                changes.acks = []
                changes.dead_letters.append(
                    DeadLetter(self.stream, self.name, entry.id, entry.body, gave_up,
                               entry.deliveries, time.time())
                )  # fmt: skip
            await self._store.commit(changes)
            if gave_up is not None:
                self._runtime_metrics.dead_letters.labels(self.name, Reason.GAVE_UP.value).inc()

    async def _deliver(
        self, event: TicketEvent, sent: Ticket | None
    ) -> tuple[list[BackendCall], str, str | None]:
        """Call the backend until it takes `event`, refuses it for good, or has been
        unavailable for `give_up_after_s`; the attempts, the backend's reference, and the
        reason it was given up (None when it was not)."""
        attempts: list[BackendCall] = []
        key = delivery_key(event)
        action = event.kind.value
        ref = ""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(BackendUnavailableError),
            wait=RetryAfterOrBackoff(
                wait_random_exponential(multiplier=0.5, max=self._backoff_max_s)
            ),
            stop=stop_after_delay(self._give_up_after_s),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        ref = await self._backend.deliver(event, key, sent)
                    except BackendUnavailableError as e:
                        self._record(attempts, action, "unavailable", str(e))
                        log.warning("%s: %s unavailable: %s", self.name, key, e)
                        raise
                    except BackendRejectedError as e:
                        self._record(attempts, action, "rejected", str(e))
                        log.error("%s: %s rejected for good: %s", self.name, key, e)  # noqa: TRY400 - the refusal is the message
                        return attempts, "", None
                    self._record(attempts, action, "delivered", ref)
        except BackendUnavailableError as e:
            reason = (
                f"{Reason.GAVE_UP.value}: {self._backend.name} unavailable for "
                f"{self._give_up_after_s:g}s ({len(attempts)} tries); last: {e}"
            )
            self._record(attempts, action, "gave_up", reason)
            log.error("%s: %s set aside: %s", self.name, key, reason)  # noqa: TRY400 - the reason is the message
            return attempts, "", reason
        return attempts, ref, None

    def _record(self, attempts: list[BackendCall], action: str, outcome: str, detail: str) -> None:
        attempts.append(
            BackendCall(at=self._clock.now(), action=action, outcome=outcome, detail=detail)
        )
        self._metrics.deliveries.labels(self._backend.name, outcome).inc()

    async def _copy(
        self, event: TicketEvent, read: Ticket | None, attempts: list[BackendCall], ref: str
    ) -> Ticket:
        """The backend's copy of the ticket, as Sereno last sent it, with every attempt."""
        ticket_id = read.id if read is not None else await self._store.next_id("TKT")
        earlier = read.attempts if read is not None else ()
        return event.ticket.model_copy(
            update={
                "id": ticket_id,
                "backend": self._backend.name,
                "external_ref": ref or (read.external_ref if read is not None else ""),
                "attempts": (*earlier, *attempts)[-KEEP_ATTEMPTS:],
                # Timers belong to the builtin ticket; the copy only records what was sent.
                "due_at": None,
                "update_held": False,
            }
        )
