"""Retries toward an external ticket backend are bounded: a change the backend never takes
within `give_up_after_s` is set aside in the dead letters with the reason, counted, and its
attempts kept on the backend's copy; the stream goes on. Real loopback HTTP, real storage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from core.bus import Stream
from core.clock import VirtualClock
from core.config import Secret, WebhookBackend
from core.metrics import make_runtime_metrics, make_ticketer_metrics
from core.models import Priority, Ticket, TicketEvent, TicketEventKind
from core.runtime import step
from core.storage import Storage
from tests.conftest import T0
from ticketer.backends.webhook import WebhookTicketBackend
from ticketer.delivery import DeliveryStage


@pytest.fixture
async def down() -> AsyncIterator[tuple[str, list[int]]]:
    """A backend that answers 503 to everything; the list counts its calls."""
    calls: list[int] = []

    async def handle(_: web.Request) -> web.Response:
        calls.append(1)
        return web.json_response({"error": "maintenance"}, status=503)

    app = web.Application()
    app.router.add_post("/hook", handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("/hook")), calls
    finally:
        await server.close()


def _event() -> str:
    ticket = Ticket(
        id="TKT-1", incident_id="INC-1", backend="builtin", title="Disk full", priority=Priority.P2,
        created_at=T0, updated_at=T0,
    )  # fmt: skip
    return TicketEvent(kind=TicketEventKind.CREATED, at=T0, ticket=ticket).model_dump_json()


async def test_a_change_never_taken_is_set_aside_with_its_reason(
    storage: Storage, down: tuple[str, list[int]]
) -> None:
    url, calls = down
    settings = WebhookBackend(url=url, secret=Secret(value=SecretStr("s")), backoff_max_s=0.02)
    backend = WebhookTicketBackend(settings)
    registry = CollectorRegistry()
    runtime = make_runtime_metrics(registry)
    stage = DeliveryStage(storage.store, backend, VirtualClock(T0), make_ticketer_metrics(registry),
                          runtime, backoff_max_s=0.02, give_up_after_s=0.3)  # fmt: skip
    await storage.bus.publish(Stream.TICKETS, [_event()])
    try:
        assert await step(stage, storage.bus, "w", runtime) == 1
    finally:
        await backend.close()
    assert len(calls) >= 2
    [letter] = await storage.bus.dead_letters(Stream.TICKETS)
    assert letter.group == "deliver-webhook"
    assert letter.reason.startswith("gave_up: webhook unavailable for 0.3s (")
    assert "HTTP 503" in letter.reason
    labels = {"stage": "deliver-webhook", "reason": "gave_up"}
    assert registry.get_sample_value("sereno_bus_dead_letters_total", labels) == 1
    copy = await storage.store.ticket_for_incident("INC-1", "webhook")
    assert copy is not None
    outcomes = [a.outcome for a in copy.attempts]
    assert outcomes[-1] == "gave_up"
    assert set(outcomes[:-1]) == {"unavailable"}
    # Nothing is left pending: the stream goes on.
    assert await storage.bus.read(Stream.TICKETS, "deliver-webhook", "w", 10) == []
