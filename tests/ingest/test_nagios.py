"""Nagios / Icinga 2 adapter and contrib/nagios/sereno-notify.

Golden payloads are the body sereno-notify posts, filled from the macros Nagios Core and
Icinga 2 document (notification types, host and service states, $TIMET$):
https://assets.nagios.com/downloads/nagioscore/docs/nagioscore/4/en/macrolist.html
https://icinga.com/docs/icinga-2/latest/doc/03-monitoring-basics/#runtime-macros
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st
from pytest_aiohttp import AiohttpServer

from core.models import Alert, AlertStatus, Severity
from core.rules import Rules, SourceSeverity
from ingest.adapters import nagios
from ingest.body import parse_form
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
NOTIFY = Path(__file__).resolve().parents[2] / "contrib" / "nagios" / "sereno-notify"
GOLDEN_NAMES = [
    "nagios_problem.json",
    "nagios_recovery.json",
    "nagios_ack.json",
    "icinga_flapping.json",
    "icinga_downtime.json",
]


def _golden(name: str) -> dict[str, Any]:
    return golden(name)


def _parse(payload: object, rules: Rules) -> Alert:
    return parse_one(nagios.parse, payload, rules)


def _fields(payload: object, rules: Rules) -> set[str]:
    return problem_fields(nagios.parse, payload, rules)


def test_problem(rules: Rules) -> None:
    alert = _parse(_golden("nagios_problem.json"), rules)
    assert alert.source == "nagios"
    assert alert.source_id == "web-1.corp.example/HTTP"
    assert alert.status is AlertStatus.FIRING
    assert (alert.acknowledged, alert.flapping, alert.in_downtime) == (False, False, False)
    assert alert.name == "HTTP"
    assert alert.resource == "web-1"
    assert alert.service == ""
    assert alert.severity is Severity.CRITICAL
    assert alert.summary.startswith("HTTP CRITICAL: HTTP/1.1 503 Service Unavailable")
    assert alert.labels == {"host": "web-1.corp.example", "service": "HTTP"}
    assert alert.annotations == {
        "sender": "nagios",
        "notification_type": "PROBLEM",
        "state": "CRITICAL",
        "host_address": "192.0.2.10",
    }
    assert alert.starts_at == datetime(2026, 11, 20, 7, 58, 12, tzinfo=UTC)
    assert alert.ends_at is None
    assert alert.received_at == T0
    assert alert.source_url == ""
    # A known value: a change of the hashing would silently split every open incident.
    assert alert.fingerprint == "nagios:c3b545b6e7ae6126a5d8"


def test_recovery_and_ack_hit_the_problem_fingerprint(rules: Rules) -> None:
    problem = _parse(_golden("nagios_problem.json"), rules)
    recovery = _parse(_golden("nagios_recovery.json"), rules)
    ack = _parse(_golden("nagios_ack.json"), rules)
    assert problem.fingerprint == recovery.fingerprint == ack.fingerprint
    assert recovery.status is AlertStatus.RESOLVED
    assert recovery.ends_at == datetime(2026, 11, 20, 8, 0, 12, tzinfo=UTC)
    assert (ack.status, ack.acknowledged) == (AlertStatus.FIRING, True)
    assert ack.annotations["author"] == "nagiosadmin"
    assert ack.annotations["comment"] == "Restarting php-fpm"


def test_icinga_flapping(rules: Rules) -> None:
    alert = _parse(_golden("icinga_flapping.json"), rules)
    assert (alert.status, alert.flapping) == (AlertStatus.FIRING, True)
    assert alert.source_id == "db-2/disk /var"
    assert alert.name == "disk /var"
    assert alert.severity is Severity.WARNING
    assert alert.annotations["sender"] == "icinga"


def test_icinga_host_downtime(rules: Rules) -> None:
    alert = _parse(_golden("icinga_downtime.json"), rules)
    # The host is UP: entering a downtime is no problem of its own.
    assert (alert.status, alert.in_downtime) == (AlertStatus.RESOLVED, True)
    assert alert.source_id == "app-3.example.org"
    assert alert.name == "Host UP"
    assert alert.resource == "app-3"
    assert alert.labels == {"host": "app-3.example.org"}


def test_host_notifications_are_named_by_state(rules: Rules) -> None:
    body = _golden("icinga_downtime.json") | {"type": "PROBLEM", "state": "DOWN"}
    down = _parse(body, rules)
    assert down.name == "Host DOWN"
    up = _parse(body | {"type": "RECOVERY", "state": "UP"}, rules)
    assert up.status is AlertStatus.RESOLVED
    assert up.fingerprint == down.fingerprint
    # Host and service alerts of one host are different alerts.
    assert (
        down.fingerprint
        != _parse(_golden("nagios_problem.json") | {"host": "app-3.example.org"}, rules).fingerprint
    )


@pytest.mark.parametrize(
    ("kind", "state", "status", "flags"),
    [
        ("PROBLEM", "CRITICAL", AlertStatus.FIRING, ()),
        ("Problem", "WARNING", AlertStatus.FIRING, ()),
        ("RECOVERY", "OK", AlertStatus.RESOLVED, ()),
        ("Recovery", "UP", AlertStatus.RESOLVED, ()),
        ("ACKNOWLEDGEMENT", "CRITICAL", AlertStatus.FIRING, ("acknowledged",)),
        ("Acknowledgement", "DOWN", AlertStatus.FIRING, ("acknowledged",)),
        ("FLAPPINGSTART", "OK", AlertStatus.FIRING, ("flapping",)),
        ("FlappingStart", "CRITICAL", AlertStatus.FIRING, ("flapping",)),
        ("FLAPPINGSTOP", "OK", AlertStatus.RESOLVED, ()),
        ("FLAPPINGSTOP", "CRITICAL", AlertStatus.FIRING, ()),
        ("FLAPPINGDISABLED", "UP", AlertStatus.RESOLVED, ()),
        ("FlappingEnd", "WARNING", AlertStatus.FIRING, ()),
        ("FlappingEnd", "ok", AlertStatus.RESOLVED, ()),
        ("DOWNTIMESTART", "UP", AlertStatus.RESOLVED, ("in_downtime",)),
        ("DOWNTIMESTART", "OK", AlertStatus.RESOLVED, ("in_downtime",)),
        ("DowntimeStart", "CRITICAL", AlertStatus.FIRING, ("in_downtime",)),
        ("DOWNTIMECANCELLED", "OK", AlertStatus.RESOLVED, ()),
        ("DOWNTIMEEND", "OK", AlertStatus.RESOLVED, ()),
        ("DOWNTIMEEND", "UNKNOWN", AlertStatus.FIRING, ()),
        ("DOWNTIMECANCELLED", "DOWN", AlertStatus.FIRING, ()),
        ("DowntimeEnd", "UP", AlertStatus.RESOLVED, ()),
        ("DowntimeRemoved", "UNREACHABLE", AlertStatus.FIRING, ()),
        ("DowntimeRemoved", "OK", AlertStatus.RESOLVED, ()),
        ("CUSTOM", "CRITICAL", AlertStatus.FIRING, ()),
        ("Custom", "OK", AlertStatus.RESOLVED, ()),
    ],
)
def test_notification_types(
    rules: Rules, kind: str, state: str, status: AlertStatus, flags: tuple[str, ...]
) -> None:
    alert = _parse(_golden("nagios_problem.json") | {"type": kind, "state": state}, rules)
    assert alert.status is status
    assert alert.acknowledged is ("acknowledged" in flags)
    assert alert.flapping is ("flapping" in flags)
    assert alert.in_downtime is ("in_downtime" in flags)
    assert (alert.ends_at is not None) is (status is AlertStatus.RESOLVED)


def test_severity_words_follow_the_rules(rules: Rules) -> None:
    mapped = rules.model_copy(
        update={
            "severity": {
                "nagios": SourceSeverity(
                    map={
                        "down": Severity.CRITICAL,
                        "unreachable": Severity.MAJOR,
                        "unknown": Severity.MINOR,
                    }
                )
            }
        }
    )
    body = _golden("icinga_downtime.json") | {"type": "PROBLEM"}
    assert _parse(body | {"state": "DOWN"}, mapped).severity is Severity.CRITICAL
    assert _parse(body | {"state": "UNREACHABLE"}, mapped).severity is Severity.MAJOR
    assert _parse(body | {"state": "UNKNOWN"}, mapped).severity is Severity.MINOR
    assert _parse(body | {"state": "WARNING"}, rules).severity is Severity.WARNING


def test_missing_timestamp_is_the_receipt_time(rules: Rules) -> None:
    body = _golden("nagios_problem.json")
    del body["timestamp"]
    assert _parse(body, rules).starts_at == T0
    assert _parse(body | {"timestamp": ""}, rules).starts_at == T0
    assert _parse(body | {"timestamp": "1795161492"}, rules).starts_at == datetime(
        2026, 11, 20, 7, 58, 12, tzinfo=UTC
    )


def test_problems_name_the_field(rules: Rules) -> None:
    body = _golden("nagios_problem.json")
    assert _fields(body | {"type": "EXPLODED"}, rules) == {"type"}
    assert _fields(body | {"state": "$SERVICESTATE"}, rules) == {"state"}
    assert _fields(body | {"host": "  "}, rules) == {"host"}
    assert _fields(body | {"timestamp": "yesterday"}, rules) == {"timestamp"}
    assert _fields(body | {"timestamp": 86400}, rules) == {"timestamp"}
    assert _fields(body | {"timestamp": 4102444800}, rules) == {"timestamp"}
    assert _fields(body | {"timestamp": "1e999"}, rules) == {"timestamp"}
    assert _fields(body | {"output": ["x"]}, rules) == {"output"}
    del body["host"], body["type"]
    assert _fields(body, rules) == {"host", "type"}
    assert _fields("PROBLEM", rules) == {"(body)"}


def test_long_text_is_truncated_not_refused(rules: Rules) -> None:
    body = _golden("nagios_problem.json") | {
        "host": "h" * 700,
        "service": "s" * 700,
        "output": "o" * 9000,
    }
    alert = _parse(body, rules)
    assert len(alert.name) == 512
    assert len(alert.resource) == 512
    assert len(alert.source_id) == 512
    assert len(alert.summary) == 8192


# --- sereno-notify against a real server ----------------------------------------------------


async def _run_notify(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(NOTIFY),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode()


def _receiver(answers: list[int], received: list[tuple[dict[str, str], object]]) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.json()))
        status = answers.pop(0) if answers else 202
        return web.json_response({"status": status}, status=status)

    app = web.Application()
    app.router.add_post("/api/v1/alerts/nagios", handle)
    return app


_SERVICE_ARGS = (
    "--source", "nagios", "--type", "PROBLEM", "--host", "web-1.corp.example",
    "--host-address", "192.0.2.10", "--service", "HTTP", "--state", "CRITICAL",
    "--output", "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable", "--long-output", "",
    "--author", "", "--comment", "", "--timestamp", "1795161492",
)  # fmt: skip


async def test_notify_posts_what_the_adapter_parses(
    aiohttp_server: AiohttpServer, rules: Rules, tmp_path: Path
) -> None:
    received: list[tuple[dict[str, str], object]] = []
    server = await aiohttp_server(_receiver([], received))
    token_file = tmp_path / "token"
    token_file.write_text("s3cret\n", encoding="utf-8")
    url = str(server.make_url("/")) + "/"
    code, err = await _run_notify("--url", url, "--token-file", str(token_file), *_SERVICE_ARGS)
    assert (code, err) == (0, "")
    [(headers, body)] = received
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["Content-Type"] == "application/json"
    alert = _parse(body, rules)
    assert alert == _parse(
        _golden("nagios_problem.json")
        | {"output": "HTTP CRITICAL: HTTP/1.1 503 Service Unavailable"},
        rules,
    )


async def test_notify_host_notification_without_token(
    aiohttp_server: AiohttpServer, rules: Rules
) -> None:
    received: list[tuple[dict[str, str], object]] = []
    server = await aiohttp_server(_receiver([], received))
    code, _ = await _run_notify(
        "--url", str(server.make_url("")), "--source", "icinga", "--type", "Problem",
        "--host", "app-3", "--state", "DOWN",
    )  # fmt: skip
    assert code == 0
    [(headers, body)] = received
    assert "Authorization" not in headers
    alert = _parse(body, rules)
    assert (alert.name, alert.source_id, alert.starts_at) == ("Host DOWN", "app-3", T0)


async def test_notify_retries_after_a_503(aiohttp_server: AiohttpServer, rules: Rules) -> None:
    received: list[tuple[dict[str, str], object]] = []
    server = await aiohttp_server(_receiver([503, 502], received))
    code, err = await _run_notify(
        "--url", str(server.make_url("")), "--token", "t", "--backoff", "0.05", *_SERVICE_ARGS
    )
    assert (code, err) == (0, "")
    assert len(received) == 3
    assert received[0][1] == received[2][1]


async def test_notify_gives_up_with_a_message(aiohttp_server: AiohttpServer) -> None:
    received: list[tuple[dict[str, str], object]] = []
    server = await aiohttp_server(_receiver([503] * 10, received))
    url = str(server.make_url(""))
    code, err = await _run_notify("--url", url, "--backoff", "0.01", *_SERVICE_ARGS)
    assert code == 1
    assert "Sereno answered 503" in err
    assert len(received) == 6  # the first try and five retries
    received.clear()
    server = await aiohttp_server(_receiver([422], received))
    code, err = await _run_notify("--url", str(server.make_url("")), *_SERVICE_ARGS)
    assert code == 1
    assert "Sereno answered 422" in err
    assert len(received) == 1  # a refusal is not retried


async def test_notify_unreachable_server_fails() -> None:
    code, err = await _run_notify(
        "--url", "http://127.0.0.1:9", "--retries", "1", "--backoff", "0.01", *_SERVICE_ARGS
    )
    assert code == 1
    assert "cannot reach http://127.0.0.1:9/api/v1/alerts/nagios" in err


# --- any input ------------------------------------------------------------------------------

_NEAR = st.one_of(
    json_values,
    st.sampled_from(
        ["", "OK", "up", "DOWN", "FlappingEnd", "downtime-removed", "1795161492", "1e308", "-1"]
    ),
)


def _mutated_notifications() -> st.SearchStrategy[dict[str, Any]]:
    """A golden body with some keys dropped and others replaced by any JSON value."""
    return st.sampled_from(GOLDEN_NAMES).flatmap(lambda n: mutated(_golden(n), _NEAR))


@FUZZ
@given(json_values)
def test_any_json_gives_alerts_or_a_payload_error(rules: Rules, payload: object) -> None:
    check_one_alert_or_problems(outcome(nagios.parse, payload, rules))


@FUZZ
@given(_mutated_notifications())
def test_mutated_notifications_give_alerts_or_a_payload_error(
    rules: Rules, payload: dict[str, Any]
) -> None:
    check_one_alert_or_problems(outcome(nagios.parse, payload, rules))


def test_icinga2_mail_script_environment(rules: Rules) -> None:
    """The environment of the mail-service-notification command in Icinga 2's object type
    reference, posted as it is."""
    alert = _parse(_golden("icinga2_mail_service_env.json"), rules)
    assert alert.status is AlertStatus.FIRING
    assert (alert.name, alert.source_id) == ("disk /var", "db-2.example.org/disk /var")
    assert alert.severity is Severity.CRITICAL
    assert alert.summary.startswith("DISK CRITICAL")
    assert alert.starts_at == datetime(2026, 11, 20, 7, 59, 12, tzinfo=UTC)
    assert alert.annotations["host_address"] == "192.0.2.22"
    # The same service through sereno-notify is the same alert.
    same = _golden("nagios_problem.json") | {"host": "db-2.example.org", "service": "disk /var"}
    assert _parse(same, rules).fingerprint == alert.fingerprint


def _form(name: str) -> dict[str, object]:
    """A form golden as the route hands it to the adapter."""
    return parse_form((GOLDEN / name).read_bytes())


def test_icinga2_mail_command_variables_as_form_fields(rules: Rules) -> None:
    """The variables of Icinga 2's mail-host-notification command, sent with curl -d."""
    alert = _parse(_form("icinga2_mail_host_vars.form"), rules)
    assert (alert.status, alert.in_downtime) == (AlertStatus.RESOLVED, True)
    assert alert.source_id == "app-3.example.org"
    assert alert.name == "Host UP"
    assert alert.annotations["sender"] == "icinga"
    assert alert.annotations["author"] == "icingaadmin"
    assert alert.starts_at == datetime(2026, 11, 20, 7, 50, tzinfo=UTC)


