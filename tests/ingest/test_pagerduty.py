"""PagerDuty Events API v2 adapter.

Golden payloads follow PagerDuty's published format: the example event of
https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json and
https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (acknowledge and resolve
carry routing_key, dedup_key and event_action only; error and success bodies as documented).
"""

from __future__ import annotations

import json
import string
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.models import Alert, AlertStatus, Severity
from core.rules import Rules, SourceSeverity
from ingest.adapters import AdapterContext, pagerduty
from ingest.problems import FieldProblem, PayloadError
from tests.conftest import T0
from tests.ingest.kit import (
    FUZZ,
    check_one_alert_or_problems,
    json_values,
    mutated,
    outcome,
)

GOLDEN = Path(__file__).parent / "golden"
ROUTING_KEY = "e93facc04764012d7bfb002500d5d1a6"


def _golden(name: str) -> dict[str, Any]:
    loaded = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _trigger(**changes: Any) -> dict[str, Any]:
    event = _golden("pagerduty_trigger.json")
    event["payload"].update(changes)
    return event


def _parse(payload: object, rules: Rules) -> Alert:
    [alert] = pagerduty.parse(payload, AdapterContext(T0, rules))
    return alert


def _fields(payload: object, rules: Rules) -> set[str]:
    with pytest.raises(PayloadError) as caught:
        pagerduty.parse(payload, AdapterContext(T0, rules))
    return {p.field for p in caught.value.problems}


def test_trigger(rules: Rules) -> None:
    [alert] = pagerduty.parse(_golden("pagerduty_trigger.json"), AdapterContext(T0, rules))
    assert alert.source == "pagerduty"
    assert alert.source_id == "srv01/mysql"
    assert alert.status is AlertStatus.FIRING
    assert not alert.acknowledged
    assert alert.name == "disk"  # payload.class
    assert alert.summary == "DISK at 99% on machine prod-datapipe03.example.com"
    assert alert.resource == "prod-datapipe03.example.com"
    assert alert.service == "prod-datapipe"  # payload.group
    assert alert.severity is Severity.CRITICAL
    assert alert.labels == {
        "free space": "1%",
        "ping time": "1500ms",
        "load avg": "0.75",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
    }
    assert ROUTING_KEY not in alert.labels.values()
    assert alert.annotations == {
        "client": "Sample Monitoring Service",
        "client_url": "https://monitoring.service.com",
    }
    assert alert.starts_at == T0 - timedelta(minutes=1, seconds=47.685)  # "+0000" offset
    assert alert.ends_at is None
    assert alert.received_at == T0
    assert alert.source_url == "http://pagerduty.example.com"  # links[0].href
    # A known value: a change of the hashing would silently split every open incident.
    assert alert.fingerprint == "pagerduty:3a801501091def462b60"


