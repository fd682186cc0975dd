"""Grafana's webhook contact point and Datadog's webhook integration.

Grafana: https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/
Datadog: https://docs.datadoghq.com/integrations/webhooks/ (variables of the payload template)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.models import AlertStatus, Severity
from core.rules import Rules
from ingest.adapters import AdapterContext, datadog, grafana
from ingest.body import parse_form
from ingest.problems import PayloadError
from tests.conftest import REPO, T0

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str) -> object:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def test_grafana_firing_and_resolved(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [firing] = grafana.parse(_golden("grafana_firing.json"), ctx)
    assert (firing.source, firing.source_id, firing.name) == (
        "grafana",
        "c6eadffa33fcdf37",
        "High memory usage",
    )
    assert (firing.resource, firing.service, firing.severity) == (
        "app-7",
        "intranet",
        Severity.CRITICAL,
    )
    assert firing.summary == "This alert was triggered for zone us-1"
    assert firing.source_url == "https://grafana.example.org/d/abc?viewPanel=4"
    assert firing.group_key.endswith('{alertname="High memory usage"}')
    assert firing.ends_at is None
    [resolved] = grafana.parse(_golden("grafana_resolved.json"), ctx)
    assert resolved.status is AlertStatus.RESOLVED
    assert resolved.fingerprint == firing.fingerprint


def test_grafana_names_the_missing_field(rules: Rules) -> None:
    with pytest.raises(PayloadError) as caught:
        grafana.parse({"alerts": [{"status": "firing", "labels": {}}]}, AdapterContext(T0, rules))
    assert {p.field for p in caught.value.problems} == {"alerts[0].startsAt"}


def test_datadog_triggered_and_recovered(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [triggered] = datadog.parse(_golden("datadog_triggered.json"), ctx)
    assert triggered.status is AlertStatus.FIRING
    assert (triggered.source_id, triggered.resource, triggered.service) == (
        "123456789/host:db-3", "db-3", "payroll",
    )  # fmt: skip
    assert triggered.severity is Severity.MAJOR  # P2
    assert triggered.labels["env"] == "prod"
    assert triggered.starts_at.isoformat() == "2025-11-20T08:00:00+00:00"
    [recovered] = datadog.parse(_golden("datadog_recovered.json"), ctx)
    assert recovered.status is AlertStatus.RESOLVED
    assert recovered.fingerprint == triggered.fingerprint


def test_datadog_unfilled_template_is_named(rules: Rules) -> None:
    template = json.loads((REPO / "contrib/datadog/webhook-payload.json").read_text())
    with pytest.raises(PayloadError) as caught:
        datadog.parse(template, AdapterContext(T0, rules))
    assert {p.field for p in caught.value.problems} == {"alert_id", "title"}


def test_grafana_legacy_alerting_fires_and_resolves_one_alert_per_rule(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [firing] = grafana.parse(_golden("grafana_legacy_alerting.json"), ctx)
    assert (firing.status, firing.name, firing.source_id) == (
        AlertStatus.FIRING,
        "Web CPU alert",
        "1/17",
    )
    assert (firing.resource, firing.service, firing.severity) == (
        "web-4",
        "intranet",
        Severity.CRITICAL,
    )
    assert firing.summary == "CPU above 95% for 5 minutes"
    assert firing.source_url.startswith("https://grafana.example.org/d/hZ7BuVbWz/")
    [ok] = grafana.parse(_golden("grafana_legacy_ok.json"), ctx)
    assert ok.status is AlertStatus.RESOLVED
    assert ok.fingerprint == firing.fingerprint


@pytest.mark.parametrize(("state", "alerts"), [("no_data", 1), ("pending", 0), ("paused", 0)])
def test_grafana_legacy_states(rules: Rules, state: str, alerts: int) -> None:
    body = _golden("grafana_legacy_alerting.json")
    assert isinstance(body, dict)
    assert len(grafana.parse(body | {"state": state}, AdapterContext(T0, rules))) == alerts


def test_grafana_legacy_unknown_state_names_the_field(rules: Rules) -> None:
    body = _golden("grafana_legacy_alerting.json")
    assert isinstance(body, dict)
    with pytest.raises(PayloadError) as caught:
        grafana.parse(body | {"state": "on fire"}, AdapterContext(T0, rules))
    assert [p.field for p in caught.value.problems] == ["state"]


def test_datadog_default_payload_triggers_and_recovers_one_alert(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [triggered] = datadog.parse(_golden("datadog_default_triggered.json"), ctx)
    assert triggered.status is AlertStatus.FIRING
    assert (triggered.name, triggered.source_id) == (
        "Disk usage above 90%",
        "Disk usage above 90%/host:db-3",
    )
    assert triggered.labels == {"scope": "host:db-3", "event_type": "query_alert_monitor"}
    assert triggered.resource == "db-3"
    [recovered] = datadog.parse(_golden("datadog_default_recovered.json"), ctx)
    assert recovered.status is AlertStatus.RESOLVED
    assert recovered.fingerprint == triggered.fingerprint


@pytest.mark.parametrize(
    ("title", "transition", "scope", "name", "severity"),
    [
        ("[Warn] CPU high", "Warn", "", "CPU high", Severity.WARNING),
        ("[P2] [Re-Triggered on {env:prod,host:a}] CPU", "Re-Triggered", "env:prod,host:a",
         "CPU", None),
        ("A title with no transition", "", "", "A title with no transition", None),
    ],
)  # fmt: skip
def test_datadog_titles(
    rules: Rules, title: str, transition: str, scope: str, name: str, severity: Severity | None
) -> None:
    body = _golden("datadog_default_triggered.json")
    assert isinstance(body, dict)
    [alert] = datadog.parse(body | {"title": title}, AdapterContext(T0, rules))
    assert (alert.annotations.get("transition", ""), alert.labels.get("scope", "")) == (
        transition,
        scope,
    )
    assert alert.name == name
    assert alert.status is AlertStatus.FIRING
    if severity is not None:
        assert alert.severity is severity


def test_datadog_documented_variable_names(rules: Rules) -> None:
    body = {
        "title": "Disk usage above 90%",
        "alert_id": "42",
        "alert_transition": "Recovered",
        "alert_scope": "host:db-3",
        "host_name": "db-3.example.org",
        "alert_priority": "P1",
    }
    [alert] = datadog.parse(body, AdapterContext(T0, rules))
    assert (alert.status, alert.source_id, alert.resource) == (
        AlertStatus.RESOLVED,
        "42/host:db-3",
        "db-3",
    )
    assert alert.severity is Severity.CRITICAL


def test_datadog_custom_payload_form_encoded_is_the_same_alert(rules: Rules) -> None:
    form = parse_form((GOLDEN / "datadog_custom.form").read_bytes())
    ctx = AdapterContext(T0, rules)
    assert datadog.parse(form, ctx) == datadog.parse(_golden("datadog_triggered.json"), ctx)
