"""Hostile and broken input: every adapter gives alerts or a 4xx naming the field, never an
exception; the server keeps serving."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from core.bus import Stream
from core.clock import WallClock
from core.config import IngestSettings, Settings
from core.metrics import make_ingest_metrics
from core.rules import RulesRef, load_rules
from ingest.problems import PayloadError
from ingest.receiver import ADAPTERS, Receiver
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
GOLDEN = Path(__file__).parent / "golden"

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda kids: (
        st.lists(kids, max_size=5) | st.dictionaries(st.text(max_size=10), kids, max_size=5)
    ),
    max_leaves=25,
)


class _NoBus:
    """adapt() never publishes; a receiver needs a bus all the same."""

    async def publish(self, _stream: Stream, _bodies: object) -> list[str]:
        raise AssertionError("adapt must not publish")


def _receiver() -> Receiver:
    rules = RulesRef(load_rules(EXAMPLE_RULES))
    metrics = make_ingest_metrics(CollectorRegistry())
    return Receiver(_NoBus(), rules, WallClock(), metrics, IngestSettings())  # type: ignore[arg-type]


RECEIVER = _receiver()
SOURCES = sorted({*ADAPTERS, *RECEIVER._rules.current.mappings})


def _goldens() -> list[object]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(GOLDEN.glob("*.json"))]


def _mutate(value: object, draw: st.DrawFn) -> object:
    """Replace, drop or retype one value somewhere inside `value`."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        action = draw(st.sampled_from(["drop", "replace", "recurse"]))
        copy = dict(value)
        if action == "drop":
            del copy[key]
        elif action == "replace":
            copy[key] = draw(JSON)
        else:
            copy[key] = _mutate(copy[key], draw)
        return copy
    if isinstance(value, list) and value:
        index = draw(st.integers(0, len(value) - 1))
        copy_list = list(value)
        copy_list[index] = _mutate(copy_list[index], draw)
        return copy_list
    return draw(JSON)


@st.composite
def mutated_goldens(draw: st.DrawFn) -> object:
    payload = draw(st.sampled_from(_goldens()))
    for _ in range(draw(st.integers(1, 3))):
        payload = _mutate(payload, draw)
    return payload


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(SOURCES), payload=JSON | mutated_goldens())
def test_any_json_to_any_receiver_gives_alerts_or_a_payload_error(
    source: str, payload: object
) -> None:
    with contextlib.suppress(PayloadError):
        alerts = RECEIVER.adapt(source, payload)
        for alert in alerts:  # whatever is accepted can be stored
            alert.model_dump_json()


def _am(**alert: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": "firing",
        "labels": {"alertname": "Hostile"},
        "startsAt": "2026-11-20T08:00:00Z",
    }
    return {"alerts": [{**base, **alert}]}


HOSTILE = [
    ("absurd past", _am(startsAt="1970-01-01T00:00:00Z"), 422, "starts_at"),
    ("absurd future", _am(startsAt="2999-01-01T00:00:00Z"), 422, "starts_at"),
    ("year zero", _am(startsAt="0000-01-01T00:00:00Z"), 422, "startsAt"),
    ("huge label", _am(labels={"alertname": "A", "x": "v" * 100_000}), 422, "labels.x"),
    ("too many labels", _am(labels={f"l{i}": "v" for i in range(300)} | {"alertname": "A"}),
     422, "labels"),
    ("label of wrong type", _am(labels={"alertname": "A", "n": 5}), 422, "labels.n"),
    ("nested labels", _am(labels={"alertname": {"a": "b"}}), 422, "labels.alertname"),
]  # fmt: skip

ACCEPTED_AS_TEXT = [
    ("NUL bytes", "nul\u0000byte"),
    ("HTML", "<script>alert(1)</script><img src=x onerror=alert(2)>"),
    ("template syntax", "{{ 7*7 }} {% for x in y %} ${jndi:ldap://x} #{1+1}"),
    ("right-to-left and emoji", "\u202edisk 🔥 μ 漢字 \U0001f600 \u200b"),
    ("combining marks", "Z\u0351\u0352\u0353a\u0300\u0301l\u0302go"),
]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings))


@pytest.mark.parametrize(("case", "body", "status", "field"), HOSTILE, ids=[c[0] for c in HOSTILE])
async def test_hostile_values_are_refused_naming_the_field(
    client: Client, case: str, body: dict[str, object], status: int, field: str
) -> None:
    response = await client.post("/api/v1/alerts/alertmanager", json=body)
    assert response.status == status, case
    error = await response.json()
    assert field in json.dumps(error), error
    assert (await client.get("/healthz")).status == 200


@pytest.mark.parametrize(("case", "text"), ACCEPTED_AS_TEXT, ids=[c[0] for c in ACCEPTED_AS_TEXT])
async def test_strange_text_is_kept_exactly_as_text(client: Client, case: str, text: str) -> None:
    response = await client.post(
        "/api/v1/alerts/generic", json={"name": text, "summary": text, "resource": "r"}
    )
    assert response.status == 202, case
    for _ in range(200):
        body = await (await client.get("/api/v1/incidents")).json()
        if body["count"]:
            break
    [incident] = body["incidents"]
    assert incident["sample"][0]["name"] == text
    assert incident["sample"][0]["summary"] == text
