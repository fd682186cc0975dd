"""Zabbix adapter and the Sereno webhook media type.

Golden payloads are the body contrib/zabbix/media_type_sereno.yaml posts, its macros resolved
as Zabbix 6.0 documents them (a macro not supported in the notification at hand stays literal):
https://www.zabbix.com/documentation/6.0/en/manual/appendix/macros/supported_by_location
https://www.zabbix.com/documentation/6.0/en/manual/config/notifications/media/webhook
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.models import Alert, AlertStatus, Severity
from core.rules import Rules
from ingest.adapters import zabbix
from tests.conftest import T0
from tests.ingest.kit import (
    FUZZ,
    check_one_alert_or_problems,
    golden,
    json_values,
    mutated,
    outcome,
    parse_one,
    problem_fields,
)

GOLDEN = Path(__file__).parent / "golden"
MEDIA_TYPE = Path(__file__).resolve().parents[2] / "contrib" / "zabbix" / "media_type_sereno.yaml"
GOLDEN_NAMES = ["zabbix_problem.json", "zabbix_recovery.json", "zabbix_update_ack.json"]


def _golden(name: str) -> dict[str, Any]:
    return golden(name)


def _parse(payload: object, rules: Rules) -> Alert:
    return parse_one(zabbix.parse, payload, rules)


def _fields(payload: object, rules: Rules) -> set[str]:
    return problem_fields(zabbix.parse, payload, rules)


def test_problem(rules: Rules) -> None:
    alert = _parse(_golden("zabbix_problem.json"), rules)
    assert alert.source == "zabbix"
    assert alert.source_id == "28341"
    assert alert.status is AlertStatus.FIRING
    assert not alert.acknowledged
    assert alert.name == "MySQL: Service is down"
    assert alert.summary == "MySQL: Service is down (Current value: 0)"
    assert alert.resource == "db-1"  # {HOST.HOST}, folded, .corp.example removed
    assert alert.service == "billing"  # the tag named service
    assert alert.severity is Severity.MAJOR  # High
    assert alert.labels == {
        "class": "database",
        "component": "application",
        "scope": "availability",
        "service": "billing",
    }
    assert alert.annotations["host_name"] == "Database 1"
    assert alert.annotations["host_ip"] == "192.0.2.21"
    assert "update_action" not in alert.annotations  # literal macro: missing
    assert alert.starts_at == datetime(2026, 11, 20, 7, 58, 12, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.received_at == T0
    assert alert.source_url == (
        "https://zabbix.example.org/zabbix/tr_events.php?triggerid=23107&eventid=28341"
    )
    assert alert.group_key == ""
    # A known value: a change of the hashing would silently split every open incident.
    assert alert.fingerprint == "zabbix:28d9960b08f86b4a8981"


def test_recovery_resolves_the_problem(rules: Rules) -> None:
    problem = _parse(_golden("zabbix_problem.json"), rules)
    recovery = _parse(_golden("zabbix_recovery.json"), rules)
    assert recovery.fingerprint == problem.fingerprint
    assert recovery.source_id == problem.source_id
    assert recovery.status is AlertStatus.RESOLVED
    assert recovery.starts_at == problem.starts_at
    assert recovery.ends_at == datetime(2026, 11, 20, 7, 59, 40, tzinfo=UTC)


def test_update_with_acknowledgement(rules: Rules) -> None:
    update = _parse(_golden("zabbix_update_ack.json"), rules)
    assert update.status is AlertStatus.FIRING
    assert update.acknowledged
    assert update.fingerprint == _parse(_golden("zabbix_problem.json"), rules).fingerprint
    assert update.annotations["update_user"] == "Ada Lovelace (ada)"
    assert update.annotations["update_message"] == "Looking into it"


@pytest.mark.parametrize(
    ("action", "acknowledged"),
    [
        ("acknowledged", True),
        ("changed severity from Warning to High, acknowledged", True),
        ("commented", False),
        ("unacknowledged", False),
        ("changed severity from Average to High", False),
    ],
)
def test_acknowledged_only_when_the_update_says_so(
    rules: Rules,
    action: str,
    acknowledged: bool,  # noqa: FBT001
) -> None:
    body = _golden("zabbix_update_ack.json") | {"event_update_action": action}
    alert = _parse(body, rules)
    assert alert.acknowledged is acknowledged
    assert alert.status is AlertStatus.FIRING


def test_severities(rules: Rules) -> None:
    expected = {
        "Disaster": Severity.CRITICAL,
        "High": Severity.MAJOR,
        "Average": Severity.MINOR,
        "Warning": Severity.WARNING,
        "Information": Severity.INFO,
        "Not classified": rules.severity_of("zabbix", None),
    }
    for word, severity in expected.items():
        assert (
            _parse(_golden("zabbix_problem.json") | {"event_severity": word}, rules).severity
            is severity
        )
    # No {EVENT.SEVERITY}: the default name of {EVENT.NSEVERITY}.
    body = _golden("zabbix_problem.json") | {"event_severity": "{EVENT.SEVERITY}"}
    assert _parse(body | {"event_nseverity": "5"}, rules).severity is Severity.CRITICAL


def test_unresolved_macros_are_missing(rules: Rules) -> None:
    body = _golden("zabbix_problem.json") | {
        "zabbix_url": "{$ZABBIX.URL}",
        "event_tags": "{EVENT.TAGSJSON}",
        "host_host": "{HOST.HOST}",
        "event_name": "{EVENT.NAME}",
        "event_opdata": "{EVENT.OPDATA}",
        "event_date": "{EVENT.DATE}",
    }
    alert = _parse(body, rules)
    assert alert.source_url == ""
    assert alert.labels == {}
    assert alert.service == ""
    assert alert.resource == "database 1"  # {HOST.NAME}
    assert alert.name == "MySQL server is not available. Check the service and its logs."
    assert alert.starts_at == T0
    body["trigger_description"] = "{TRIGGER.DESCRIPTION}"
    assert _parse(body, rules).name == "Zabbix problem"


def test_recovery_without_recovery_time_ends_on_receipt(rules: Rules) -> None:
    body = _golden("zabbix_recovery.json") | {"event_recovery_date": "{EVENT.RECOVERY.DATE}"}
    assert _parse(body, rules).ends_at == T0


def test_server_time_zone(rules: Rules) -> None:
    body = _golden("zabbix_problem.json") | {"event_timezone": "Europe/Paris"}
    assert _parse(body, rules).starts_at == datetime(2026, 11, 20, 6, 58, 12, tzinfo=UTC)
    body["event_timezone"] = "-03:30"
    assert _parse(body, rules).starts_at == datetime(2026, 11, 20, 11, 28, 12, tzinfo=UTC)
    del body["event_timezone"]
    assert _parse(body, rules).starts_at == datetime(2026, 11, 20, 7, 58, 12, tzinfo=UTC)
    assert _fields(body | {"event_timezone": "Mars/Olympus"}, rules) == {"event_timezone"}


def test_duplicate_tags_keep_every_value(rules: Rules) -> None:
    tags = [{"tag": "service", "value": "a"}, {"tag": "service", "value": "b"}, {"tag": "x"}]
    alert = _parse(_golden("zabbix_problem.json") | {"event_tags": json.dumps(tags)}, rules)
    assert alert.labels == {"service": "a,b", "x": ""}


def test_problems_name_the_field(rules: Rules) -> None:
    problem = _golden("zabbix_problem.json")
    assert _fields(problem | {"event_value": "2"}, rules) == {"event_value"}
    assert _fields(problem | {"event_id": "{EVENT.ID}"}, rules) == {"event_id"}
    del problem["event_id"]
    assert _fields(problem, rules) == {"event_id"}
    problem = _golden("zabbix_problem.json")
    assert _fields(problem | {"event_tags": "[{"}, rules) == {"event_tags"}
    assert _fields(problem | {"event_tags": '{"tag": "x"}'}, rules) == {"event_tags"}
    assert _fields(problem | {"event_date": "20.11.2026"}, rules) == {"event_date"}
    assert _fields(problem | {"event_date": "1999.12.31"}, rules) == {"event_date"}
    assert _fields(problem | {"event_date": "2026.11.25"}, rules) == {"event_date"}
    recovery = _golden("zabbix_recovery.json") | {"event_recovery_time": "25:00:00"}
    assert _fields(recovery, rules) == {"event_recovery_date"}
    assert _fields(problem | {"host_name": ["x"]}, rules) == {"host_name"}
    assert _fields([problem], rules) == {"(body)"}


def test_numbers_are_taken_as_text(rules: Rules) -> None:
    alert = _parse(_golden("zabbix_problem.json") | {"event_id": 28341, "event_value": 1}, rules)
    assert alert.source_id == "28341"


def test_long_text_is_truncated_not_refused(rules: Rules) -> None:
    body = _golden("zabbix_problem.json") | {
        "event_name": "n" * 9000,
        "host_host": "h" * 900,
        "event_id": "9" * 600,
        "zabbix_url": "https://z.example/" + "p" * 5000,
    }
    alert = _parse(body, rules)
    assert len(alert.name) == 512
    assert len(alert.summary) == 8192
    assert len(alert.resource) == 512
    assert len(alert.source_id) == 512
    assert alert.source_url == ""


def test_source_url_is_only_ever_a_web_link(rules: Rules) -> None:
    body = _golden("zabbix_problem.json") | {"zabbix_url": "javascript:alert(1)//"}
    assert _parse(body, rules).source_url == ""


# --- the media type -------------------------------------------------------------------------


def _media_type() -> dict[str, Any]:
    export = yaml.safe_load(MEDIA_TYPE.read_text(encoding="utf-8"))
    [media_type] = export["zabbix_export"]["media_types"]
    assert isinstance(media_type, dict)
    return media_type


def test_media_type_is_a_zabbix_6_webhook_export() -> None:
    export = yaml.safe_load(MEDIA_TYPE.read_text(encoding="utf-8"))
    assert export["zabbix_export"]["version"] == "6.0"
    media_type = _media_type()
    assert media_type["name"] == "Sereno"
    assert media_type["type"] == "WEBHOOK"
    params = {p["name"]: p["value"] for p in media_type["parameters"]}
    assert params["event_id"] == "{EVENT.ID}"
    assert params["event_tags"] == "{EVENT.TAGSJSON}"
    assert params["sereno_url"] == "{$SERENO.URL}"
    assert params["sereno_token"] == "{$SERENO.TOKEN}"  # noqa: S105 - a macro
    assert params["zabbix_url"] == "{$ZABBIX.URL}"
    # Every parameter the golden bodies carry is one the media type sends.
    for name in GOLDEN_NAMES:
        assert set(_golden(name)) <= set(params)
    modes = {t["operation_mode"] for t in media_type["message_templates"]}
    assert modes == {"PROBLEM", "RECOVERY", "UPDATE"}


_NODE_HARNESS = """
const script = require('fs').readFileSync(0, 'utf8');
const input = JSON.parse(process.argv[1]);
const sent = {headers: [], url: null, body: null};
function HttpRequest() {}
HttpRequest.prototype.addHeader = function (h) { sent.headers.push(h); };
HttpRequest.prototype.post = function (url, body) {
  sent.url = url; sent.body = body; return input.answer;
};
HttpRequest.prototype.getStatus = function () { return input.status; };
const Zabbix = {log: function () {}};
try {
  const result = new Function('value', 'HttpRequest', 'Zabbix', script)(
    input.value, HttpRequest, Zabbix);
  console.log(JSON.stringify({result: result, sent: sent}));
} catch (e) {
  console.log(JSON.stringify({error: String(e), sent: sent}));
}
"""


def _run_script(params: dict[str, str], status: int, answer: str = "") -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node missing: install Debian package nodejs")
        pytest.skip("node is not installed (Debian package nodejs)")
    script = _media_type()["script"]
    argument = json.dumps({"value": json.dumps(params), "status": status, "answer": answer})
    done = subprocess.run(
        [node, "-e", _NODE_HARNESS, argument],
        input=script,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    out = json.loads(done.stdout)
    assert isinstance(out, dict)
    return out


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_media_type_script_posts_what_the_adapter_parses(rules: Rules, name: str) -> None:
    params = _golden(name) | {
        "sereno_url": "https://sereno.example.org//",
        "sereno_token": "s3cret",
    }
    out = _run_script(params, 202)
    assert out["result"] == "OK"
    sent = out["sent"]
    assert sent["url"] == "https://sereno.example.org/api/v1/alerts/zabbix"
    assert "Content-Type: application/json" in sent["headers"]
    assert "Authorization: Bearer s3cret" in sent["headers"]
    assert "s3cret" not in sent["body"]
    body = json.loads(sent["body"])
    assert "sereno_token" not in body
    assert _parse(body, rules) == _parse(_golden(name), rules)


def test_media_type_script_fails_loudly(rules: Rules) -> None:
    params = _golden("zabbix_problem.json") | {"sereno_token": "{$SERENO.TOKEN}"}
    out = _run_script(params, 401, "unauthorized")
    assert out["error"] == "Sereno answered 401: unauthorized"
    assert not any(h.startswith("Authorization") for h in out["sent"]["headers"])
    out = _run_script(params | {"sereno_url": "{$SERENO.URL}"}, 202)
    assert "{$SERENO.URL}" in out["error"]
    assert out["sent"]["url"] is None


# --- any input ------------------------------------------------------------------------------

_TEXTY = st.one_of(
    json_values,
    st.sampled_from(["", "0", "1", "{EVENT.ID}", "2026.11.20", "23:59:59", "[]", "Europe/Paris"]),
    st.text(alphabet='0123456789.:+-[]{}" ', max_size=24),
)


def _mutated_events() -> st.SearchStrategy[dict[str, Any]]:
    """A golden body with some keys dropped and others replaced by any JSON value."""
    return st.sampled_from(GOLDEN_NAMES).flatmap(lambda n: mutated(_golden(n), _TEXTY))


@FUZZ
@given(json_values)
def test_any_json_gives_alerts_or_a_payload_error(rules: Rules, payload: object) -> None:
    check_one_alert_or_problems(outcome(zabbix.parse, payload, rules))


@FUZZ
@given(_mutated_events())
def test_mutated_events_give_alerts_or_a_payload_error(
    rules: Rules, payload: dict[str, Any]
) -> None:
    check_one_alert_or_problems(outcome(zabbix.parse, payload, rules))
