"""Credentials, signatures and limits, through the real HTTP app."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr, ValidationError

from core.config import HmacCheck, IngestSettings, Secret, Settings, SourceSettings
from ingest.guard import TokenBucket
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
ALERT = b'{"name": "DiskFull", "resource": "db-1"}'
JSON = {"Content-Type": "application/json"}


def _secret(text: str) -> Secret:
    return Secret(value=SecretStr(text))


async def _client(aiohttp_client: ClientFactory, tmp_path: Path, ingest: IngestSettings) -> Client:
    settings = Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=ingest)
    return await aiohttp_client(create_app(settings))


async def test_a_source_with_a_token_refuses_anyone_without_it(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    ingest = IngestSettings(sources={"generic": SourceSettings(token=_secret("s3cret"))})
    client = await _client(aiohttp_client, tmp_path, ingest)
    url = "/api/v1/alerts/generic"
    missing = await client.post(url, data=ALERT, headers=JSON)
    assert missing.status == 401
    assert "Authorization: Bearer" in (await missing.json())["error"]
    wrong = await client.post(url, data=ALERT, headers={**JSON, "Authorization": "Bearer nope"})
    assert wrong.status == 403
    assert "s3cret" not in await wrong.text()
    good = await client.post(url, data=ALERT, headers={**JSON, "Authorization": "Bearer s3cret"})
    assert good.status == 202
    by_query = await client.post(f"{url}?token=s3cret", data=ALERT, headers=JSON)
    assert by_query.status == 202
    # Other sources keep their own settings: this one has no token.
    assert (
        await client.post("/api/v1/alerts/alertmanager", data=b"{}", headers=JSON)
    ).status == 422


async def test_credentials_are_checked_before_the_body_is_parsed(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    ingest = IngestSettings(sources={"generic": SourceSettings(token=_secret("s3cret"))})
    client = await _client(aiohttp_client, tmp_path, ingest)
    response = await client.post("/api/v1/alerts/generic", data=b"{broken", headers=JSON)
    assert response.status == 401  # not 400: the body was never looked at


def _sign(secret: bytes, body: bytes, stamp: str = "") -> str:
    signed = f"{stamp}:".encode() + body if stamp else body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


async def test_a_signing_source_needs_a_valid_signature(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    check = HmacCheck(secret=_secret("k3y"), timestamp_header="X-Grafana-Alerting-Timestamp")
    ingest = IngestSettings(sources={"generic": SourceSettings(hmac=check)})
    client = await _client(aiohttp_client, tmp_path, ingest)
    url, header = "/api/v1/alerts/generic", "X-Grafana-Alerting-Signature"
    now = str(int(time.time()))
    stamped = {**JSON, "X-Grafana-Alerting-Timestamp": now}
    assert (await client.post(url, data=ALERT, headers=stamped)).status == 401
    forged = {**stamped, header: _sign(b"other", ALERT, now)}
    assert (await client.post(url, data=ALERT, headers=forged)).status == 403
    stale_stamp = str(int(time.time()) - 3600)
    stale = {**JSON, "X-Grafana-Alerting-Timestamp": stale_stamp,
             header: _sign(b"k3y", ALERT, stale_stamp)}  # fmt: skip
    assert (await client.post(url, data=ALERT, headers=stale)).status == 403
    good = {**stamped, header: _sign(b"k3y", ALERT, now)}
    assert (await client.post(url, data=ALERT, headers=good)).status == 202


async def test_a_source_over_its_rate_gets_503_with_retry_after_and_others_go_on(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    noisy = SourceSettings(rate_per_s=0.5, burst=3)
    client = await _client(aiohttp_client, tmp_path, IngestSettings(sources={"generic": noisy}))
    statuses = [
        (await client.post("/api/v1/alerts/generic", data=ALERT, headers=JSON)).status
        for _ in range(5)
    ]
    assert statuses == [202, 202, 202, 503, 503]
    refused = await client.post("/api/v1/alerts/generic", data=ALERT, headers=JSON)
    assert int(refused.headers["Retry-After"]) >= 1
    other = await client.post(
        "/api/v1/alerts/alertmanager",
        json={"alerts": [{"status": "firing", "labels": {"alertname": "A"},
                          "startsAt": "2026-11-20T08:00:00Z"}]},
    )  # fmt: skip
    assert other.status == 202


async def test_the_default_limits_take_a_storm_sized_group(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    labels = {"alertname": "HostDown", "severity": "critical", "site": "madrid-1"}
    alerts = [
        {
            "status": "firing",
            "labels": {**labels, "instance": f"h-{i}"},
            "annotations": {"summary": "x" * 1500, "description": "y" * 300},
            "startsAt": "2026-11-20T08:00:00Z",
        }
        for i in range(1000)
    ]
    body = json.dumps({"alerts": alerts}).encode()
    assert len(body) > 1_900_000  # about the 2 MB a real storm group weighs
    response = await client.post("/api/v1/alerts/alertmanager", data=io.BytesIO(body), headers=JSON)
    assert response.status == 202
    assert (await response.json())["accepted"] == 1000


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=2)
    now = bucket.updated
    assert [bucket.take(now), bucket.take(now)] == [0.0, 0.0]
    assert bucket.take(now) == pytest.approx(0.5)
    assert bucket.take(now + 0.5) == 0.0


def test_secrets_come_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERENO_TEST_TOKEN", "from-env")
    assert Secret(env="SERENO_TEST_TOKEN").reveal() == b"from-env"
    path = tmp_path / "token"
    path.write_text("from-file\n")
    assert Secret(file=path).reveal() == b"from-file"
    assert "from-file" not in repr(Secret(file=path))
    with pytest.raises(ValidationError, match="SERENO_MISSING is not set"):
        Secret(env="SERENO_MISSING")
