"""The whole pipeline in one aiohttp app over a real loopback socket, on a real SQLite
file and on the real Redis server."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import Settings
from core.rules import read_rules
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def webhook(group: str, *alerts: tuple[str, str], status: str = "firing") -> dict[str, object]:
    """An Alertmanager v4 webhook body: one group, alerts as (alertname, instance)."""
    return {
        "version": "4",
        "groupKey": group,
        "status": status,
        "receiver": "sereno",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": name, "instance": instance, "severity": "critical"},
                "annotations": {"summary": f"{name} on {instance}"},
                "startsAt": "2026-11-20T08:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-20T08:05:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": f"{name}-{instance}",
            }
            for name, instance in alerts
        ],
    }


WITHIN_S = 15.0
"""How long a test waits for the background stages before it fails."""


async def wait_for(
    client: Client,
    path: str,
    ready: Callable[[Any], bool],
    headers: dict[str, str] | None = None,
    within_s: float = WITHIN_S,
) -> Any:
    """Poll `path` until `ready(body)`; the stages run in the background of the app."""
    body: Any = None
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        response = await client.get(path, headers=headers)
        body = await response.json()
        if ready(body):
            return body
        await asyncio.sleep(0.02)
    pytest.fail(f"{path} not ready within {within_s}s; last body: {body}")


def backlog(metrics: str) -> float:
    """Entries unread or pending, over every stream and group, from a /metrics page."""
    names = ("sereno_bus_backlog_unread{", "sereno_bus_backlog_pending{")
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith(names)
    )


async def wait_idle(client: Client, within_s: float = WITHIN_S) -> None:
    """Wait until no stage has anything left to do: every group of every stream has read
    and acknowledged everything. What a test checks after this will not change by itself."""
    left = -1.0
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        left = backlog(await (await client.get("/metrics")).text())
        if left == 0:
            return
        await asyncio.sleep(0.02)
    pytest.fail(f"pipeline not idle within {within_s}s: {left:g} entries left")


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    return await aiohttp_client(create_app(storage_settings))


async def test_an_alertmanager_group_becomes_one_incident_and_one_ticket(client: Client) -> None:
    body = webhook("g1", ("HostDown", "web-1"), ("HostDown", "web-2"))
    response = await client.post("/api/v1/alerts/alertmanager", json=body)
    assert response.status == 202
    assert await response.json() == {"accepted": 2}
    # Alertmanager resends the whole group at every group_interval: repeats change nothing.
    assert (await client.post("/api/v1/alerts/alertmanager", json=body)).status == 202

    tickets = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    incidents = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    assert len(incidents) == 1
    [incident] = incidents
    assert incident["status"] == "open"
    assert incident["priority"] == "P1"
    assert sorted(a["resource"] for a in incident["sample"]) == ["web-1", "web-2"]
    assert [a["count"] for a in incident["sample"]] == [2, 2]
    assert tickets["tickets"][0]["incident_id"] == incident["id"]

    resolved = webhook("g1", ("HostDown", "web-1"), ("HostDown", "web-2"), status="resolved")
    assert (await client.post("/api/v1/alerts/alertmanager", json=resolved)).status == 202
    ticket_id = tickets["tickets"][0]["id"]
    ticket = await wait_for(
        client, f"/api/v1/tickets/{ticket_id}", lambda b: b["status"] == "resolved"
    )
    incident = await (await client.get(f"/api/v1/incidents/{incident['id']}")).json()
    assert incident["status"] == "resolved"
    # Opened (with the group that holds it), then resolved.
    assert [c["field"] for c in ticket["history"]] == ["status", "group", "status"]
    assert (await (await client.get("/api/v1/tickets")).json())["count"] == 1


async def test_a_new_alert_joins_the_open_incident_and_updates_its_ticket(client: Client) -> None:
    await client.post("/api/v1/alerts/alertmanager", json=webhook("g", ("DiskFull", "db-1")))
    await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    more = webhook("g", ("DiskFull", "db-1"), ("DiskFull", "db-2"))
    await client.post("/api/v1/alerts/alertmanager", json=more)
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["tickets"][0]["alert_count"] == 2)
    [ticket] = body["tickets"]
    # Joins are summed up once per coalesced update, not one history entry per alert:
    # within the coalescing interval the update waits.
    assert ticket["update_held"] is True
    assert "alerts" not in [c["field"] for c in ticket["history"]]
    assert (await (await client.get("/api/v1/incidents")).json())["count"] == 1


async def test_generic_alerts_group_by_service_and_resource(client: Client) -> None:
    alerts = [
        {"name": "HighLatency", "service": "payroll", "resource": "app-1", "severity": "major"},
        {"name": "ErrorRate", "service": "payroll", "resource": "app-1", "severity": "minor"},
        {"name": "HighLatency", "service": "payroll", "resource": "app-2"},
    ]
    response = await client.post("/api/v1/alerts/generic", json=alerts)
    assert response.status == 202
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 2)
    incidents = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    by_resource = {i["sample"][0]["resource"]: i for i in incidents}
    assert len(by_resource["app-1"]["sample"]) == 2
    assert by_resource["app-1"]["priority"] == "P2"
    assert len(by_resource["app-2"]["sample"]) == 1
    assert body["count"] == 2


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "names"),
    [
        ("/api/v1/alerts/alertmanager", b"{not json", "application/json", 400, "line 1 column 2"),
        ("/api/v1/alerts/alertmanager", b'{"alerts": [', "application/json", 400, "JSON"),
        ("/api/v1/alerts/alertmanager", b"{}", "text/plain", 415, "Content-Type"),
        ("/api/v1/alerts/alertmanager", b"{}", "application/json", 422, "alerts"),
        ("/api/v1/alerts/alertmanager", b'{"alerts": "x"}', "application/json", 422, "alerts"),
        (
            "/api/v1/alerts/alertmanager",
            b'{"alerts": [{"status": "firing", "labels": {}, "startsAt": "2026-11-20T08:00:00Z"}]}',
            "application/json",
            422,
            "alerts[0].labels.alertname",
        ),
        (
            "/api/v1/alerts/alertmanager",
            (
                b'{"alerts": [{"status": "firing", "labels": {"alertname": "A"},'
                b' "startsAt": "yesterday"}]}'
            ),
            "application/json",
            422,
            "alerts[0].startsAt",
        ),
        ("/api/v1/alerts/generic", b'{"severity": "critical"}', "application/json", 422, "name"),
        (
            "/api/v1/alerts/generic",
            b'{"name": "A", "colour": 1}',
            "application/json",
            422,
            "colour",
        ),
        ("/api/v1/alerts/nosuch", b"{}", "application/json", 404, "alertmanager"),
        ("/api/v1/alerts/generic", b'"\xff\xfe"', "application/json", 400, "UTF-8"),
        ("/api/v1/alerts/generic", b'{"name": "\\ud800"}', "application/json", 400, "surrogate"),
        ("/api/v1/alerts/generic", b'{"name": NaN}', "application/json", 400, "line 1"),
        ("/api/v1/alerts/generic", b"[" * 100_000, "application/json", 400, "(body)"),
    ],
)
async def test_bad_input_gets_a_4xx_naming_the_problem_and_the_server_keeps_serving(
    client: Client, path: str, body: bytes, content_type: str, status: int, names: str
) -> None:
    response = await client.post(path, data=body, headers={"Content-Type": content_type})
    assert response.status == status
    error = await response.json()
    assert set(error) == {"error", "detail"}
    assert names in str(error)
    assert (await client.get("/healthz")).status == 200
    ok = await client.post("/api/v1/alerts/generic", json={"name": "StillServing"})
    assert ok.status == 202


async def test_read_api_errors_are_json(client: Client) -> None:
    missing = await client.get("/api/v1/incidents/INC-404")
    assert missing.status == 404
    assert "INC-404" in (await missing.json())["error"]
    bad = await client.get("/api/v1/incidents?priority=P9")
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "priority"


async def test_metrics_count_alerts_incidents_latency_and_backlog(client: Client) -> None:
    await client.post("/api/v1/alerts/alertmanager", json=webhook("g", ("A", "h-1")))
    await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    text = await (await client.get("/metrics")).text()
    assert 'sereno_ingest_alerts_received_total{source="alertmanager"} 1.0' in text
    assert "sereno_correlate_incidents_opened_total 1.0" in text
    # Every stage records how long its entries waited: the ticketer's count holds the one
    # incident event, and the ticks that the scheduler sent down the pipeline meanwhile.
    waited = re.search(r'sereno_stage_latency_seconds_count\{stage="ticketer"\} (\S+)', text)
    assert waited is not None
    assert float(waited.group(1)) >= 1
    assert 'sereno_bus_backlog_unread{group="correlate",stream="alerts"} 0.0' in text


async def test_ready_when_storage_answers(client: Client) -> None:
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body.pop("rules_loaded_at")  # when the app was built
    version = read_rules(EXAMPLE_RULES).digest
    assert body == {"storage": True, "rules": True, "rules_version": version}


async def test_an_incidents_alerts_and_timeline_come_page_by_page(client: Client) -> None:
    # One Alertmanager group of 150 alerts: the incident's answer carries its header and a
    # first page of each; the cursor gives the rest, and the list carries headers only.
    alerts = [
        {"status": "firing", "labels": {"alertname": "Down", "instance": f"web-{n}:9100"},
         "annotations": {}, "startsAt": "2026-11-20T08:00:00Z", "fingerprint": f"{n:04x}"}
        for n in range(150)
    ]  # fmt: skip
    body = {"version": "4", "groupKey": "{}:{}", "status": "firing", "alerts": alerts}
    assert (await client.post("/api/v1/alerts/alertmanager", json=body)).status == 202
    listed = await wait_for(
        client,
        "/api/v1/incidents",
        lambda b: b["count"] and b["incidents"][0]["alert_count"] == 150,
    )
    [header] = listed["incidents"]
    assert "alerts" not in header
    assert "timeline" not in header
    incident = await (await client.get(f"/api/v1/incidents/{header['id']}")).json()
    assert len(incident["alerts"]) == 100
    seen = [a["fingerprint"] for a in incident["alerts"]]
    cursor = incident["alerts_next_cursor"]
    while cursor is not None:
        page = await (
            await client.get(f"/api/v1/incidents/{header['id']}/alerts?cursor={cursor}&limit=20")
        ).json()
        seen += [a["fingerprint"] for a in page["alerts"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 150
    timeline = await (await client.get(f"/api/v1/incidents/{header['id']}/timeline")).json()
    assert timeline["timeline"][0]["kind"] == "opened"
    assert timeline["next_cursor"] is None
    bad = await client.get(f"/api/v1/incidents/{header['id']}/alerts?cursor=x")
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "cursor"
    missing = await client.get("/api/v1/incidents/INC-999/alerts")
    assert missing.status == 404
