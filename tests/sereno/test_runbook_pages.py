"""Runbooks through the app: linked into the incident, the ticket (first steps inline) and the
on-call notification, and shown as a page in which nothing from the file can run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.config import Settings
from sereno.app import create_app
from tests.conftest import REPO
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


async def test_the_runbook_follows_the_incident_into_ticket_and_notification(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    alert = {"name": "HostDown", "resource": "srv-mad-042", "severity": "critical"}
    assert (await client.post("/api/v1/alerts/generic", json=alert)).status == 202
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    [ticket] = body["tickets"]
    assert ticket["runbook_url"].endswith("/runbooks/host-down")
    assert "First steps (Host down, " in ticket["description"]
    assert "1. Check whether the host answers ping" in ticket["description"]
    [listed] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    incident = await (await client.get(f"/api/v1/incidents/{listed['id']}")).json()
    assert (incident["runbook"], len(incident["runbook_steps"])) == ("host-down", 4)
    assert any(e["kind"] == "runbook" for e in incident["timeline"])
    page = await client.get("/runbooks/host-down")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert "<li>Check whether the host answers ping" in await page.text()
    # The header lists what the runbook applies to as a person writes it, not a Python list.
    assert "applies to names: InstanceDown, HostDown, Unavailable by ICMP ping" in await page.text()
    assert "[" not in (await page.text()).split("applies to")[1].split("</p>")[0]
    missing = await client.get("/runbooks/nope")
    assert missing.status == 404
    assert "nope" in (await missing.json())["error"]


async def test_html_in_a_runbook_stays_text(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "evil.md").write_text(
        "---\ntitle: <b>T</b>\nowner: o\napplies_to: {names: X}\n---\n"
        "<script>alert(1)</script>\n\n1. <img src=x onerror=alert(2)>\n",
        encoding="utf-8",
    )
    settings = Settings(data_dir=tmp_path / "data", rules_dir=REPO / "rules", runbooks_dir=runbooks)
    client = await aiohttp_client(create_app(settings))
    text = await (await client.get("/runbooks/evil")).text()
    assert "<script>" not in text
    assert "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;T&lt;/b&gt;" in text
