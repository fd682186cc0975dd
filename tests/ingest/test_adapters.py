"""Adapters against payloads written from the vendors' published formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.models import AlertStatus, Severity
from core.rules import Rules
from ingest.adapters import AdapterContext, alertmanager, generic
from ingest.problems import PayloadError
from tests.conftest import T0

GOLDEN = Path(__file__).parent / "golden"


def _golden(name: str) -> object:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def test_alertmanager_firing_group(rules: Rules) -> None:
    alerts = alertmanager.parse(_golden("alertmanager_firing.json"), AdapterContext(T0, rules))
    assert [a.name for a in alerts] == ["InstanceDown", "InstanceDown"]
    first = alerts[0]
    assert first.source == "alertmanager"
    assert first.source_id == "3d5b2e4f7a9c1b08"
    assert first.status is AlertStatus.FIRING
    assert first.resource == "web-1"  # port and the example's domain suffix removed
    assert first.service == "node"
    assert first.severity is Severity.CRITICAL
    assert first.summary == "web-1.example.org:9100 has been down for more than 1 minute."
    assert first.ends_at is None  # Go's zero time means "no end"
    assert first.received_at == T0
    assert first.group_key == '{}:{alertname="InstanceDown"}'
    assert first.source_url.startswith("http://prometheus.example.org:9090/graph")


def test_alertmanager_resolved_group(rules: Rules) -> None:
    alerts = alertmanager.parse(_golden("alertmanager_resolved.json"), AdapterContext(T0, rules))
    assert {a.status for a in alerts} == {AlertStatus.RESOLVED}
    assert alerts[0].ends_at is not None


def test_fingerprints_are_stable_and_label_order_free(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    payload = _golden("alertmanager_firing.json")
    first = alertmanager.parse(payload, ctx)
    assert isinstance(payload, dict)
    for alert in payload["alerts"]:
        alert["labels"] = dict(reversed(list(alert["labels"].items())))
    again = alertmanager.parse(payload, ctx)
    assert [a.fingerprint for a in first] == [a.fingerprint for a in again]
    # A known value: a change of the hashing would silently split every open incident.
    assert first[0].fingerprint == "alertmanager:7ac3fb5b41429568ae09"


def test_alertmanager_problems_name_the_field(rules: Rules) -> None:
    payload = {"alerts": [{"status": "burning", "labels": {"alertname": "A"}}]}
    with pytest.raises(PayloadError) as caught:
        alertmanager.parse(payload, AdapterContext(T0, rules))
    fields = {p.field for p in caught.value.problems}
    assert fields == {"alerts[0].status", "alerts[0].startsAt"}


def test_naive_timestamps_are_refused(rules: Rules) -> None:
    payload = {
        "alerts": [
            {"status": "firing", "labels": {"alertname": "A"}, "startsAt": "2026-11-20T08:00:00"}
        ]
    }
    with pytest.raises(PayloadError) as caught:
        alertmanager.parse(payload, AdapterContext(T0, rules))
    [problem] = caught.value.problems
    assert problem.field == "alerts[0].startsAt"
    assert "time zone" in problem.problem


def test_generic_single_and_list(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [one] = generic.parse({"name": "DiskFull", "resource": "db-1", "severity": "Critical"}, ctx)
    assert (one.name, one.resource, one.severity) == ("DiskFull", "db-1", Severity.CRITICAL)
    assert one.starts_at == T0
    many = generic.parse([{"name": "A", "id": "x-1"}, {"name": "B", "status": "resolved"}], ctx)
    assert [a.status for a in many] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert many[0].source_id == "x-1"


def test_generic_problems_name_the_item_and_field(rules: Rules) -> None:
    with pytest.raises(PayloadError) as caught:
        generic.parse([{"name": "A"}, {"name": ""}], AdapterContext(T0, rules))
    assert [p.field for p in caught.value.problems] == ["[1].name"]
