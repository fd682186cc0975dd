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
