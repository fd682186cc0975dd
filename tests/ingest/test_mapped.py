"""Receivers the operator defines by field mapping in rules."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import Settings
from core.models import AlertStatus, Severity
from core.rules import FieldMapping, Rules, RulesError, load_rules
from ingest.adapters import AdapterContext, mapped
from ingest.problems import PayloadError
from sereno.app import create_app
from tests.conftest import T0
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

# Uptime Kuma's webhook body (its "application/json" preset), trimmed to what matters.
KUMA_DOWN = {
    "heartbeat": {"monitorID": 3, "status": 0, "time": "2026-11-20 07:59:30.123",
                  "msg": "timeout of 48000ms exceeded", "important": True},
    "monitor": {"id": 3, "name": "Intranet", "url": "https://intranet.example.org",
                "hostname": None, "type": "http"},
    "msg": "[Intranet] [🔴 Down] timeout of 48000ms exceeded",
}  # fmt: skip


def _kuma(rules: Rules) -> FieldMapping:
    return rules.mappings["uptime-kuma"]


def test_the_example_mapping_reads_uptime_kuma(rules: Rules) -> None:
    [alert] = mapped.parse("uptime-kuma", _kuma(rules), KUMA_DOWN, AdapterContext(T0, rules))
    assert (alert.name, alert.status, alert.severity) == (
        "Intranet",
        AlertStatus.FIRING,
        Severity.MAJOR,
    )
    assert alert.source_id == "3"
    assert alert.summary.startswith("[Intranet]")
    assert alert.labels == {"monitor_type": "http"}
    assert alert.source_url == "https://intranet.example.org"
    assert alert.starts_at.isoformat() == "2026-11-20T07:59:30.123000+00:00"
    up = {**KUMA_DOWN, "heartbeat": {**KUMA_DOWN["heartbeat"], "status": 1}}  # type: ignore[dict-item]
    [recovered] = mapped.parse("uptime-kuma", _kuma(rules), up, AdapterContext(T0, rules))
    assert recovered.status is AlertStatus.RESOLVED
    assert recovered.fingerprint == alert.fingerprint


def test_a_list_inside_the_body_and_missing_names(rules: Rules) -> None:
    mapping = FieldMapping(alerts="items", name="check.title", resource="host")
    body = {"items": [{"check": {"title": "A"}, "host": "WEB-1:80"}, {"check": {}}]}
    with pytest.raises(PayloadError) as caught:
        mapped.parse("custom", mapping, body, AdapterContext(T0, rules))
    assert caught.value.problems[0].field == "items[1].check.title"
    [one] = mapped.parse(
        "custom", mapping, {"items": [body["items"][0]]}, AdapterContext(T0, rules)
    )
    assert one.resource == "web-1"


def test_bad_paths_are_rule_errors_with_a_line(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text("mappings:\n  x:\n    name: 'a..b'\n")
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    [problem] = caught.value.problems
    assert (problem.line, problem.where) == (3, "mappings.x.name")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_gives_alerts_or_a_payload_error(payload: object) -> None:
    rules = load_rules(Path(__file__).resolve().parents[2] / "rules")
    with contextlib.suppress(PayloadError):
        mapped.parse("uptime-kuma", _kuma(rules), payload, AdapterContext(T0, rules))


async def test_a_mapping_is_a_receiver(aiohttp_client: ClientFactory, settings: Settings) -> None:
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/api/v1/alerts/uptime-kuma", json=KUMA_DOWN)
    assert response.status == 202
    await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    unknown = await client.post("/api/v1/alerts/nosuch", json={})
    assert "uptime-kuma" in (await unknown.json())["error"]
