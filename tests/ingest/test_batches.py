"""One bad alert in a batch costs only itself: the others are accepted, and the answer
says which were refused and why. Only a batch with nothing good is refused whole."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import IngestSettings, Settings
from core.rules import Rules
from ingest.adapters import Adapter, AdapterContext, alertmanager, generic, grafana, prometheus
from ingest.adapters.batch import PartlyRefusedError
from ingest.problems import PayloadError
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES, T0
from tests.ingest.kit import golden
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def _alertmanager_with_bad_times() -> dict[str, Any]:
    """The golden group, its second alert with a start that is no time and a third with
    one in 1970."""
    body = golden("alertmanager_firing.json")
    good, second = body["alerts"]
    third = copy.deepcopy(second)
    second["startsAt"] = "yesterday"
    third["labels"]["instance"] = "web-3.example.org:9100"
    third["startsAt"] = "1970-01-01T00:00:00Z"
    body["alerts"] = [good, second, third]
    return body


async def test_alertmanager_group_with_bad_timestamps_keeps_its_good_alert(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=IngestSettings()
    )
    client = await aiohttp_client(create_app(settings))
    response = await client.post("/api/v1/alerts/alertmanager", json=_alertmanager_with_bad_times())
    assert response.status == 202, await response.text()
    body = await response.json()
    assert body["accepted"] == 1
    assert [(r["index"], r["field"]) for r in body["refused"]] == [
        (1, "alerts[1].startsAt"),
        (2, "alerts[2]"),  # the whole alert: its start lies before any monitoring
    ]
    assert "starts_at 1970-01-01" in body["refused"][1]["problem"]
    incidents = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] == 1)
    [incident] = incidents["incidents"]
    assert [a["resource"] for a in incident["sample"]] == ["web-1"]


async def test_a_batch_with_nothing_good_is_refused_whole(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=IngestSettings()
    )
    client = await aiohttp_client(create_app(settings))
    body = _alertmanager_with_bad_times()
    body["alerts"] = body["alerts"][1:]
    response = await client.post("/api/v1/alerts/alertmanager", json=body)
    assert response.status == 422
    fields = [d["field"] for d in (await response.json())["detail"]]
    assert fields == ["alerts[0].startsAt", "alerts[1]"]


def _batches() -> list[tuple[Adapter, object, str]]:
    grafana_body = golden("grafana_firing.json")
    grafana_body["alerts"].append({"status": "firing", "labels": {}})
    return [
        (grafana.parse, grafana_body, "alerts[1]."),
        (
            generic.parse,
            [{"name": "DiskFull", "resource": "db-1"}, {"name": "", "resource": "db-2"}],
            "[1].name",
        ),
        (alertmanager.parse, _alertmanager_with_bad_times(), "alerts[1].startsAt"),
    ]


@pytest.mark.parametrize(("parse", "payload", "field"), _batches())
def test_each_batch_source_refuses_only_its_bad_items(
    rules: Rules, parse: Adapter, payload: object, field: str
) -> None:
    with pytest.raises(PartlyRefusedError) as caught:
        parse(payload, AdapterContext(T0, rules))
    assert caught.value.alerts
    assert any(r.problem.field.startswith(field) for r in caught.value.refusals)


def test_prometheus_api_refuses_only_the_alert_without_a_name(rules: Rules) -> None:
    posted = [
        {"labels": {"alertname": "A", "instance": "h-1"}},
        {"labels": {"instance": "h-2"}},
    ]
    with pytest.raises(PartlyRefusedError) as caught:
        prometheus.parse(posted, AdapterContext(T0, rules))
    assert [a.labels["instance"] for a in caught.value.alerts] == ["h-1"]
    assert [(r.index, r.problem.field) for r in caught.value.refusals] == [
        (1, "alerts[1].labels.alertname")
    ]
    with pytest.raises(PayloadError) as whole:
        prometheus.parse(posted[1:], AdapterContext(T0, rules))
    assert not isinstance(whole.value, PartlyRefusedError)
