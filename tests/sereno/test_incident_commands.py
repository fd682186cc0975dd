"""Acknowledging and resolving by hand, through the whole app: the command goes through
correlate, the incident records who did it (whoever holds the API token, never a field of
the body), and its ticket follows (responded_at, assignee, resolution)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.bus import Stream
from core.clock import WallClock
from core.config import Settings
from core.models import IncidentEvent, IncidentsEntry, Priority
from core.rules import Rules, RulesRef, TicketRules
from sereno.app import create_app
from sereno.auth.principal import Role
from sereno.keys import PIPELINE
from tests.sereno.auth_kit import token_for
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

DOWN = {"name": "HTTPDown", "resource": "web-3", "severity": "critical", "id": "web-3"}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules) -> Client:
    # Every priority opens its ticket at once, so the ticket is there to follow.
    at_once = TicketRules(open=dict.fromkeys(Priority, timedelta(0)))
    ref = RulesRef(rules.model_copy(update={"tickets": at_once}))
    return await aiohttp_client(create_app(storage_settings, rules=ref))


async def _incident_with_ticket(client: Client) -> str:
    assert (await client.post("/api/v1/alerts/generic", json=DOWN)).status == 202
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    return str(body["tickets"][0]["incident_id"])


async def test_an_acknowledgement_on_the_wall_clock_is_announced_as_one(client: Client) -> None:
    # Live, every reading of the clock differs: the acknowledgement must still go out as
    # `acknowledged` (not `updated`), and on-call staff get its message.
    incident_id = await _incident_with_ticket(client)
    ana = await token_for(client, "ana", Role.OPERATOR)
    acked = await client.post(f"/api/v1/incidents/{incident_id}/ack", json={}, headers=ana)
    assert acked.status == 202
    await wait_for(
        client, f"/api/v1/incidents/{incident_id}", lambda b: b["status"] == "acknowledged", ana
    )
    pipeline = client.app[PIPELINE]
    assert isinstance(pipeline.clock, WallClock)
    kinds: list[str] = []
    deadline = asyncio.get_running_loop().time() + 5
    while "acknowledged" not in kinds and asyncio.get_running_loop().time() < deadline:
        kinds = [
            n.kind for n in await pipeline.storage.store.list_notifications()
            if n.incident_id == incident_id
        ]  # fmt: skip
        await asyncio.sleep(0.02)
    assert "acknowledged" in kinds
    entries = await pipeline.storage.bus.read(Stream.INCIDENTS, "probe", "p", 100)
    events = [IncidentsEntry.model_validate_json(e.body).root for e in entries]
    assert [e.kind.value for e in events if isinstance(e, IncidentEvent)] == [
        "opened", "acknowledged",
    ]  # fmt: skip


async def test_acknowledge_then_resolve_by_hand(client: Client) -> None:
    incident_id = await _incident_with_ticket(client)
    ana = await token_for(client, "ana.garcia", Role.OPERATOR)
    acked = await client.post(
        f"/api/v1/incidents/{incident_id}/ack", json={"note": "on it"}, headers=ana
    )
    assert acked.status == 202
    assert (await acked.json())["by"] == "ana.garcia"
    incident = await wait_for(
        client, f"/api/v1/incidents/{incident_id}", lambda b: b["status"] == "acknowledged", ana
    )
    assert incident["acknowledged_by"] == "ana.garcia"
    assert "acknowledged by ana.garcia via api: on it" in incident["timeline"][-1]["text"]
    tickets = await wait_for(
        client, "/api/v1/tickets", lambda b: b["tickets"][0]["responded_at"] is not None, ana
    )
    ticket = tickets["tickets"][0]
    assert ticket["assignee"] == "ana.garcia"
    assert ("assignee", "ana.garcia") in [(c["field"], c["new"]) for c in ticket["history"]]

    resolved = await client.post(f"/api/v1/incidents/{incident_id}/resolve", headers=ana)
    assert resolved.status == 202
    await wait_for(client, "/api/v1/tickets", lambda b: b["tickets"][0]["status"] == "resolved",
                   headers=ana)  # fmt: skip
    again = await client.post(f"/api/v1/incidents/{incident_id}/ack", headers=ana)
    assert again.status == 409
    assert (await again.json())["detail"][0]["field"] == "id"


async def test_unknown_incident_and_bad_body_are_named(client: Client) -> None:
    missing = await client.post("/api/v1/incidents/INC-999/resolve")
    assert missing.status == 404
    assert "INC-999" in (await missing.json())["error"]
    incident_id = await _incident_with_ticket(client)
    bad = await client.post(f"/api/v1/incidents/{incident_id}/ack", json={"who": "ana"})
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "who"
    long = await client.post(f"/api/v1/incidents/{incident_id}/ack", json={"note": "x" * 5000})
    assert long.status == 400
    assert (await long.json())["detail"][0]["field"] == "note"
    # Who acts is the credential's holder; a body cannot say otherwise.
    forged = await client.post(f"/api/v1/incidents/{incident_id}/ack", json={"by": "boss"})
    assert forged.status == 400
    assert (await forged.json())["detail"][0]["field"] == "by"


async def test_breached_filter_is_checked(client: Client) -> None:
    bad = await client.get("/api/v1/tickets?breached=maybe")
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "breached"
    assert (await (await client.get("/api/v1/tickets?breached=true")).json())["count"] == 0
