"""Request Tracker both ways, against a real RT 5 and the whole app over loopback: an alert
becomes an RT ticket; an agent takes it, replies and resolves it in RT; Sereno's incident
follows (assignee, timeline, resolved). First through the scrip's signed callback alone,
then with Sereno down while the agent works, by polling once it is back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

from aiohttp.test_utils import TestClient, TestServer

from core.config import RtBackend, Settings, TicketBackends
from core.rules import Rules
from sereno.app import create_app
from sereno.keys import PIPELINE
from tests.ticketer.mapping import ticket_rules
from tests.ticketer.rt_server import RtServer, until

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def app_settings(storage_settings: Settings, rt: RtBackend) -> Settings:
    return storage_settings.model_copy(update={"ticket_backends": TicketBackends(rt=rt)})


async def start(
    aiohttp_client: ClientFactory, settings: Settings, rules: Rules, rt_server: RtServer
) -> Client:
    """Sereno on the port RT's scrip calls back."""
    app = create_app(settings, rules=ticket_rules(rules))
    return await aiohttp_client(TestServer(app, host="127.0.0.1", port=rt_server.callback_port))


async def open_ticket(client: Client) -> tuple[str, str]:
    """An alert, its incident and its RT ticket: (incident id, RT ticket id)."""
    run = uuid4().hex[:8]
    alert = {"name": f"Down{run}", "resource": f"db-{run}", "severity": "critical", "id": run}
    assert (await client.post("/api/v1/alerts/generic", json=alert)).status == 202
    body = await until(
        client, "/api/v1/tickets?backend=rt",
        lambda b: b["count"] == 1 and b["tickets"][0]["external_ref"],
    )  # fmt: skip
    ticket = body["tickets"][0]
    return str(ticket["incident_id"]), str(ticket["external_ref"])


def kinds(incident: dict[str, Any], kind: str) -> list[str]:
    return [e["text"] for e in incident["timeline"] if e["kind"] == kind]


async def test_taken_replied_and_resolved_in_rt_reach_the_incident_by_callback(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, rt_server: RtServer
) -> None:
    # Polled at start and then not for an hour: what arrives later came by the callback.
    rt = rt_server.settings(poll_s=3600.0)
    client = await start(aiohttp_client, app_settings(storage_settings, rt), rules, rt_server)
    incident_id, number = await open_ticket(client)
    path = f"/api/v1/incidents/{incident_id}"
    await asyncio.to_thread(rt_server.request, "PUT", f"/ticket/{number}/take", {}, "agent1")
    taken = await until(client, path, lambda b: b["acknowledged_by"] == "agent1")
    assert taken["status"] == "acknowledged"
    await asyncio.to_thread(
        rt_server.request, "POST", f"/ticket/{number}/correspond",
        {"Content": "Restarting the database", "ContentType": "text/plain"}, "agent1",
    )  # fmt: skip
    await until(client, path, lambda b: any("Restarting the database" in t
                                            for t in kinds(b, "comment")))  # fmt: skip
    await asyncio.to_thread(
        rt_server.request, "PUT", f"/ticket/{number}", {"Status": "resolved"}, "agent1"
    )
    resolved = await until(client, path, lambda b: b["status"] == "resolved")
    held = kinds(resolved, "assigned")
    print(  # noqa: T201 - the figures this test exists to show
        f"rt back by callback: changes expected 3 (take, reply, resolve), arrived "
        f"{len(held) + len(kinds(resolved, 'comment')) + len(kinds(resolved, 'resolved'))}, "
        f"duplicates {len(held) - 1 + len(kinds(resolved, 'comment')) - 1}"
    )
    assert held == ["held by agent1 (group service-desk): agent1 via rt"]
    assert len(kinds(resolved, "comment")) == 1
    assert kinds(resolved, "resolved") == ["resolved: by agent1 via rt: status resolved in RT"]
    # Sereno's own answer to the resolve (its comment, its status) is not read back.
    assert await until(client, "/api/v1/tickets?backend=rt",
                       lambda b: b["tickets"][0]["status"] == "resolved")  # fmt: skip


async def test_changes_made_in_rt_while_sereno_is_down_arrive_by_polling(
    aiohttp_client: ClientFactory, storage_settings: Settings, rules: Rules, rt_server: RtServer
) -> None:
    rt = rt_server.settings(poll_s=0.5)
    settings = app_settings(storage_settings, rt)
    first = await start(aiohttp_client, settings, rules, rt_server)
    incident_id, number = await open_ticket(first)
    await first.close()
    # Sereno is down: the scrip's callbacks find nobody; the agent works on.
    for body in ({"Owner": "agent1"}, {"Priority": 95}, {"Status": "resolved"}):
        await asyncio.to_thread(rt_server.request, "PUT", f"/ticket/{number}", body, "agent1")
    second = await start(aiohttp_client, settings, rules, rt_server)
    incident = await until(second, f"/api/v1/incidents/{incident_id}",
                           lambda b: b["status"] == "resolved")  # fmt: skip
    held, notes = kinds(incident, "assigned"), kinds(incident, "comment")
    print(  # noqa: T201 - the figures this test exists to show
        f"rt back under fault (Sereno down, by polling): changes expected 3 (owner, priority, "
        f"status), arrived {len(held) + len(notes) + len(kinds(incident, 'resolved'))}, "
        f"duplicates {max(0, len(held) - 1) + max(0, len(notes) - 1)}"
    )
    assert incident["acknowledged_by"] == "agent1"
    assert held == ["held by agent1 (group service-desk): agent1 via rt"]
    assert notes == ["agent1 via rt: RT priority 50 -> 95"]
    # Read again (a poll, a late callback): nothing is taken twice.
    assert second.app is not None
    watcher = second.app[PIPELINE].watchers["rt"]
    assert await watcher.poll() == 0
    assert await watcher.read(number) == 0