def test_sereno_fields_as_form_fields(rules: Rules) -> None:
    alert = _parse(_form("nagios_problem.form"), rules)
    assert alert == _parse(_golden("nagios_problem.json"), rules).model_copy(
        update={"summary": alert.summary, "annotations": alert.annotations}
    )
    assert alert.starts_at == datetime.fromtimestamp(1795161492, UTC)


@pytest.mark.parametrize(
    ("body", "name", "state"),
    [
        ({"$NOTIFICATIONTYPE$": "PROBLEM", "$HOSTNAME$": "h", "$SERVICEDESC$": "s",
          "$SERVICESTATE$": "WARNING", "$HOSTSTATE$": "UP"}, "s", "WARNING"),
        ({"notification.type": "Problem", "host.name": "h", "host.state": "DOWN"},
         "Host DOWN", "DOWN"),
    ],
)  # fmt: skip
def test_macro_names_with_dollars_and_runtime_macros(
    rules: Rules, body: dict[str, str], name: str, state: str
) -> None:
    alert = _parse(body, rules)
    assert (alert.name, alert.annotations["state"]) == (name, state)


def test_an_implausible_icinga_date_names_the_field(rules: Rules) -> None:
    body = _golden("icinga2_mail_service_env.json") | {"LONGDATETIME": "1999-01-01 00:00:00 +0000"}
    assert _fields(body, rules) == {"long_date_time"}


def test_an_empty_sereno_field_gives_way_to_a_filled_alias(rules: Rules) -> None:
    body = {"type": "PROBLEM", "host": "h", "service": "", "SERVICEDESC": "HTTP",
            "state": "", "SERVICESTATE": "CRITICAL"}  # fmt: skip
    alert = _parse(body, rules)
    assert (alert.name, alert.severity) == ("HTTP", Severity.CRITICAL)
