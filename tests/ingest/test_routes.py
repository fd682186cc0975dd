"""The vendor-compatible routes through the real HTTP app: PagerDuty's /v2/enqueue and
CloudWatch through SNS with its subscription handshake."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.config import IngestSettings, Settings, SourceSettings
from ingest.adapters.cloudwatch import SubscriptionRequest
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
GOLDEN = Path(__file__).parent / "golden"
TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"


def _golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


class RecordingConfirmer:
    """Stands in for Amazon SNS, which cannot be reached from here."""

    def __init__(self) -> None:
        self.confirmed: list[SubscriptionRequest] = []

    async def confirm(self, request: SubscriptionRequest) -> None:
        self.confirmed.append(request)


async def _client(
    aiohttp_client: ClientFactory, tmp_path: Path, ingest: IngestSettings, **extra: Any
) -> Client:
    settings = Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=ingest)
    return await aiohttp_client(create_app(settings, **extra))


async def test_pagerduty_trigger_acknowledge_resolve_by_dedup_key(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    trigger = await client.post("/v2/enqueue", json=_golden("pagerduty_trigger.json"))
    assert trigger.status == 202
    assert await trigger.json() == {
        "status": "success", "message": "Event processed", "dedup_key": "srv01/mysql",
    }  # fmt: skip
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    ack = await client.post("/v2/enqueue", json=_golden("pagerduty_acknowledge.json"))
    assert ack.status == 202
    ticket_id = body["tickets"][0]["id"]
    acked = await wait_for(
        client, f"/api/v1/tickets/{ticket_id}",
        lambda b: any(c["field"] == "acknowledged" for c in b["history"]),
    )  # fmt: skip
    assert acked["status"] == "open"
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    assert incident["status"] == "acknowledged"
    # critical (urgency high) on no known service (impact low): P3, and an acknowledgement
    # carries no severity to lower it
    assert incident["priority"] == "P3"
    resolve = await client.post("/v2/enqueue", json=_golden("pagerduty_resolve.json"))
    assert resolve.status == 202
    await wait_for(client, f"/api/v1/tickets/{ticket_id}", lambda b: b["status"] == "resolved")
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    assert incident["status"] == "resolved"
    assert [(a["source"], a["source_id"]) for a in incident["sample"]] == [
        ("pagerduty", "srv01/mysql")
    ]


async def test_pagerduty_errors_answer_as_pagerduty_does(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    response = await client.post("/v2/enqueue", json={"event_action": "trigger"})
    assert response.status == 400
    body = await response.json()
    assert body["status"] == "invalid event"
    assert any("routing_key" in e for e in body["errors"])


async def test_pagerduty_rate_limit_answers_429_which_its_senders_retry(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    slow = SourceSettings(rate_per_s=0.1, burst=1)
    client = await _client(aiohttp_client, tmp_path, IngestSettings(sources={"pagerduty": slow}))
    event = _golden("pagerduty_trigger.json")
    assert (await client.post("/v2/enqueue", json=event)).status == 202
    limited = await client.post("/v2/enqueue", json=event)
    assert limited.status == 429
    assert "Retry-After" in limited.headers


async def test_cloudwatch_alarm_through_sns_as_text_plain(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "Notification",
    }
    body = (GOLDEN / "cloudwatch_alarm.json").read_bytes()
    response = await client.post("/api/v1/alerts/cloudwatch", data=body, headers=headers)
    assert response.status == 202
    await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)


async def test_sns_subscription_is_confirmed_only_for_allowed_topics(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    confirmer = RecordingConfirmer()
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "x-amz-sns-message-type": "SubscriptionConfirmation",
    }
    body = (GOLDEN / "sns_subscription_confirmation.json").read_bytes()
    closed = await _client(aiohttp_client, tmp_path / "a", IngestSettings(), confirmer=confirmer)
    refused = await closed.post("/api/v1/alerts/cloudwatch", data=body, headers=headers)
    assert refused.status == 403
    assert "sns_confirm_topics" in (await refused.json())["error"]
    assert confirmer.confirmed == []

    allowed = IngestSettings(sources={"cloudwatch": SourceSettings(sns_confirm_topics=(TOPIC,))})
    open_ = await _client(aiohttp_client, tmp_path / "b", allowed, confirmer=confirmer)
    confirmed = await open_.post("/api/v1/alerts/cloudwatch", data=body, headers=headers)
    assert confirmed.status == 200
    assert [c.topic_arn for c in confirmer.confirmed] == [TOPIC]

    hostile = json.loads(body)
    hostile["SubscribeURL"] = "https://attacker.example/?Action=ConfirmSubscription"
    bad = await open_.post("/api/v1/alerts/cloudwatch", data=json.dumps(hostile), headers=headers)
    assert bad.status == 422
    assert (await bad.json())["detail"][0]["field"] == "SubscribeURL"
    assert len(confirmer.confirmed) == 1


async def test_zabbix_problem_opens_and_recovery_resolves_by_event_id(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    problem = await client.post("/api/v1/alerts/zabbix", json=_golden("zabbix_problem.json"))
    assert problem.status == 202
    body = await wait_for(client, "/api/v1/tickets", lambda b: b["count"] == 1)
    ticket_id = body["tickets"][0]["id"]
    recovery = await client.post("/api/v1/alerts/zabbix", json=_golden("zabbix_recovery.json"))
    assert recovery.status == 202
    await wait_for(client, f"/api/v1/tickets/{ticket_id}", lambda b: b["status"] == "resolved")
    [incident] = (await (await client.get("/api/v1/incidents")).json())["incidents"]
    assert [(a["source"], a["source_id"], a["resource"]) for a in incident["sample"]] == [
        ("zabbix", "28341", "db-1")
    ]


async def test_nagios_problem_acknowledgement_and_recovery(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    for name in ("nagios_problem.json", "nagios_ack.json"):
        response = await client.post("/api/v1/alerts/nagios", json=_golden(name))
        assert response.status == 202, await response.text()
    body = await wait_for(
        client, "/api/v1/incidents", lambda b: b["count"] == 1
        and b["incidents"][0]["status"] == "acknowledged",
    )  # fmt: skip
    assert body["incidents"][0]["sample"][0]["resource"] == "web-1"
    recovery = await client.post("/api/v1/alerts/nagios", json=_golden("nagios_recovery.json"))
    assert recovery.status == 202
    await wait_for(client, "/api/v1/incidents", lambda b: b["incidents"][0]["status"] == "resolved")
    [ticket] = (await (await client.get("/api/v1/tickets")).json())["tickets"]
    assert ticket["status"] == "resolved"


async def test_unknown_source_names_the_receivers(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    response = await client.post("/api/v1/alerts/nagois", json={})
    assert response.status == 404
    error = (await response.json())["error"]
    assert "nagois" in error
    assert "nagios" in error
    assert "zabbix" in error


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_nagios_and_icinga_form_posts_and_a_downtime_of_an_ok_host_opens_nothing(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    downtime = (GOLDEN / "icinga2_mail_host_vars.form").read_bytes()
    response = await client.post("/api/v1/alerts/nagios", data=downtime, headers=FORM)
    assert response.status == 202, await response.text()
    problem = (GOLDEN / "nagios_problem.form").read_bytes()
    response = await client.post("/api/v1/alerts/nagios", data=problem, headers=FORM)
    assert response.status == 202, await response.text()
    # Alerts are handled in order: once the problem's incident is there, the downtime
    # notification before it has been handled too, and opened nothing.
    body = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] >= 1)
    assert [a["source_id"] for i in body["incidents"] for a in i["sample"]] == [
        "web-1.corp.example/HTTP"
    ]


async def test_a_form_post_to_a_json_only_source_gets_415_naming_the_types(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    response = await client.post("/api/v1/alerts/alertmanager", data=b"a=b", headers=FORM)
    assert response.status == 415
    assert "application/json" in (await response.json())["error"]


async def test_grafana_legacy_and_datadog_default_and_form_bodies_are_accepted(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    for source, name in (
        ("grafana", "grafana_legacy_alerting.json"),
        ("datadog", "datadog_default_triggered.json"),
    ):
        response = await client.post(f"/api/v1/alerts/{source}", json=_golden(name))
        assert response.status == 202, (name, await response.text())
        assert (await response.json())["accepted"] == 1
    form = (GOLDEN / "datadog_custom.form").read_bytes()
    response = await client.post("/api/v1/alerts/datadog", data=form, headers=FORM)
    assert response.status == 202, await response.text()
