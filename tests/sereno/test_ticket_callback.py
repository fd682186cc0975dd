"""The webhook backend's callback, through the running app over loopback: a signed
acknowledge, assign, comment, resolve or reopen reaches the ticket's incident; bad
signatures, replays (to another ticket, later, twice), unknown tickets, bad fields and
resolved incidents are answered with the 4xx that names them."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from core.config import Secret, Settings, TicketBackends, WebhookBackend
from core.models import Priority
from core.rules import Rules, RulesRef, TicketRules
from sereno.app import create_app
from tests.sereno.test_app import wait_for
from ticketer.backends.webhook import sign

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
SECRET = b"s3cret"
DOWN = {"name": "HTTPDown", "resource": "web-3", "severity": "critical", "id": "web-3"}


async def _took(_: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@pytest.fixture
async def client(
    aiohttp_client: ClientFactory,
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    storage_settings: Settings,
    rules: Rules,
) -> Client:
    receiver = web.Application()
    receiver.router.add_post("/hook", _took)  # the ticket system, taking each change
    server = await aiohttp_server(receiver, host="127.0.0.1")
    webhook = WebhookBackend(
        url=str(server.make_url("/hook")), secret=Secret(value=SecretStr(SECRET.decode())),
        backoff_max_s=0.05,
    )  # fmt: skip
    settings = storage_settings.model_copy(
        update={"ticket_backends": TicketBackends(webhook=webhook)}
    )
    at_once = TicketRules(open=dict.fromkeys(Priority, timedelta(0)))
    ref = RulesRef(rules.model_copy(update={"tickets": at_once}))
    return await aiohttp_client(create_app(settings, rules=ref))


def signed(ticket_id: str, body: dict[str, Any], **over: Any) -> dict[str, Any]:
    """`body` as a ticket system sends it: naming the ticket, signed now, a new nonce."""
    stamp = {"ticket": ticket_id, "timestamp": int(time.time()), "nonce": uuid4().hex}
    return stamp | body | over


async def _post(
    client: Client, ticket_id: str, body: dict[str, Any], secret: bytes = SECRET, **over: Any
) -> Any:
    raw = json.dumps(signed(ticket_id, body, **over)).encode()
    headers = {"Content-Type": "application/json", "X-Sereno-Signature": sign(secret, raw)}
    return await client.post(f"/api/v1/tickets/{ticket_id}/callback", data=raw, headers=headers)


async def _ticket(client: Client) -> dict[str, Any]:
    assert (await client.post("/api/v1/alerts/generic", json=DOWN)).status == 202
    body = await wait_for(client, "/api/v1/tickets?backend=builtin", lambda b: b["count"] == 1)
    return dict(body["tickets"][0])


async def test_signed_acknowledge_then_resolve_follow_the_incident(client: Client) -> None:
    ticket = await _ticket(client)
    acked = await _post(client, ticket["id"], {"action": "acknowledge", "by": "rt:luis"})
    assert acked.status == 202
    incident = await wait_for(
        client, f"/api/v1/incidents/{ticket['incident_id']}",
        lambda b: b["status"] == "acknowledged",
    )  # fmt: skip
    assert incident["acknowledged_by"] == "rt:luis"
    assert "via webhook" in incident["timeline"][-1]["text"]
    resolved = await _post(client, ticket["id"], {"action": "resolve", "note": "fixed"})
    assert resolved.status == 202
    await wait_for(client, f"/api/v1/tickets/{ticket['id']}", lambda b: b["status"] == "resolved")
    again = await _post(client, ticket["id"], {"action": "resolve"})
    assert again.status == 409
    assert (await again.json())["detail"][0]["field"] == "id"


async def test_bad_or_missing_signature_is_401(client: Client) -> None:
    ticket = await _ticket(client)
    forged = await _post(client, ticket["id"], {"action": "resolve"}, secret=b"guess")
    assert forged.status == 401
    assert (await forged.json())["detail"][0]["field"] == "X-Sereno-Signature"
    unsigned = await client.post(
        f"/api/v1/tickets/{ticket['id']}/callback", json=signed(ticket["id"], {"action": "resolve"})
    )
    assert unsigned.status == 401
    assert "missing" in (await unsigned.json())["error"]
    incident = await (await client.get(f"/api/v1/incidents/{ticket['incident_id']}")).json()
    assert incident["status"] == "open"


async def test_unknown_ticket_is_404_and_bad_field_is_400(client: Client) -> None:
    missing = await _post(client, "TKT-999", {"action": "resolve"})
    assert missing.status == 404
    assert (await missing.json())["error"] == "no ticket TKT-999"
    ticket = await _ticket(client)
    bad = await _post(client, ticket["id"], {"action": "close", "by": "x"})
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "action"
    extra = await _post(client, ticket["id"], {"action": "resolve", "colour": "red"})
    assert extra.status == 400
    assert "colour" in (await extra.json())["error"]
    not_json = await client.post(
        f"/api/v1/tickets/{ticket['id']}/callback", data=b"{",
        headers={"X-Sereno-Signature": sign(SECRET, b"{")},
    )  # fmt: skip
    assert not_json.status == 400


async def test_without_a_webhook_backend_the_callback_is_404(
    aiohttp_client: ClientFactory, settings: Settings, rules: Rules
) -> None:
    client = await aiohttp_client(create_app(settings, rules=RulesRef(rules)))
    response = await _post(client, "TKT-1", {"action": "resolve"})
    assert response.status == 404
    assert (await response.json())["detail"][0]["field"] == "ticket_backends.webhook"


async def test_a_callback_cannot_be_replayed(client: Client) -> None:
    """A signed resolve for one ticket, sent to another, sent late, or sent again after a
    reopen, is refused: the ticket, time and nonce are inside the signature."""
    first = await _ticket(client)
    other_alert = {**DOWN, "resource": "web-4", "id": "web-4", "name": "DiskFull"}
    assert (await client.post("/api/v1/alerts/generic", json=other_alert)).status == 202
    tickets = await wait_for(client, "/api/v1/tickets?backend=builtin", lambda b: b["count"] == 2)
    second = next(t for t in tickets["tickets"] if t["id"] != first["id"])
    raw = json.dumps(signed(first["id"], {"action": "resolve", "by": "rt:luis"})).encode()
    headers = {"Content-Type": "application/json", "X-Sereno-Signature": sign(SECRET, raw)}
    # The same signed body, sent to another ticket.
    elsewhere = await client.post(
        f"/api/v1/tickets/{second['id']}/callback", data=raw, headers=headers
    )
    assert elsewhere.status == 400
    assert (await elsewhere.json())["detail"][0]["field"] == "ticket"
    taken = await client.post(f"/api/v1/tickets/{first['id']}/callback", data=raw, headers=headers)
    assert taken.status == 202
    path = f"/api/v1/incidents/{first['incident_id']}"
    await wait_for(client, path, lambda b: b["status"] == "resolved")
    reopened = await _post(client, first["id"], {"action": "reopen", "by": "rt:luis"})
    assert reopened.status == 202
    await wait_for(client, path, lambda b: b["status"] == "open")
    # The first resolve again, after the reopen.
    again = await client.post(f"/api/v1/tickets/{first['id']}/callback", data=raw, headers=headers)
    assert again.status == 409
    assert (await again.json())["detail"][0]["field"] == "nonce"
    stale = await _post(client, first["id"], {"action": "resolve"},
                        timestamp=int(time.time()) - 3600)  # fmt: skip
    assert stale.status == 401
    assert (await stale.json())["detail"][0]["field"] == "timestamp"
    incidents = [await (await client.get(f"/api/v1/incidents/{t['incident_id']}")).json()
                 for t in (first, second)]  # fmt: skip
    assert [i["status"] for i in incidents] == ["open", "open"]


async def test_assign_and_comment_reach_the_timeline(client: Client) -> None:
    ticket = await _ticket(client)
    path = f"/api/v1/incidents/{ticket['incident_id']}"
    assigned = await _post(client, ticket["id"], {"action": "assign", "by": "desk",
                                                  "assignee": "ana"})  # fmt: skip
    assert assigned.status == 202
    incident = await wait_for(client, path, lambda b: b["assignee"] == "ana")
    assert incident["timeline"][-1]["kind"] == "assigned"
    said = await _post(client, ticket["id"], {"action": "comment", "by": "ana", "note": "on it"})
    assert said.status == 202
    incident = await wait_for(client, path, lambda b: b["timeline"][-1]["kind"] == "comment")
    assert incident["timeline"][-1]["text"] == "ana via webhook: on it"
