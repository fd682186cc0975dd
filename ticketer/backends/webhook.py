"""The generic webhook backend: each ticket change as signed JSON.

The body is `{"event", "at", "delivery", "ticket"}`; the header (X-Sereno-Signature by
default) carries `sha256=` and the hex HMAC-SHA256 of the exact body bytes under the shared
secret, and X-Sereno-Delivery the delivery key, the same on every retry of one change, so
the receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import aiohttp

from core.config import WebhookBackend
from core.models import Ticket, TicketEvent, TicketEventKind
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after

NAME = "webhook"
DELIVERY_HEADER = "X-Sereno-Delivery"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for `body`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookTicketBackend:
    name = NAME

    def __init__(self, settings: WebhookBackend) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session, if one was opened; the owner calls this once, at the end."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def actions(self, event: TicketEvent) -> tuple[str, ...]:
        # One POST per change; named by what it asks of the ticket system.
        if event.kind is TicketEventKind.CREATED:
            return ("create",)
        if event.kind in {TicketEventKind.RESOLVED, TicketEventKind.REOPENED}:
            return ("transition",)
        return ("comment",)

    async def deliver(self, event: TicketEvent, key: str, sent: Ticket | None) -> str:  # noqa: ARG002 - each change carries the whole ticket
        body = json.dumps(
            {
                "event": event.kind.value,
                "at": event.at.isoformat(),
                "delivery": key,
                "ticket": event.ticket.model_dump(mode="json"),
            },
            ensure_ascii=False,
        ).encode()
        headers = {
            "Content-Type": "application/json",
            self._settings.header: sign(self._settings.secret.reveal(), body),
            DELIVERY_HEADER: key,
        }
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        if self._session is None:
            # Opened on first use, inside the running loop, by the stage that uses it.
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                self._settings.url, data=body, headers=headers, timeout=timeout
            ) as response:
                text = (await response.text())[:500]
                if response.status == 429 or response.status >= 500:
                    raise BackendUnavailableError(
                        f"HTTP {response.status}: {text}",
                        retry_after(response.headers.get("Retry-After")),
                    )
                if response.status >= 400:
                    raise BackendRejectedError(f"HTTP {response.status}: {text}")
        except (aiohttp.ClientError, TimeoutError) as e:
            raise BackendUnavailableError(f"{type(e).__name__}: {e}") from e
        return event.ticket.id
