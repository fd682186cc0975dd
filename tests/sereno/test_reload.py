"""Reloading the rules through the API: valid rules are swapped in and nothing stored is
lost; invalid rules are refused with file and line, and the old ones stay in force."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES
from tests.sereno.test_app import Client, ClientFactory, wait_for

LAB_SERVICE = """
  lab:
    name: Research lab
    criticality: critical
    users: 55000
    hosts: ["lab-*"]
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    copy = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, copy)
    return copy


@pytest.fixture
async def client(aiohttp_client: ClientFactory, tmp_path: Path, rules_dir: Path) -> Client:
    settings = Settings(data_dir=tmp_path / "data", rules_dir=rules_dir)
    return await aiohttp_client(create_app(settings))


async def _alert_on(client: Client, resource: str) -> dict[str, Any]:
    """Post a critical alert on `resource`; return its incident once it has a ticket."""
    alert = {"name": "DiskFull", "resource": resource, "severity": "critical"}
    assert (await client.post("/api/v1/alerts/generic", json=alert)).status == 202
    body = await wait_for(
        client, "/api/v1/incidents", lambda b: any(
            a["resource"] == resource for i in b["incidents"] for a in i["sample"]
        ),
    )  # fmt: skip
    incidents: list[dict[str, Any]] = body["incidents"]
    [incident] = [i for i in incidents if i["sample"][0]["resource"] == resource]
    await wait_for(
        client, "/api/v1/tickets",
        lambda b: any(t["incident_id"] == incident["id"] for t in b["tickets"]),
    )  # fmt: skip
    return incident


async def _readyz(client: Client) -> dict[str, Any]:
    response = await client.get("/readyz")
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return body


async def test_valid_rules_are_swapped_in_and_the_store_is_untouched(
    client: Client, rules_dir: Path
) -> None:
    before = await _readyz(client)
    assert before["rules"] is True
    # Unknown to the catalogue, a critical alert on lab-1 has low impact: P3.
    first = await _alert_on(client, "lab-1")
    assert (first["priority"], first["service"]) == ("P3", "")

    services = rules_dir / "services.yaml"
    services.write_text(services.read_text() + LAB_SERVICE)
    response = await client.post("/api/v1/rules/reload")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "reloaded"
    assert body["previous_version"] == before["rules_version"]
    assert body["version"] != before["rules_version"]
    assert body["counts"]["services"] == 12
    assert body["summary"].startswith("12 services, 12 topology links")
    after = await _readyz(client)
    assert (after["rules"], after["rules_version"]) == (True, body["version"])
    assert after["rules_loaded_at"] == body["loaded_at"]

    # The new service now counts: 55,000 users of a critical service make a new incident P1.
    second = await _alert_on(client, "lab-2")
    assert (second["priority"], second["service"]) == ("P1", "lab")
    # What was stored stays as it was: the first incident, its ticket, nothing lost.
    kept = await (await client.get(f"/api/v1/incidents/{first['id']}")).json()
    assert (kept["id"], kept["priority"], kept["status"]) == (first["id"], "P3", "open")
    tickets = await (await client.get("/api/v1/tickets")).json()
    assert sorted(t["incident_id"] for t in tickets["tickets"]) == sorted(
        [first["id"], second["id"]]
    )


async def test_reloading_unchanged_rules_says_so(client: Client) -> None:
    response = await client.post("/api/v1/rules/reload")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "unchanged"
    assert body["version"] == body["previous_version"]


async def test_invalid_rules_are_refused_with_file_and_line_and_the_old_stay(
    client: Client, rules_dir: Path
) -> None:
    before = await _readyz(client)
    services = rules_dir / "services.yaml"
    lines = services.read_text().splitlines()
    # The lab service, with a misspelt key: nothing of this file may come into force.
    services.write_text("\n".join([*lines, *LAB_SERVICE.splitlines(), "    sitte: madrid", ""]))
    bad_line = len(lines) + len(LAB_SERVICE.splitlines()) + 1
    (rules_dir / "correlation.yaml").write_text("correlation:\n  reopen_window: soon\n")

    response = await client.post("/api/v1/rules/reload")
    assert response.status == 422
    body = await response.json()
    assert set(body) == {"error", "detail"}
    assert body["error"] == (
        f"invalid rules in {rules_dir} (2 problems); the rules in force "
        f"(version {before['rules_version']}) stay"
    )
    assert body["detail"] == [
        {
            "field": f"{rules_dir / 'correlation.yaml'}:2 correlation.reopen_window",
            "problem": "'soon' is not a duration; write for example 90s, 5m, 2h or 1d",
        },
        {
            "field": f"{services}:{bad_line} services.lab.sitte",
            "problem": "unknown key 'sitte'; check its spelling (did you mean 'site'?); the "
            "keys here are: name, criticality, users, group, hosts, match, depends_on, site",
        },
    ]
    after = await _readyz(client)
    assert after == before
    # The old rules are still in force: lab is still unknown, so the incident stays P3.
    incident = await _alert_on(client, "lab-1")
    assert (incident["priority"], incident["service"]) == ("P3", "")


async def test_reload_only_answers_post(client: Client) -> None:
    response = await client.get("/api/v1/rules/reload")
    assert response.status == 405
    assert set(await response.json()) == {"error", "detail"}
