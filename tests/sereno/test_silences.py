"""Silences by API, through the whole app: a silenced alert opens nothing and is recorded;
expiring the silence lets the alert through again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import Settings
from sereno.app import create_app
from sereno.auth.principal import Role
from tests.sereno.auth_kit import token_for
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

DEPLOY = {
    "match": {"resources": "web-*", "names": ["HTTP*"]},
    "duration": "2h",
    "comment": "Deploying the citizen portal, CHG-1234",
}


def _http_down(resource: str) -> dict[str, str]:
    return {"name": "HTTPDown", "resource": resource, "severity": "critical", "id": resource}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    """A client acting as ana.garcia, an operator, on every request."""
    client = await aiohttp_client(create_app(storage_settings))
    client.session.headers.update(await token_for(client, "ana.garcia", Role.OPERATOR))
    return client


async def test_a_silenced_alert_opens_nothing_and_is_recorded(client: Client) -> None:
    made = await client.post("/api/v1/silences", json=DEPLOY)
    assert made.status == 201
    silence = await made.json()
    assert silence["id"].startswith("SIL-")
    assert silence["created_by"] == "ana.garcia"
    assert (await client.post("/api/v1/alerts/generic", json=_http_down("web-3"))).status == 202
    assert (await client.post("/api/v1/alerts/generic", json=_http_down("mail-1"))).status == 202
    body = await wait_for(client, "/api/v1/suppressed", lambda b: b["count"] == 1)
    [held] = body["suppressed"]
    assert (held["resource"], held["by"]) == ("web-3", f"silence:{silence['id']}")
    assert "CHG-1234" in held["reason"]
    incidents = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] == 1)
    assert incidents["incidents"][0]["sample"][0]["resource"] == "mail-1"
    listed = await (await client.get("/api/v1/silences?active=true")).json()
    assert [s["id"] for s in listed["silences"]] == [silence["id"]]


async def test_expiring_a_silence_lets_the_alert_through(client: Client) -> None:
    silence = await (await client.post("/api/v1/silences", json=DEPLOY)).json()
    await client.post("/api/v1/alerts/generic", json=_http_down("web-3"))
    await wait_for(client, "/api/v1/suppressed", lambda b: b["count"] == 1)
    expired = await client.delete(f"/api/v1/silences/{silence['id']}")
    assert expired.status == 200
    assert (await expired.json())["active"] is False
    # The sender repeats the still-firing alert: with the silence gone it is news again.
    await client.post("/api/v1/alerts/generic", json=_http_down("web-3"))
    body = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] == 1)
    assert body["incidents"][0]["sample"][0]["resource"] == "web-3"
    listed = await (await client.get("/api/v1/silences")).json()
    assert [s["active"] for s in listed["silences"]] == [False]  # kept, for the record


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"comment": ""}, "comment"),
        ({"created_by": "boss"}, "created_by"),  # the author is who signed in
        ({"match": {"resourcez": "web-*"}}, "match.resourcez"),
        ({"match": {}}, "match would silence every alert"),
        ({"duration": "soon"}, "duration"),
        ({"ends_at": "2026-11-20T10:00:00Z"}, "exactly one of ends_at"),
        ({"duration": "-1h"}, "duration"),
    ],
)
async def test_a_bad_silence_is_refused_naming_the_field(
    client: Client, change: dict[str, object], field: str
) -> None:
    response = await client.post("/api/v1/silences", json=DEPLOY | change)
    assert response.status == 422
    body = await response.json()
    assert field in str(body), body
    assert (await client.get("/healthz")).status == 200


async def test_a_silence_in_the_past_or_unknown_is_refused(client: Client) -> None:
    past = {k: v for k, v in DEPLOY.items() if k != "duration"} | {
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2020-01-02T00:00:00Z",
    }  # fmt: skip
    response = await client.post("/api/v1/silences", json=past)
    assert response.status == 422
    assert (await response.json())["detail"][0]["field"] == "ends_at"
    missing = await client.delete("/api/v1/silences/SIL-404")
    assert missing.status == 404
    assert "SIL-404" in (await missing.json())["error"]
