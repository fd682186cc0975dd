"""Senders keep their own credentials: every source can be required to have one (on by
default beyond loopback), and API tokens and ingest tokens never stand for each other."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import IngestSettings, Secret, Settings, SourceSettings
from sereno.app import create_app, ingest_settings
from sereno.auth.principal import Role
from tests.sereno.auth_kit import token_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

ALERT = {"name": "HTTPDown", "resource": "web-3", "severity": "critical", "id": "web-3"}
PAGE = {"routing_key": "anything", "event_action": "trigger",
        "payload": {"summary": "disk full", "source": "db-1", "severity": "critical"}}  # fmt: skip
INGEST_TOKEN = "an-ingest-token-of-generic"  # noqa: S105 - a test's


def test_required_by_default_only_beyond_loopback(settings: Settings) -> None:
    assert ingest_settings(settings).require_credential is False
    wide = settings.model_copy(update={"listen": "0.0.0.0:8080"})
    assert ingest_settings(wide).require_credential is True
    told = wide.model_copy(update={"ingest": IngestSettings(require_credential=False)})
    assert ingest_settings(told).require_credential is False


@pytest.fixture
async def client(aiohttp_client: ClientFactory, settings: Settings) -> Client:
    ingest = IngestSettings(
        require_credential=True,
        sources={"generic": SourceSettings(token=Secret(value=INGEST_TOKEN))},
    )
    return await aiohttp_client(create_app(settings.model_copy(update={"ingest": ingest})))


async def test_every_source_needs_a_credential_when_required(client: Client) -> None:
    for path, body in (("/api/v1/alerts/nagios", ALERT), ("/v2/enqueue", PAGE),
                       ("/api/v2/alerts", [{"labels": {"alertname": "X"}}])):  # fmt: skip
        refused = await client.post(path, json=body)
        assert refused.status in (400, 401), (path, refused.status)
        assert "credential" in str(await refused.json()), path
    ok = await client.post("/api/v1/alerts/generic", json=ALERT,
                           headers={"Authorization": f"Bearer {INGEST_TOKEN}"})  # fmt: skip
    assert ok.status == 202


async def test_api_and_ingest_tokens_never_stand_for_each_other(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    as_ingest = await client.post("/api/v1/alerts/generic", json=ALERT, headers=admin)
    assert as_ingest.status == 403
    as_api = await client.get(
        "/api/v1/incidents", headers={"Authorization": f"Bearer {INGEST_TOKEN}"}
    )
    assert as_api.status == 401
