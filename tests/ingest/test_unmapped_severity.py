"""A severity word no rule maps is still accepted, at the source's default severity, and
recorded on the alert (label sereno_unmapped_severity) and in a metric."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from core.clock import WallClock
from core.config import IngestSettings, Settings
from core.metrics import make_ingest_metrics
from core.models import Severity
from core.rules import Rules, RulesRef
from ingest.adapters import UNMAPPED_SEVERITY, AdapterContext, alertmanager, generic, zabbix
from ingest.receiver import UNMAPPED_VALUES_PER_SOURCE, Receiver
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES, T0
from tests.ingest.kit import golden, parse_one
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def test_generic_unknown_word_is_recorded_and_a_known_one_is_not(rules: Rules) -> None:
    alert = parse_one(generic.parse, {"name": "Disk", "severity": "catastrophic"}, rules)
    assert alert.severity is Severity.WARNING  # the source's default
    assert alert.labels[UNMAPPED_SEVERITY] == "catastrophic"
    for word in ("Critical", "page", None):  # the rules' word, a common word, none at all
        known = parse_one(generic.parse, {"name": "Disk", "severity": word}, rules)
        assert UNMAPPED_SEVERITY not in known.labels


def test_alertmanager_severity_label_unknown_word_keeps_the_fingerprint(rules: Rules) -> None:
    body = golden("alertmanager_firing.json")
    [first, _] = alertmanager.parse(body, AdapterContext(T0, rules))
    body["alerts"][0]["labels"]["severity"] = "sev-0"
    [odd, _] = alertmanager.parse(body, AdapterContext(T0, rules))
    assert odd.labels[UNMAPPED_SEVERITY] == "sev-0"
    assert UNMAPPED_SEVERITY not in first.labels


def test_a_renamed_zabbix_severity_is_recorded(rules: Rules) -> None:
    body = golden("zabbix_problem.json") | {"event_severity": "Catastrophe"}
    alert = parse_one(zabbix.parse, body, rules)
    assert alert.labels[UNMAPPED_SEVERITY] == "Catastrophe"


async def test_the_label_reaches_the_incident_and_the_metric_counts_it(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=IngestSettings()
    )
    client = await aiohttp_client(create_app(settings))
    body = [
        {"name": "DiskFull", "resource": "db-1", "severity": "catastrophic"},
        {"name": "DiskFull", "resource": "db-2", "severity": "catastrophic"},
        {"name": "DiskFull", "resource": "db-3", "severity": "critical"},
    ]
    response = await client.post("/api/v1/alerts/generic", json=body)
    assert response.status == 202
    incidents = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] >= 1)
    words: dict[str, str | None] = {}
    for listed in incidents["incidents"]:
        page = await (await client.get(f"/api/v1/incidents/{listed['id']}/alerts")).json()
        words |= {a["resource"]: a["labels"].get(UNMAPPED_SEVERITY) for a in page["alerts"]}
    assert words["db-1"] == "catastrophic"
    metrics = await (await client.get("/metrics")).text()
    assert (
        'sereno_ingest_unmapped_severity_total{source="generic",value="catastrophic"} 2.0'
        in metrics
    )


class _Bus:
    """Stores nothing: the test is about what the receiver counts."""

    async def publish(self, _stream: object, bodies: list[str]) -> list[str]:
        return [str(i) for i, _ in enumerate(bodies)]


async def test_the_metric_names_a_bounded_number_of_words_per_source(rules: Rules) -> None:
    registry = CollectorRegistry()
    receiver = Receiver(
        _Bus(),  # type: ignore[arg-type]
        RulesRef(rules),
        WallClock(),
        make_ingest_metrics(registry),
        IngestSettings(),
    )
    words = [f"sev-{i}" for i in range(UNMAPPED_VALUES_PER_SOURCE + 5)]
    await receiver.accept("generic", [{"name": "A", "severity": w} for w in words])
    counted = {
        s.labels["value"]: s.value
        for m in registry.collect()
        if m.name == "sereno_ingest_unmapped_severity"
        for s in m.samples
        if s.name.endswith("_total")
    }
    assert counted["(other)"] == 5
    assert len(counted) == UNMAPPED_VALUES_PER_SOURCE + 1
