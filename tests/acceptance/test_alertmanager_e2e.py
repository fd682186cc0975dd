"""The real Alertmanager posting to a real `sereno serve`: one group, one incident, one ticket."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.acceptance.conftest import AlertmanagerProcess, SerenoFactory, eventually, http_json

pytestmark = pytest.mark.e2e


def _alerts(ends: datetime) -> list[dict[str, object]]:
    return [
        {
            "labels": {"alertname": "HostDown", "service": "mail", "instance": f"mx-{i}:9100",
                       "severity": "critical"},
            "annotations": {"summary": f"mx-{i} does not answer"},
            "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "endsAt": ends.isoformat(),
            "generatorURL": "http://prometheus.example.org/graph",
        }
        for i in range(3)
    ]  # fmt: skip


def test_a_group_from_the_real_alertmanager_becomes_one_incident_and_one_ticket(
    sereno: SerenoFactory, alertmanager: Callable[[str], AlertmanagerProcess]
) -> None:
    server = sereno()
    am = alertmanager(server.url)
    status, _ = http_json(
        "POST", f"{am.url}/api/v2/alerts", _alerts(datetime.now(UTC) + timedelta(hours=1))
    )
    assert status == 200

    tickets = eventually(lambda: server.get("/api/v1/tickets"), lambda b: b["count"] == 1)
    # Alertmanager may notify the group in more than one webhook: wait for all three alerts.
    incidents = eventually(
        lambda: server.get("/api/v1/incidents"),
        lambda b: b["count"] == 1 and b["incidents"][0]["alert_count"] == 3,
    )
    [incident] = incidents["incidents"]
    assert incident["status"] == "open"
    assert incident["priority"] == "P1"
    assert len(incident["sample"]) == 3
    assert {a["source"] for a in incident["sample"]} == {"alertmanager"}
    assert all(a["source_id"] for a in incident["sample"])  # Alertmanager's own fingerprints
    assert sorted(a["resource"] for a in incident["sample"]) == ["mx-0", "mx-1", "mx-2"]
    [ticket] = tickets["tickets"]
    assert (ticket["incident_id"], ticket["status"]) == (incident["id"], "open")

    status, _ = http_json("POST", f"{am.url}/api/v2/alerts", _alerts(datetime.now(UTC)))
    assert status == 200
    eventually(
        lambda: server.get(f"/api/v1/tickets/{ticket['id']}"), lambda b: b["status"] == "resolved"
    )
    assert server.get(f"/api/v1/incidents/{incident['id']}")["status"] == "resolved"
    # Alertmanager notified several times (firing, then resolved): still one of each.
    assert server.get("/api/v1/incidents")["count"] == 1
    assert server.get("/api/v1/tickets")["count"] == 1
