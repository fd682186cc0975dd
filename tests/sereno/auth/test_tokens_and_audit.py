"""API tokens and users by API, and the audit log of who did what, on both stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import Settings
from core.storage import DATA_FILE
from sereno.app import create_app
from sereno.auth.principal import Role
from sereno.auth.service import AUTH
from sereno.auth.tokens import digest
from tests.sereno.auth_kit import token_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    return await aiohttp_client(create_app(storage_settings))


async def test_a_token_is_shown_once_kept_hashed_used_and_revoked(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    made = await client.post("/api/v1/tokens", headers=admin, json={
        "name": "rt-sync", "role": "operator", "expires_in": "30d"})  # fmt: skip
    assert made.status == 201
    body = await made.json()
    secret = body["token"]
    assert secret.startswith("srn_")
    assert "digest" not in body
    assert body["owner"] == "root"

    listed = await (await client.get("/api/v1/tokens", headers=admin)).json()
    shown = str(listed)
    assert secret not in shown
    assert digest(secret) not in shown
    stored = await client.app[AUTH].store.get_token(body["id"])
    assert stored is not None
    assert stored.digest == digest(secret)
    assert stored.last_used_at is None

    bearer = {"Authorization": f"Bearer {secret}"}
    me = await (await client.get("/api/v1/me", headers=bearer)).json()
    assert (me["name"], me["kind"], me["role"]) == ("root", "token", "operator")
    used = await client.app[AUTH].store.get_token(body["id"])
    assert used is not None
    assert used.last_used_at is not None
    assert used.last_used_from == "127.0.0.1"

    revoked = await client.delete(f"/api/v1/tokens/{body['id']}", headers=admin)
    assert revoked.status == 200
    refused = await client.get("/api/v1/me", headers=bearer)
    assert refused.status == 401
    assert "revoked" in (await refused.json())["error"]


async def test_token_expiry_is_bounded(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    too_long = await client.post("/api/v1/tokens", headers=admin, json={
        "name": "forever", "role": "viewer", "expires_in": "5000d"})  # fmt: skip
    assert too_long.status == 422
    assert (await too_long.json())["detail"][0]["field"] == "expires_in"


async def test_the_first_admin_never_comes_from_the_open_api(client: Client) -> None:
    made = await client.post("/api/v1/users", json={
        "name": "mallory", "role": "admin", "password": "a long enough password"})  # fmt: skip
    assert made.status == 403
    assert "sereno users add" in (await made.json())["error"]
    assert await client.app[AUTH].store.list_users() == []


async def test_users_by_api_with_groups_and_weak_passwords_refused(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    weak = await client.post("/api/v1/users", headers=admin, json={
        "name": "luis", "role": "viewer", "password": "short"})  # fmt: skip
    assert weak.status == 422
    assert (await weak.json())["detail"][0]["field"] == "password"
    made = await client.post("/api/v1/users", headers=admin, json={
        "name": "luis", "role": "viewer", "groups": {"redes": "operator"},
        "password": "a long enough password"})  # fmt: skip
    assert made.status == 201
    assert "password_hash" not in await made.json()
    again = await client.post("/api/v1/users", headers=admin, json={
        "name": "luis", "role": "viewer", "password": "a long enough password"})  # fmt: skip
    assert again.status == 409
    listed = await (await client.get("/api/v1/users", headers=admin)).json()
    assert [u["name"] for u in listed["users"]] == ["luis", "root"]
    assert "hash" not in str(listed)


async def test_allowed_and_denied_writes_are_audited(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    viewer = await token_for(client, "vera", Role.VIEWER)
    operator = await token_for(client, "oscar", Role.OPERATOR)
    silence = {"match": {"resources": "web-9"}, "duration": "1h", "comment": "deploy"}
    assert (await client.post("/api/v1/silences", json=silence, headers=viewer)).status == 403
    made = await client.post("/api/v1/silences", json=silence, headers=operator)
    assert made.status == 201
    silence_id = (await made.json())["id"]
    assert (await client.delete(f"/api/v1/silences/{silence_id}", headers=operator)).status == 200
    assert (await client.post("/api/v1/rules/reload", headers=operator)).status == 403
    assert (await client.get("/api/v1/audit", headers=operator)).status == 403

    log = await (await client.get("/api/v1/audit", headers=admin)).json()
    seen = [(e["actor"], e["action"], e["outcome"], e["status"], e["target"])
            for e in reversed(log["entries"])]  # fmt: skip
    assert seen == [
        ("vera", "silence.create", "denied", 403, ""),
        ("oscar", "silence.create", "allowed", 201, ""),
        ("oscar", "silence.expire", "allowed", 200, f"id={silence_id}"),
        ("oscar", "rules.reload", "denied", 403, ""),
        ("oscar", "audit.list", "denied", 403, ""),
    ]
    assert {e["source"] for e in log["entries"]} == {"127.0.0.1"}
    assert {e["actor_kind"] for e in log["entries"]} == {"token"}
    assert (await client.get("/api/v1/audit?limit=0", headers=admin)).status == 400


async def test_the_sqlite_audit_log_is_append_only(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings))
    await client.post("/api/v1/silences", json={})
    connection = sqlite3.connect(settings.data_dir / DATA_FILE)
    try:
        assert connection.execute("SELECT count(*) FROM auth_audit").fetchone() == (1,)
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM auth_audit")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE auth_audit SET body = '{}'")
    finally:
        connection.close()


async def test_an_expired_token_is_refused_with_its_reason(client: Client) -> None:
    old = await token_for(client, "old", Role.ADMIN, expires_in=timedelta(microseconds=1))
    refused = await client.get("/api/v1/incidents", headers=old)
    assert refused.status == 401
    assert "expired" in (await refused.json())["error"]


async def test_reads_without_any_credential_are_not_audited_but_wrong_ones_are(
    client: Client,
) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    viewer = await token_for(client, "vera", Role.VIEWER)
    assert (await client.get("/api/v1/incidents")).status == 401
    assert (await client.get("/api/v1/users", headers=viewer)).status == 403
    wrong = {"Authorization": "Bearer srn_" + "x" * 43}
    assert (await client.get("/api/v1/incidents", headers=wrong)).status == 401
    log = await (await client.get("/api/v1/audit", headers=admin)).json()
    seen = [(e["actor"], e["action"], e["status"]) for e in reversed(log["entries"])]
    assert seen == [("vera", "user.list", 403), ("anonymous", "incident.list", 401)]
