"""Kibana alerting rules through the Webhook connector, with the bodies of contrib/kibana/.

Variables: https://www.elastic.co/guide/en/kibana/current/rule-action-variables.html
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import given
from hypothesis import strategies as st

from core.config import IngestSettings, Settings
from core.models import Alert, AlertStatus, Severity
from core.rules import Rules
from ingest.adapters import AdapterContext, kibana
from ingest.adapters.batch import PartlyRefusedError
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES, REPO, T0
from tests.ingest.kit import (
    FUZZ,
    golden,
    json_values,
    mutated,
    outcome,
    parse_one,
    problem_fields,
)
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def _parse(payload: object, rules: Rules) -> Alert:
    return parse_one(kibana.parse, payload, rules)


def test_an_active_alert_fires_and_its_recovery_resolves_it(rules: Rules) -> None:
    active = _parse(golden("kibana_active.json"), rules)
    assert (active.status, active.name, active.resource, active.service) == (
        AlertStatus.FIRING,
        "CPU usage over 90%",
        "web-4",
        "intranet",
    )
    assert active.summary.startswith("system.cpu.total.norm.pct is 97.3%")
    assert active.source_url.startswith("https://kibana.example.org/app/metrics/")
    assert active.starts_at == datetime(2026, 11, 20, 7, 58, tzinfo=UTC)
    assert active.labels["rule_type"] == "metrics.alert.threshold"
    assert not active.flapping
    recovered = _parse(golden("kibana_recovered.json"), rules)
    assert recovered.status is AlertStatus.RESOLVED
    assert recovered.fingerprint == active.fingerprint
    assert recovered.ends_at == datetime(2026, 11, 20, 8, 10, tzinfo=UTC)


def test_kibanas_flapping_flag_is_the_alerts(rules: Rules) -> None:
    alert = _parse(golden("kibana_flapping.json"), rules)
    assert (alert.status, alert.flapping) == (AlertStatus.FIRING, True)


def test_a_summary_of_alerts_gives_one_alert_each(rules: Rules) -> None:
    alerts = kibana.parse(golden("kibana_summary.json"), AdapterContext(T0, rules))
    assert [(a.source_id.split("/")[1], a.status) for a in alerts] == [
        ("query matched", AlertStatus.FIRING),
        ("web-2.example.org", AlertStatus.RESOLVED),
    ]
    assert alerts[0].starts_at == datetime(2026, 11, 20, 7, 55, tzinfo=UTC)
    assert len({a.fingerprint for a in alerts}) == 2


def test_untracked_alerts_are_no_news(rules: Rules) -> None:
    body = golden("kibana_summary.json")
    body["alerts"][0]["status"] = "untracked"
    assert len(kibana.parse(body, AdapterContext(T0, rules))) == 1


@pytest.mark.parametrize(
    ("changes", "severity"),
    [({"actionGroup": "metrics.threshold.warning"}, Severity.WARNING),
     ({"severity": "critical"}, Severity.CRITICAL)],
)  # fmt: skip
def test_severity_from_the_body_or_a_warning_group(
    rules: Rules, changes: dict[str, str], severity: Severity
) -> None:
    body = golden("kibana_active.json")
    body["alert"] |= changes
    assert _parse(body, rules).severity is severity


def test_a_body_without_rule_or_alert_names_the_field(rules: Rules) -> None:
    assert problem_fields(kibana.parse, {"rule": {"id": "r", "name": "n"}}, rules) == {"alert"}
    assert "rule" in problem_fields(kibana.parse, {"alert": {"id": "a"}}, rules)


def test_the_contrib_bodies_carry_the_fields_the_adapter_reads() -> None:
    per_alert = (REPO / "contrib/kibana/webhook-body.json").read_text(encoding="utf-8")
    summary = (REPO / "contrib/kibana/webhook-summary-body.hjson").read_text(encoding="utf-8")
    for variable in ("{{rule.id}}", "{{rule.name}}", "{{alert.id}}", "{{alert.actionGroup}}",
                     "{{alert.flapping}}", "{{context.reason}}", "{{date}}"):  # fmt: skip
        assert variable in per_alert
    for variable in ("{{#alerts.all.data}}", "{{kibana.alert.instance.id}}",
                     "{{kibana.alert.status}}", "{{#ParseHjson}}"):  # fmt: skip
        assert variable in summary


_GOLDENS = ["kibana_active.json", "kibana_summary.json", "kibana_recovered.json"]


@FUZZ
@given(json_values | st.sampled_from(_GOLDENS).flatmap(lambda name: mutated(golden(name))))
def test_any_or_mutated_bodies_give_alerts_or_a_payload_error(
    rules: Rules, payload: object
) -> None:
    result = outcome(kibana.parse, payload, rules)
    assert isinstance(result, list) or result.problems


async def test_the_kibana_route_accepts_a_summary(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=IngestSettings()
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/api/v1/alerts/kibana", json=golden("kibana_summary.json"))
    assert response.status == 202, await response.text()
    assert (await response.json())["accepted"] == 2
    body = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] >= 1)
    assert {a["source"] for i in body["incidents"] for a in i["sample"]} == {"kibana"}


def test_a_bad_alert_in_a_summary_costs_only_itself(rules: Rules) -> None:
    body = golden("kibana_summary.json")
    body["alerts"][0].pop("id")
    with pytest.raises(PartlyRefusedError) as caught:
        kibana.parse(body, AdapterContext(T0, rules))
    assert [a.source_id.split("/")[1] for a in caught.value.alerts] == ["web-2.example.org"]
    assert [r.problem.field for r in caught.value.refusals] == ["alerts[0].id"]
