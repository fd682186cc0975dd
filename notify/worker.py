"""The notify stage: ticket events in, messages to people out, each attempt recorded."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from core.bus import Entry, Stream
from core.metrics import RuntimeMetrics
from core.models import Notification, TicketEvent, TicketsEntry
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from notify.messages import on_call_line

log = logging.getLogger("sereno.notifications")

LOG_CHANNEL = "log"


class NotifyStage:
    """Consumes `tickets` as group `notify`."""

    name = "notify"
    stream = Stream.TICKETS

    def __init__(self, store: Store, runtime_metrics: RuntimeMetrics) -> None:
        self._store = store
        self._runtime_metrics = runtime_metrics

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, TicketsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        if not decoded:
            return
        good = [(e, x.root) for e, x in decoded if isinstance(x.root, TicketEvent)]
        changes = Changes(acks=[Ack(self.stream, self.name, tuple(e.id for e, _ in decoded))])
        for _, event in good:
            text = on_call_line(event)
            if text is None:
                continue
            log.info("%s", text)
            changes.notifications.append(
                Notification(
                    # Deterministic id: a redelivered event records the same notification.
                    id=f"{event.ticket.id}:{event.kind.value}:{event.ticket.incident_version}",
                    at=event.at,
                    channel=LOG_CHANNEL,
                    kind=f"ticket_{event.kind.value}",
                    incident_id=event.ticket.incident_id,
                    text=text,
                )
            )
        await self._store.commit(changes)