def test_acknowledge_and_resolve_hit_the_trigger_fingerprint(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    [trigger] = pagerduty.parse(_golden("pagerduty_trigger.json"), ctx)
    [ack] = pagerduty.parse(_golden("pagerduty_acknowledge.json"), ctx)
    [resolve] = pagerduty.parse(_golden("pagerduty_resolve.json"), ctx)
    assert trigger.fingerprint == ack.fingerprint == resolve.fingerprint
    assert (ack.status, ack.acknowledged) == (AlertStatus.FIRING, True)
    assert (resolve.status, resolve.acknowledged) == (AlertStatus.RESOLVED, False)
    assert ack.source_id == resolve.source_id == "srv01/mysql"
    assert resolve.name == "PagerDuty alert srv01/mysql"  # no payload: named by its key
    assert resolve.ends_at == T0


def test_same_dedup_key_on_another_integration_is_another_alert(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    other = _golden("pagerduty_resolve.json") | {"routing_key": "f" * 32}
    [first] = pagerduty.parse(_golden("pagerduty_resolve.json"), ctx)
    [second] = pagerduty.parse(other, ctx)
    assert first.fingerprint != second.fingerprint


def test_trigger_without_dedup_key_gets_a_generated_one(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    event = _golden("pagerduty_trigger.json")
    del event["dedup_key"]
    [one] = pagerduty.parse(event, ctx)
    [two] = pagerduty.parse(event | {"dedup_key": ""}, ctx)
    for alert in (one, two):
        assert len(alert.source_id) == 32
        assert set(alert.source_id) <= set(string.hexdigits)
    assert one.source_id != two.source_id  # random, as PagerDuty's own
    # The route answers with it, so the sender can acknowledge and resolve later...
    assert pagerduty.success_body(one.source_id) == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": one.source_id,
    }
    # ...and that resolve lands on the same fingerprint.
    resolve = {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": one.source_id}
    assert pagerduty.parse(resolve, ctx)[0].fingerprint == one.fingerprint


def test_trigger_requires_summary_source_and_severity(rules: Rules) -> None:
    event = _trigger()
    for name in ("summary", "source", "severity"):
        del event["payload"][name]
    assert _fields(event, rules) == {"payload.summary", "payload.source", "payload.severity"}
    assert _fields(_trigger(summary="  ", source=""), rules) == {
        "payload.summary",
        "payload.source",
    }
    event = _golden("pagerduty_trigger.json")
    del event["payload"]
    assert _fields(event, rules) == {"payload"}


def test_acknowledge_and_resolve_require_dedup_key(rules: Rules) -> None:
    for action in ("acknowledge", "resolve"):
        event = {"routing_key": ROUTING_KEY, "event_action": action}
        assert _fields(event, rules) == {"dedup_key"}
        assert _fields(event | {"dedup_key": " "}, rules) == {"dedup_key"}


def test_limits_of_routing_key_and_dedup_key(rules: Rules) -> None:
    ctx = AdapterContext(T0, rules)
    assert _fields(_golden("pagerduty_resolve.json") | {"routing_key": "short"}, rules) == {
        "routing_key"
    }
    assert _fields(_golden("pagerduty_resolve.json") | {"dedup_key": "k" * 256}, rules) == {
        "dedup_key"
    }
    [alert] = pagerduty.parse(_golden("pagerduty_resolve.json") | {"dedup_key": "k" * 255}, ctx)
    assert alert.source_id == "k" * 255


def test_wrong_types_and_words_name_the_field(rules: Rules) -> None:
    assert _fields(_trigger(severity="fatal"), rules) == {"payload.severity"}
    assert _fields(_trigger(summary=42), rules) == {"payload.summary"}
    assert _fields(_golden("pagerduty_resolve.json") | {"event_action": "close"}, rules) == {
        "event_action"
    }
    assert _fields(_golden("pagerduty_resolve.json") | {"links": [{"text": "x"}]}, rules) == {
        "links[0].href"
    }
    assert _fields(["not", "an", "event"], rules) == {"(body)"}
    assert _fields({"event_action": "trigger"}, rules) == {"routing_key"}


def test_long_text_is_truncated_not_refused(rules: Rules) -> None:
    event = _trigger(summary="x" * 5000, source="h" * 700, **{"class": ""})
    [alert] = pagerduty.parse(event, AdapterContext(T0, rules))
    assert alert.summary == "x" * 1024  # as PagerDuty does
    assert alert.name == "x" * 512
    assert len(alert.resource) == 512


def test_custom_details_are_flattened_into_labels(rules: Rules) -> None:
    details = {"service": "payroll", "db": {"host": "db-1", "port": 5432}, "tags": ["a", "b"]}
    [alert] = pagerduty.parse(_trigger(custom_details=details), AdapterContext(T0, rules))
    assert alert.service == "payroll"  # custom_details.service wins over payload.group
    assert alert.labels["db.host"] == "db-1"
    assert alert.labels["db.port"] == "5432"
    assert alert.labels["tags"] == '["a","b"]'
    [alert] = pagerduty.parse(_trigger(custom_details="free text"), AdapterContext(T0, rules))
    assert alert.labels["custom_details"] == "free text"
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(50):
        deep = {"d": deep}
    [alert] = pagerduty.parse(_trigger(custom_details=deep), AdapterContext(T0, rules))
    assert any(key.startswith("d.d.d.d.d") for key in alert.labels)


@pytest.mark.parametrize(
    "timestamp",
    [
        "yesterday",
        "2026-11-20T07:58:12",  # no zone: ambiguous
        "1999-12-31T23:59:59Z",
        "2026-11-22T08:00:00Z",  # two days ahead
        "9999-12-31T23:59:59-23:59",
        1763625492,
        None,
    ],
)
def test_bad_timestamp_falls_back_to_receipt_time(rules: Rules, timestamp: object) -> None:
    # PagerDuty documents payload.timestamp as optional: a bad one never drops the alert.
    [alert] = pagerduty.parse(_trigger(timestamp=timestamp), AdapterContext(T0, rules))
    assert alert.starts_at == T0


def test_source_url_is_only_ever_a_web_link(rules: Rules) -> None:
    event = _golden("pagerduty_trigger.json")
    event["links"] = [{"href": "javascript:alert(1)"}]
    [alert] = pagerduty.parse(event, AdapterContext(T0, rules))
    assert alert.source_url == "https://monitoring.service.com"  # client_url
    event["client_url"] = "data:text/html,hi"
    [alert] = pagerduty.parse(event, AdapterContext(T0, rules))
    assert alert.source_url == ""


def test_operator_mapping_of_severity_words(rules: Rules) -> None:
    mapped = rules.model_copy(
        update={"severity": {"pagerduty": SourceSeverity(map={"error": Severity.CRITICAL})}}
    )
    [alert] = pagerduty.parse(_trigger(severity="error"), AdapterContext(T0, mapped))
    assert alert.severity is Severity.CRITICAL
    [alert] = pagerduty.parse(_trigger(severity="error"), AdapterContext(T0, rules))
    assert alert.severity is Severity.MAJOR


def test_error_body_is_pagerdutys_shape(rules: Rules) -> None:
    with pytest.raises(PayloadError) as caught:
        pagerduty.parse({"routing_key": "x", "event_action": "resolve"}, AdapterContext(T0, rules))
    body = pagerduty.error_body(caught.value.problems)
    assert body["status"] == "invalid event"
    assert body["message"] == "Event object is invalid"
    assert body["errors"] == [
        "routing_key: length is incorrect (should be 32 characters)",
        "dedup_key: missing or blank (required for resolve)",
    ]
    assert pagerduty.error_body([FieldProblem("(body)", "x")])["errors"] == ["(body): x"]


def test_text_that_is_not_unicode_is_refused(rules: Rules) -> None:
    # json.loads turns the escape into a lone surrogate, which UTF-8 cannot encode.
    event = _golden("pagerduty_resolve.json") | {"dedup_key": json.loads('"a\\ud800"')}
    assert _fields(event, rules) == {"dedup_key"}


@st.composite
def _mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(
        st.sampled_from(
            ["pagerduty_trigger.json", "pagerduty_acknowledge.json", "pagerduty_resolve.json"]
        )
    )
    event = _golden(name)
    if isinstance(event.get("payload"), dict) and draw(st.booleans()):
        event["payload"] = draw(mutated(event["payload"]))
    return draw(mutated(event))


@FUZZ
@given(json_values)
def test_any_json_gives_alerts_or_a_payload_error(rules: Rules, payload: object) -> None:
    check_one_alert_or_problems(outcome(pagerduty.parse, payload, rules))


@FUZZ
@given(_mutated_events())
def test_mutated_events_give_alerts_or_a_payload_error(
    rules: Rules, payload: dict[str, Any]
) -> None:
    result = outcome(pagerduty.parse, payload, rules)
    check_one_alert_or_problems(result)
    if isinstance(result, PayloadError):
        assert pagerduty.error_body(result.problems)["errors"]


def test_alertmanager_events_are_about_their_alerts_not_alertmanager(rules: Rules) -> None:
    """Alertmanager's default PagerDuty event: source "Alertmanager", the alerts as text in
    custom_details.firing, the cluster as group (the operator's choice)."""
    alert = _parse(_golden("pagerduty_from_alertmanager.json"), rules)
    assert alert.resource == "db-7"  # the instance, normalised by the rules
    assert alert.service == "node-exporter"
    assert alert.name == "NodeDown"
    assert alert.labels["cluster"] == "prod-eu"
    assert alert.labels["instance"] == "db-7.example.org:9100"


def test_alertmanager_json_details_give_the_labels_the_group_shares(rules: Rules) -> None:
    alert = _parse(_golden("pagerduty_from_alertmanager_json_details.json"), rules)
    assert alert.service == "checkout"
    assert alert.resource == ""  # two instances: no one of them is the group's resource
    assert alert.name == "HighErrorRate"
    assert "instance" not in alert.labels


def test_two_groups_of_one_cluster_are_two_resources_and_services(rules: Rules) -> None:
    node = _parse(_golden("pagerduty_from_alertmanager.json"), rules)
    errors = _parse(_golden("pagerduty_from_alertmanager_json_details.json"), rules)
    assert (node.resource, node.service) != (errors.resource, errors.service)
    assert "alertmanager" not in {node.resource, errors.resource}


def test_custom_fields_name_resource_and_service(rules: Rules) -> None:
    event = _golden("pagerduty_from_alertmanager.json")
    event["payload"]["custom_details"] |= {"resource": "db-cluster-7", "service": "billing"}
    alert = _parse(event, rules)
    assert (alert.resource, alert.service) == ("db-cluster-7", "billing")
    # Any other sender keeps its payload.source as the resource.
    assert _parse(_golden("pagerduty_trigger.json"), rules).resource.startswith("prod-datapipe03")
