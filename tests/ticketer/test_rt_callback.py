"""RT's scrip calling back: POST /api/v1/callbacks/rt takes a signed nudge once, within
the window, and refuses forgeries and replays with the 4xx that names the field."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

from aiohttp.test_utils import TestClient

from core.config import Settings, TicketBackends
from core.rules import Rules, RulesRef
from sereno.app import create_app
from tests.ticketer.rt_server import CALLBACK_SECRET, RtServer
from ticketer.backends.webhook import sign

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
PATH = "/api/v1/callbacks/rt"


def nudge(ticket: str = "1", **over: Any) -> bytes:
    body = {"system": "rt", "ticket": ticket, "transaction": "7",
            "timestamp": int(time.time()), "nonce": uuid4().hex} | over  # fmt: skip
    return json.dumps(body).encode()


async def post(client: Client, raw: bytes, secret: str = CALLBACK_SECRET) -> Any:
    headers = {"Content-Type": "application/json",
               "X-Sereno-Signature": sign(secret.encode(), raw)}  # fmt: skip
    return await client.post(PATH, data=raw, headers=headers)


async def test_signed_nudges_are_taken_once_and_forgeries_refused(
    aiohttp_client: ClientFactory, settings: Settings, rules: Rules, rt_server: RtServer
) -> None:
    rt = rt_server.settings(poll_s=3600.0)
    configured = settings.model_copy(update={"ticket_backends": TicketBackends(rt=rt)})
    client = await aiohttp_client(create_app(configured, rules=RulesRef(rules)))
    raw = nudge()
    assert (await post(client, raw)).status == 202
    replayed = await post(client, raw)
    assert replayed.status == 409
    assert (await replayed.json())["detail"][0]["field"] == "nonce"
    forged = await post(client, nudge(), secret="guess")  # noqa: S106 - a wrong secret
    assert forged.status == 401
    assert (await forged.json())["detail"][0]["field"] == "X-Sereno-Signature"
    stale = await post(client, nudge(timestamp=int(time.time()) - 3600))
    assert stale.status == 401
    assert (await stale.json())["detail"][0]["field"] == "timestamp"
    bad = await post(client, nudge(transaction="7; DROP"))
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "transaction"


async def test_without_rt_the_callback_is_404(
    aiohttp_client: ClientFactory, settings: Settings, rules: Rules
) -> None:
    client = await aiohttp_client(create_app(settings, rules=RulesRef(rules)))
    response = await post(client, nudge())
    assert response.status == 404
    assert (await response.json())["detail"][0]["field"] == "ticket_backends.rt.callback_secret"
