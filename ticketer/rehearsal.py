"""A replay's stand-in for delivery: the calls each external backend would have made,
listed so an operator sees what a rule change would do to the service desk, none made."""

from __future__ import annotations

from collections.abc import Sequence

from core.bus import Entry, Stream
from core.metrics import RuntimeMetrics
from core.models import TicketEvent, TicketsEntry, WouldBeCall
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from ticketer.backends.base import TicketBackend
from ticketer.worker import BUILTIN


class RehearsalStage:
    """Consumes `tickets` as group `deliver-<backend>`, as delivery would, and lists in
    `calls` what the backend would be asked, in stream order."""

    stream = Stream.TICKETS

    def __init__(
        self, store: Store, backend: TicketBackend, runtime_metrics: RuntimeMetrics
    ) -> None:
        self._store = store
        self._backend = backend
        self._runtime_metrics = runtime_metrics
        self.name = f"deliver-{backend.name}"
        self.calls: list[WouldBeCall] = []

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, TicketsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        planned = [
            WouldBeCall(
                backend=self._backend.name, action=action, ticket=event.ticket.id,
                incident=event.ticket.incident_id, at=event.at, event=event.kind.value,
            )
            for _, value in decoded
            if isinstance(event := value.root, TicketEvent) and event.ticket.backend == BUILTIN
            for action in self._backend.actions(event)
        ]  # fmt: skip
        await self._store.commit(
            Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        )
        # Listed once committed: a batch handed out again after a failed commit is not
        # listed twice.
        self.calls += planned
