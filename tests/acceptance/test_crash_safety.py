"""Nothing answered 202 is lost and nothing is done twice, when the server is SIGKILLed."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.acceptance.conftest import (
    SerenoFactory,
    SerenoProcess,
    backlog,
    eventually,
    http_json,
)

pytestmark = pytest.mark.e2e


def _group(group: int, size: int) -> dict[str, object]:
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="CrashTest", group="{group}"}}',
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "CrashTest",
                    "group": str(group),
                    "instance": f"h-{group}-{i}",
                },
                "startsAt": "2026-11-20T08:00:00Z",
            }
            for i in range(size)
        ],
    }


def _post(server: SerenoProcess, body: dict[str, object]) -> int:
    status, _ = http_json("POST", f"{server.url}/api/v1/alerts/alertmanager", body)
    return status


def _settled(server: SerenoProcess, incidents: int, tickets: int) -> tuple[Any, Any]:
    """Wait for the expected counts, then for the pipeline to be idle, and make sure they
    are still there (no late duplicates)."""
    eventually(
        lambda: (server.get("/api/v1/incidents?limit=10000")["count"],
                 server.get("/api/v1/tickets?limit=10000")["count"]),
        lambda counts: counts == (incidents, tickets),
    )  # fmt: skip
    server.wait_idle()
    found = server.get("/api/v1/incidents?limit=10000")
    made = server.get("/api/v1/tickets?limit=10000")
    assert (found["count"], made["count"]) == (incidents, tickets)
    return found, made


def test_alerts_accepted_before_a_kill_are_correlated_after_the_restart(
    sereno: SerenoFactory,
) -> None:
    ingest_only = sereno(stages=["ingest"])
    assert [_post(ingest_only, _group(g, 5)) for g in range(2)] == [202, 202]
    assert ingest_only.get("/api/v1/incidents")["count"] == 0
    ingest_only.kill()

    restarted = sereno()
    found, made = _settled(restarted, incidents=2, tickets=2)
    assert sorted(i["alert_count"] for i in found["incidents"]) == [5, 5]
    assert {t["incident_id"] for t in made["tickets"]} == {i["id"] for i in found["incidents"]}


def test_a_kill_in_the_middle_of_a_burst_loses_and_duplicates_nothing(
    sereno: SerenoFactory,
) -> None:
    groups = 200
    server = sereno()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda g: _post(server, _group(g, 3)), range(groups)))
    assert statuses == [202] * groups
    left = backlog(server.url)
    server.kill()
    print(f"killed with {left:.0f} stream entries not yet processed")  # noqa: T201

    restarted = sereno()
    found, made = _settled(restarted, incidents=groups, tickets=groups)
    assert all(i["alert_count"] == 3 for i in found["incidents"])
    assert len({t["incident_id"] for t in made["tickets"]}) == groups
    assert all(a["count"] == 1 for i in found["incidents"] for a in i["sample"])


def test_a_kill_between_correlation_and_ticketing_makes_each_ticket_once(
    sereno: SerenoFactory,
) -> None:
    correlating = sereno(stages=["ingest", "correlate"])
    assert [_post(correlating, _group(g, 4)) for g in range(3)] == [202] * 3
    before = eventually(lambda: correlating.get("/api/v1/incidents"), lambda b: b["count"] == 3)
    correlating.kill()

    restarted = sereno()
    found, made = _settled(restarted, incidents=3, tickets=3)
    assert sorted(i["id"] for i in found["incidents"]) == sorted(
        i["id"] for i in before["incidents"]
    )
    assert {t["incident_id"] for t in made["tickets"]} == {i["id"] for i in found["incidents"]}
