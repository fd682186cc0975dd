"""The webhook backend is down (503) for a while, then recovers, and Sereno is restarted in
the middle of the outage: every ticket reaches it exactly once. Real loopback HTTP, real
storage (SQLite file and Redis), the whole app twice on the same data."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from core.config import Secret, Settings, TicketBackends, WebhookBackend
from core.models import Priority
from core.rules import Rules, RulesRef, TicketRules
from sereno.app import create_app
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
SECRET = b"s3cret"
INCIDENTS = 5
FAILURES = 12


class FakeBackend:
    """An ITSM receiver: 503 for the first FAILURES calls, then takes each signed change,
    remembering delivery keys so a repeat would show as a duplicate."""

    def __init__(self) -> None:
        self.calls = 0
        self.bad_signatures = 0
        self.accepted: list[dict[str, Any]] = []
        self.keys: list[str] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(request.headers.get("X-Sereno-Signature", ""), expected):
            self.bad_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if self.calls <= FAILURES:
            return web.json_response({"error": "maintenance"}, status=503)
        self.keys.append(request.headers["X-Sereno-Delivery"])
        self.accepted.append(await request.json())
        return web.json_response({"ok": True}, status=201)

    def created(self) -> list[str]:
        return [a["ticket"]["incident_id"] for a in self.accepted if a["event"] == "created"]


async def test_backend_outage_then_recovery_creates_each_ticket_once(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules
) -> None:
    fake = FakeBackend()
    app = web.Application()
    app.router.add_post("/hook", fake.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    webhook = WebhookBackend(
        url=str(server.make_url("/hook")), secret=Secret(value=SecretStr(SECRET.decode())),
        backoff_max_s=0.05,
    )  # fmt: skip
    settings = storage_settings.model_copy(
        update={"ticket_backends": TicketBackends(webhook=webhook)}
    )
    at_once = TicketRules(open=dict.fromkeys(Priority, timedelta(0)))
    ref = RulesRef(rules.model_copy(update={"tickets": at_once}))
    try:
        first = await aiohttp_client(create_app(settings, rules=ref))
        for n in range(INCIDENTS):
            alert = {"name": f"Down{n}", "resource": f"srv-{n}", "severity": "critical",
                     "id": f"srv-{n}"}  # fmt: skip
            assert (await first.post("/api/v1/alerts/generic", json=alert)).status == 202
        await wait_for(first, "/api/v1/tickets?backend=builtin", lambda b: b["count"] == INCIDENTS)
        # Mid-outage: the process stops while the backend still answers 503.
        await wait_for(first, "/healthz", lambda _: fake.calls >= FAILURES // 2)
        assert fake.accepted == []
        await first.close()
        second = await aiohttp_client(create_app(settings, rules=ref))
        body = await wait_for(
            second, "/api/v1/tickets?backend=webhook", lambda b: b["count"] == INCIDENTS
        )
        created = fake.created()
        duplicates = len(fake.keys) - len(set(fake.keys))
        print(  # noqa: T201 - the figures the outage test exists to show
            f"outage figures: tickets expected {INCIDENTS}, created {len(set(created))}, "
            f"duplicates {duplicates}, calls {fake.calls} ({FAILURES} answered 503)"
        )
        assert len(created) == len(set(created)) == INCIDENTS
        assert duplicates == 0
        assert fake.bad_signatures == 0
        outcomes = [a["outcome"] for t in body["tickets"] for a in t["attempts"]]
        assert outcomes.count("delivered") == INCIDENTS
        assert "unavailable" in outcomes  # the failed tries are on record
        metrics = await (await second.get("/metrics")).text()
        assert (
            'sereno_ticketer_delivery_attempts_total{backend="webhook",outcome="delivered"}'
            in metrics
        )
    finally:
        await server.close()
