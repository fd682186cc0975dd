"""GLPI both ways, through the whole app over loopback against the local GLPI: an alert
becomes a GLPI ticket; an agent takes it, adds a followup and solves it, and GLPI's signed
webhooks bring each change to the incident. GLPI down during a burst still makes each
ticket once; changes made while Sereno is down arrive by polling."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.config import Secret, Settings, TicketBackends
from core.rules import Rules
from sereno.app import create_app
from sereno.keys import PIPELINE
from tests.ticketer.glpi_fake import AGENT, FakeGlpi
from tests.ticketer.mapping import ticket_rules
from tests.ticketer.rt_server import until
from tests.ticketer.test_glpi import glpi_settings

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
SECRET = "glpi-webhook-secret"  # noqa: S105 - a test's shared secret
BURST = 12


@pytest.fixture
async def fake() -> AsyncIterator[FakeGlpi]:
    glpi = FakeGlpi(webhook_secret=SECRET)
    await glpi.start()
    yield glpi
    await glpi.close()


async def start(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, fake: FakeGlpi,
    poll_s: float,
) -> Client:  # fmt: skip
    glpi = glpi_settings(fake, webhook_secret=Secret(value=SecretStr(SECRET)), poll_s=poll_s)
    settings = storage_settings.model_copy(update={"ticket_backends": TicketBackends(glpi=glpi)})
    app = create_app(settings, rules=ticket_rules(rules))
    client = await aiohttp_client(app)
    fake.webhook_url = str(client.make_url("/api/v1/callbacks/glpi"))
    return client


async def open_ticket(client: Client, n: int = 0) -> tuple[str, int]:
    alert = {"name": f"Down{n}", "resource": f"db-{n}", "severity": "critical", "id": f"db-{n}"}
    assert (await client.post("/api/v1/alerts/generic", json=alert)).status == 202
    body = await until(client, "/api/v1/tickets?backend=glpi&limit=100",
                       lambda b: any(t["external_ref"] for t in b["tickets"]))  # fmt: skip
    made = body["tickets"][0]
    return str(made["incident_id"]), int(made["external_ref"])


def kinds(incident: dict[str, Any], kind: str) -> list[str]:
    return [e["text"] for e in incident["timeline"] if e["kind"] == kind]


async def test_taken_followed_up_and_solved_in_glpi_reach_the_incident_by_webhook(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, fake: FakeGlpi
) -> None:
    client = await start(aiohttp_client, storage_settings, rules, fake, poll_s=3600.0)
    incident_id, number = await open_ticket(client)
    path = f"/api/v1/incidents/{incident_id}"
    ticket = fake.tickets[number]
    fake.take(ticket, AGENT)
    assert await fake.send_webhook(ticket) == 202
    taken = await until(client, path, lambda b: b["acknowledged_by"] == "agent1")
    assert taken["status"] == "acknowledged"
    fake.followup(ticket, AGENT, "<p>Restarting the database</p>")
    assert await fake.send_webhook(ticket, "new", ticket.followups[-1]) == 202
    await until(client, path, lambda b: "agent1 via glpi: replied: Restarting the database"
                in kinds(b, "comment"))  # fmt: skip
    fake.solve(ticket, AGENT, "Disk replaced")
    body, headers = fake.webhook_body(ticket)
    assert (await client.post("/api/v1/callbacks/glpi", data=body, headers=headers)).status == 202
    resolved = await until(client, path, lambda b: b["status"] == "resolved")
    # The very same webhook again is refused; a forged one too.
    again = await client.post("/api/v1/callbacks/glpi", data=body, headers=headers)
    assert again.status == 409
    changed = body.replace(b'"status": 5', b'"status": 6')
    forged = await client.post("/api/v1/callbacks/glpi", data=changed, headers=headers)
    assert forged.status == 401
    held, notes = kinds(resolved, "assigned"), kinds(resolved, "comment")
    print(  # noqa: T201 - the figures this test exists to show
        f"glpi back by webhook: changes expected 3 (take, followup, solve), arrived "
        f"{len(held) + len(notes) + len(kinds(resolved, 'resolved'))}, duplicates "
        f"{max(0, len(held) - 1) + max(0, len(notes) - 1)}"
    )
    assert held == ["held by agent1 (group service-desk): agent1 via glpi"]
    assert len(notes) == 1
    assert kinds(resolved, "resolved") == ["resolved: by agent1 via glpi: status 5 in GLPI"]
    # Who held it when, in the ticket API: nobody, then agent1 (taken in GLPI) until solved.
    builtin = await until(client, "/api/v1/tickets?backend=builtin",
                          lambda b: b["tickets"][0]["status"] == "resolved")  # fmt: skip
    ticket_id = builtin["tickets"][0]["id"]
    held = (await (await client.get(f"/api/v1/tickets/{ticket_id}")).json())["holders"]
    assert [h["holder"] for h in held] == ["nobody", "agent1"]
    assert held[-1]["by"] == "held by agent1 (group service-desk): agent1 via glpi"
    assert held[-1]["until"] is not None


async def test_changes_made_in_glpi_while_sereno_is_down_arrive_by_polling(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, fake: FakeGlpi
) -> None:
    first = await start(aiohttp_client, storage_settings, rules, fake, poll_s=0.2)
    incident_id, number = await open_ticket(first)
    # Sereno has read the ticket once (what it saw is what later reads compare with).
    assert first.app is not None
    store = first.app[PIPELINE].storage.store
    deadline = time.monotonic() + 30
    while await store.marker(f"glpi-ticket:{number}") is None:
        assert time.monotonic() < deadline, "the ticket was never read back"
        await asyncio.sleep(0.05)
    await first.close()
    ticket = fake.tickets[number]
    fake.take(ticket, AGENT)
    fake.change(ticket, AGENT, {"priority": 6})
    fake.followup(ticket, AGENT, "on it")
    fake.solve(ticket, AGENT, "done")
    second = await start(aiohttp_client, storage_settings, rules, fake, poll_s=0.2)
    incident = await until(second, f"/api/v1/incidents/{incident_id}",
                           lambda b: b["status"] == "resolved")  # fmt: skip
    held, notes = kinds(incident, "assigned"), kinds(incident, "comment")
    print(  # noqa: T201 - the figures this test exists to show
        f"glpi back under fault (Sereno down, by polling): changes expected 4 (take, priority, "
        f"followup, solve), arrived {len(held) + len(notes) + len(kinds(incident, 'resolved'))}"
        f", duplicates {max(0, len(held) - 1) + max(0, len(notes) - 2)}"
    )
    assert incident["acknowledged_by"] == "agent1"
    assert len(held) == 1
    assert sorted(notes) == ["agent1 via glpi: GLPI priority 3 -> 6",
                             "agent1 via glpi: replied: on it"]  # fmt: skip
    assert second.app is not None
    watcher = second.app[PIPELINE].watchers["glpi"]
    assert await watcher.poll() == 0
    assert await watcher.read(str(number)) == 0


async def test_glpi_down_during_a_burst_makes_each_ticket_once(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, fake: FakeGlpi
) -> None:
    client = await start(aiohttp_client, storage_settings, rules, fake, poll_s=3600.0)
    for n in range(BURST):
        if n == BURST // 3:
            fake.down = True
        alert = {"name": f"Down{n}", "resource": f"srv-{n}", "severity": "critical",
                 "id": f"srv-{n}"}  # fmt: skip
        assert (await client.post("/api/v1/alerts/generic", json=alert)).status == 202
    await until(client, "/api/v1/tickets?backend=builtin", lambda b: b["count"] == BURST)
    fake.down = False
    body = await until(client, "/api/v1/tickets?backend=glpi&limit=100",
                       lambda b: b["count"] == BURST and all(t["external_ref"]
                                                             for t in b["tickets"]))  # fmt: skip
    names = [t.fields["name"] for t in fake.tickets.values()]
    duplicates = len(names) - len(set(names))
    print(  # noqa: T201 - the figures this test exists to show
        f"glpi out under fault: tickets expected {BURST}, created {len(set(names))}, "
        f"duplicates {duplicates}, missed {BURST - len(set(names))}; 503 answers "
        f"{fake.refused[503]}"
    )
    assert len(names) == BURST
    assert duplicates == 0
    assert fake.refused[503] > 0
    assert sorted(int(t["external_ref"]) for t in body["tickets"]) == sorted(fake.tickets)


async def test_glpi_webhooks_without_a_ticket_or_late_are_refused(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, fake: FakeGlpi
) -> None:
    client = await start(aiohttp_client, storage_settings, rules, fake, poll_s=3600.0)
    fake.webhook_secret = SECRET
    body = json.dumps({"event": "update", "item": {"name": "x"}}).encode()
    stamp = str(int(time.time()))
    sig = hmac.new(SECRET.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    headers = {"X-GLPI-signature": sig, "X-GLPI-timestamp": stamp}
    missing = await client.post("/api/v1/callbacks/glpi", data=body, headers=headers)
    assert missing.status == 400
    assert (await missing.json())["detail"][0]["field"] == "item.id"
    old = str(int(time.time()) - 3600)
    late_body = json.dumps({"event": "update", "item": {"id": 1}}).encode()
    late = hmac.new(SECRET.encode(), late_body + old.encode(), hashlib.sha256).hexdigest()
    headers = {"X-GLPI-signature": late, "X-GLPI-timestamp": old}
    stale = await client.post("/api/v1/callbacks/glpi", data=late_body, headers=headers)
    assert stale.status == 401
    assert (await stale.json())["detail"][0]["field"] == "X-GLPI-timestamp"
