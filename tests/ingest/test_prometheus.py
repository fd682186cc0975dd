"""Alertmanager API v2 `POST /api/v2/alerts`, as Prometheus sends it.

Format: the `postableAlerts` schema of Alertmanager's api/v2/openapi.yaml.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import Settings
from core.models import AlertStatus, Severity
from core.rules import Rules
from ingest.adapters import AdapterContext, prometheus
from ingest.problems import PayloadError
from sereno.app import create_app
from tests.conftest import T0
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
GOLDEN = Path(__file__).parent / "golden" / "prometheus_postable_alerts.json"


def test_an_end_in_the_past_resolves_an_end_in_the_future_fires(rules: Rules) -> None:
    payload = json.loads(GOLDEN.read_text())
    firing, resolved = prometheus.parse(payload, AdapterContext(T0, rules))  # T0 is 08:00
    assert firing.status is AlertStatus.FIRING
    assert firing.ends_at is None
    assert (firing.resource, firing.service, firing.severity) == (
        "api-1",
        "payroll",
        Severity.MAJOR,
    )
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.ends_at is not None


def test_problems_name_the_alert_and_field(rules: Rules) -> None:
    with pytest.raises(PayloadError) as caught:
        prometheus.parse(
            [{"labels": {"alertname": "A"}}, {"annotations": {}}], AdapterContext(T0, rules)
        )
    assert [p.field for p in caught.value.problems] == ["alerts[1].labels"]
    with pytest.raises(PayloadError):
        prometheus.parse({"labels": {}}, AdapterContext(T0, rules))


async def test_prometheus_can_post_as_to_alertmanager(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    alert = {
        "labels": {"alertname": "Down", "instance": "db-1:9100"},
        "endsAt": "2099-01-01T00:00:00Z",
    }
    for _ in range(3):  # Prometheus re-sends firing alerts at every evaluation
        response = await client.post("/api/v2/alerts", json=[alert])
        assert response.status == 200
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    assert [(a["source"], a["count"]) for a in incident["sample"]] == [("prometheus", 3)]
    ended = {**alert, "endsAt": "2026-01-01T00:00:00Z"}
    assert (await client.post("/api/v2/alerts", json=[ended])).status == 200
    ticket_id = body["tickets"][0]["id"]
    await wait_for(client, f"/api/v1/tickets/{ticket_id}", lambda b: b["status"] == "resolved")
