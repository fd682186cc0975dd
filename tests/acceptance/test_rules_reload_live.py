"""SIGHUP makes a running `sereno serve` read its rules again, without losing anything."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import SerenoProcess, eventually, http_json
from tests.conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e

LAB_SERVICE = """
  lab:
    name: Research lab
    criticality: critical
    users: 55000
    hosts: ["lab-*"]
"""


def _incident_on(server: SerenoProcess, resource: str) -> dict[str, Any]:
    alert = {"name": "DiskFull", "resource": resource, "severity": "critical"}
    assert http_json("POST", f"{server.url}/api/v1/alerts/generic", alert)[0] == 202
    found = eventually(
        lambda: [
            i for i in server.get("/api/v1/incidents")["incidents"]
            if i["sample"][0]["resource"] == resource
        ],
        lambda incidents: len(incidents) == 1,
    )  # fmt: skip
    incident: dict[str, Any] = found[0]
    return incident


@pytest.fixture
def server(tmp_path: Path) -> Iterator[SerenoProcess]:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    config = tmp_path / "sereno.yaml"
    config.write_text(f"rules_dir: {rules}\n")
    process = SerenoProcess(config, tmp_path / "data", tmp_path / "sereno.log").start()
    yield process
    process.stop()


def test_sighup_reloads_valid_rules_and_keeps_the_old_ones_when_invalid(
    server: SerenoProcess, tmp_path: Path
) -> None:
    assert server.process is not None
    services = tmp_path / "rules" / "services.yaml"
    first_version = server.get("/readyz")["rules_version"]
    first = _incident_on(server, "lab-1")
    assert first["priority"] == "P3"  # lab-1 belongs to no known service yet

    services.write_text(services.read_text() + LAB_SERVICE)
    server.process.send_signal(signal.SIGHUP)
    ready = eventually(lambda: server.get("/readyz"), lambda r: r["rules_version"] != first_version)
    assert ready["rules"] is True
    second = _incident_on(server, "lab-2")
    assert (second["priority"], second["service"]) == ("P1", "lab")
    assert server.get(f"/api/v1/incidents/{first['id']}")["priority"] == "P3"

    # A broken file: the process keeps serving under the rules in force and logs why.
    services.write_text(services.read_text() + "    users: many\n")
    server.process.send_signal(signal.SIGHUP)
    eventually(server.tail, lambda log: "rules reload refused" in log)
    assert f"{services}:" in server.tail()
    assert "services.lab.users" in server.tail()
    assert server.process.poll() is None
    assert server.get("/readyz")["rules_version"] == ready["rules_version"]
    third = _incident_on(server, "lab-3")
    assert (third["priority"], third["service"]) == ("P1", "lab")
    assert server.get("/api/v1/tickets")["count"] == 3
