"""Every credential check of ingest refuses near misses: a wrong value, a prefix of the right
one, an empty one, and another source's; as a Bearer header, as ?token=, and as an HMAC
signature. Then replays of a signed request."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.config import HmacCheck, IngestSettings, Secret, Settings, SourceSettings
from ingest.guard import SeenSignatures
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
ALERT = b'{"name": "DiskFull", "resource": "db-1"}'
JSON = {"Content-Type": "application/json"}
URL = "/api/v1/alerts/generic"
SIGNATURE = "X-Grafana-Alerting-Signature"
STAMP = "X-Grafana-Alerting-Timestamp"
# (what is presented, the status it gets): the right token is s3cret.
NEAR_MISSES = [
    ("nope", 403),  # wrong
    ("s3c", 403),  # a prefix of the right one
    ("s3cret-and-more", 403),  # the right one as a prefix
    ("S3CRET", 403),  # another case
    ("0th3r", 403),  # another source's token
]


def _secret(text: str) -> Secret:
    return Secret(value=SecretStr(text))


def _tokens() -> IngestSettings:
    return IngestSettings(
        sources={
            "generic": SourceSettings(token=_secret("s3cret")),
            "alertmanager": SourceSettings(token=_secret("0th3r")),
        }
    )


async def _client(aiohttp_client: ClientFactory, tmp_path: Path, ingest: IngestSettings) -> Client:
    settings = Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=ingest)
    return await aiohttp_client(create_app(settings))


@pytest.mark.parametrize(("token", "status"), NEAR_MISSES)
async def test_a_near_miss_token_in_the_header_is_refused(
    aiohttp_client: ClientFactory, tmp_path: Path, token: str, status: int
) -> None:
    client = await _client(aiohttp_client, tmp_path, _tokens())
    response = await client.post(
        URL, data=ALERT, headers={**JSON, "Authorization": f"Bearer {token}"}
    )
    assert response.status == status
    assert "s3cret" not in await response.text()


@pytest.mark.parametrize(("token", "status"), NEAR_MISSES)
async def test_a_near_miss_token_in_the_query_is_refused(
    aiohttp_client: ClientFactory, tmp_path: Path, token: str, status: int
) -> None:
    client = await _client(aiohttp_client, tmp_path, _tokens())
    response = await client.post(URL, params={"token": token}, data=ALERT, headers=JSON)
    assert response.status == status


async def test_empty_and_blank_tokens_are_refused(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, _tokens())
    assert (await client.post(f"{URL}?token=", data=ALERT, headers=JSON)).status == 403
    assert (await client.post(f"{URL}?token=%20", data=ALERT, headers=JSON)).status == 403
    for header in ("Bearer ", "Bearer", "Basic s3cret", ""):
        response = await client.post(URL, data=ALERT, headers={**JSON, "Authorization": header})
        assert response.status == 401, header
    # The right token passes both ways, so the refusals above are about the token.
    by_header = {**JSON, "Authorization": "Bearer s3cret"}
    assert (await client.post(URL, data=ALERT, headers=by_header)).status == 202
    assert (await client.post(f"{URL}?token=s3cret", data=ALERT, headers=JSON)).status == 202


async def test_a_source_token_opens_its_own_source_only(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, _tokens())
    other = "/api/v1/alerts/alertmanager"
    body = (
        b'{"alerts": [{"status": "firing", "labels": {"alertname": "A"},'
        b' "startsAt": "2026-11-20T08:00:00Z"}]}'
    )
    wrong = {**JSON, "Authorization": "Bearer s3cret"}
    assert (await client.post(other, data=body, headers=wrong)).status == 403
    right = {**JSON, "Authorization": "Bearer 0th3r"}
    assert (await client.post(other, data=body, headers=right)).status == 202


def _sign(secret: bytes, body: bytes, stamp: str) -> str:
    return hmac.new(secret, f"{stamp}:".encode() + body, hashlib.sha256).hexdigest()


def _signing() -> IngestSettings:
    return IngestSettings(
        sources={
            "generic": SourceSettings(
                hmac=HmacCheck(secret=_secret("k3y-one"), timestamp_header=STAMP)
            ),
            "alertmanager": SourceSettings(
                hmac=HmacCheck(secret=_secret("k3y-two"), timestamp_header=STAMP)
            ),
        }
    )


async def test_near_miss_signatures_are_refused(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, _signing())
    now = str(int(time.time()))
    right = _sign(b"k3y-one", ALERT, now)
    misses = {
        "wrong": _sign(b"nope", ALERT, now),
        "prefix": right[:8],
        "empty": "",
        "other source's key": _sign(b"k3y-two", ALERT, now),
        "right key, other body": _sign(b"k3y-one", ALERT + b" ", now),
        "right key, other stamp": _sign(b"k3y-one", ALERT, str(int(now) - 1)),
    }
    for what, signature in misses.items():
        headers = {**JSON, STAMP: now, SIGNATURE: signature}
        response = await client.post(URL, data=ALERT, headers=headers)
        assert response.status == (401 if what == "empty" else 403), what
    for stamp in ("", "abc", "-1"):
        headers = {**JSON, STAMP: stamp, SIGNATURE: _sign(b"k3y-one", ALERT, stamp)}
        assert (await client.post(URL, data=ALERT, headers=headers)).status == 403, stamp
    good = {**JSON, STAMP: now, SIGNATURE: f"sha256={right}"}
    assert (await client.post(URL, data=ALERT, headers=good)).status == 202


async def test_a_signed_request_is_accepted_once(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, _signing())
    now = str(int(time.time()))
    headers = {**JSON, STAMP: now, SIGNATURE: _sign(b"k3y-one", ALERT, now)}
    assert (await client.post(URL, data=ALERT, headers=headers)).status == 202
    replay = await client.post(URL, data=ALERT, headers=headers)
    assert replay.status == 403
    assert (await replay.json())["detail"] == [{"field": SIGNATURE, "problem": "already used"}]
    # The same alert signed afresh (another timestamp) is a new request.
    later = str(int(now) + 1)
    fresh = {**JSON, STAMP: later, SIGNATURE: _sign(b"k3y-one", ALERT, later)}
    assert (await client.post(URL, data=ALERT, headers=fresh)).status == 202


def test_seen_signatures_forget_after_the_window_and_stay_bounded() -> None:
    seen = SeenSignatures(window_s=600, limit=3)
    assert seen.first_time("a", now=0)
    assert not seen.first_time("a", now=599)
    assert seen.first_time("a", now=1200)  # its stamp can no longer pass the skew check
    for name in ("b", "c", "d"):
        assert seen.first_time(name, now=1201)
    assert len(seen) == 3
