"""Incident commands and silences act as the principal, within the principal's groups, and
silences keep to their guard rails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import AuthSettings, Settings
from sereno.app import create_app
from sereno.auth.principal import Role
from tests.sereno.auth_kit import token_for
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def down(resource: str) -> dict[str, str]:
    return {"name": "HTTPDown", "resource": resource, "severity": "critical", "id": resource}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    return await aiohttp_client(create_app(storage_settings))


async def _incidents(client: Client, count: int, headers: dict[str, str]) -> list[Any]:
    body = await wait_for(client, "/api/v1/incidents", lambda b: b["count"] == count, headers)
    return list(body["incidents"])


async def test_a_group_operator_acts_only_on_that_groups_incidents(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    assert (await client.post("/api/v1/alerts/generic", json=down("web-3"))).status == 202
    [incident] = await _incidents(client, 1, admin)
    group = incident["group"]
    assert group  # routing gives every incident a group (default_group at least)
    theirs = await token_for(client, "rita", Role.VIEWER, {group: Role.OPERATOR})
    others = await token_for(client, "otto", Role.VIEWER, {f"not-{group}": Role.OPERATOR})
    path = f"/api/v1/incidents/{incident['id']}"
    refused = await client.post(f"{path}/comment", json={"text": "mine?"}, headers=others)
    assert refused.status == 403
    assert (await refused.json())["detail"][0]["field"] == "(role)"
    allowed = await client.post(f"{path}/comment", json={"text": "looking"}, headers=theirs)
    assert allowed.status == 202
    assert (await allowed.json())["by"] == "rita"
    # A role within one group gives nothing beyond that group.
    assert (await client.post("/api/v1/rules/reload", headers=theirs)).status == 403


async def test_assign_comment_and_reopen_are_published_as_the_principal(client: Client) -> None:
    ana = await token_for(client, "ana", Role.OPERATOR)
    assert (await client.post("/api/v1/alerts/generic", json=down("web-4"))).status == 202
    [incident] = await _incidents(client, 1, ana)
    path = f"/api/v1/incidents/{incident['id']}"
    assigned = await client.post(f"{path}/assign", json={"to": "luis", "note": "yours"},
                                 headers=ana)  # fmt: skip
    assert assigned.status == 202
    assert (await assigned.json())["action"] == "assign"
    assert (await assigned.json())["by"] == "ana"
    empty = await client.post(f"{path}/comment", json={"text": ""}, headers=ana)
    assert empty.status == 400
    assert (await empty.json())["detail"][0]["field"] == "text"
    not_resolved = await client.post(f"{path}/reopen", headers=ana)
    assert not_resolved.status == 409
    # Correlate applies each: the incident is held by luis, and its timeline says who did
    # what through which way in.
    held = await wait_for(client, path, lambda b: b["assignee"] == "luis", ana)
    texts = [e["text"] for e in held["timeline"]]
    assert f"held by luis (group {held['group']}): ana via api: yours" in texts
    assert held["status"] == "open"  # assigning is not acknowledging
    said = await client.post(f"{path}/comment", json={"text": "disk replaced"}, headers=ana)
    assert said.status == 202
    commented = await wait_for(
        client, path, lambda b: any(e["kind"] == "comment" for e in b["timeline"]), ana
    )
    [comment] = [e for e in commented["timeline"] if e["kind"] == "comment"]
    assert comment["text"] == "ana via api: disk replaced"
    assert (await client.post(f"{path}/resolve", json={}, headers=ana)).status == 202
    await wait_for(client, path, lambda b: b["status"] == "resolved", ana)
    assert (await client.post(f"{path}/reopen", json={}, headers=ana)).status == 202
    reopened = await wait_for(client, path, lambda b: b["status"] == "open", ana)
    assert reopened["timeline"][-1]["text"] == "reopened by ana via api"
    assert reopened["resolved_at"] is None


async def test_a_silence_of_most_of_what_fires_needs_force_and_admin(client: Client) -> None:
    operator = await token_for(client, "oscar", Role.OPERATOR)
    admin = await token_for(client, "root", Role.ADMIN)
    for resource in ("web-1", "web-2", "db-1", "mail-1"):
        await client.post("/api/v1/alerts/generic", json=down(resource))
    await _incidents(client, 4, admin)
    wide = {"match": {"resources": "web-*"}, "duration": "1h", "comment": "web deploy"}
    preview = await (await client.post("/api/v1/silences/preview", json=wide,
                                       headers=operator)).json()  # fmt: skip
    assert (preview["firing"], preview["matched"], preview["share"]) == (4, 2, 0.5)
    assert {a["resource"] for a in preview["alerts"]} == {"web-1", "web-2"}

    refused = await client.post("/api/v1/silences", json=wide, headers=operator)
    assert refused.status == 409
    body = await refused.json()
    assert body["would_silence"]["matched"] == 2
    forced = await client.post("/api/v1/silences", json=wide | {"force": True}, headers=operator)
    assert forced.status == 409  # force is for admins
    made = await client.post("/api/v1/silences", json=wide | {"force": True}, headers=admin)
    assert made.status == 201

    narrow = {"match": {"resources": "db-1"}, "duration": "1h", "comment": "db restart"}
    assert (await client.post("/api/v1/silences", json=narrow, headers=operator)).status == 201
    everything = {"match": {"names": "*"}, "duration": "1h", "comment": "quiet please"}
    assert (await client.post("/api/v1/silences", json=everything, headers=operator)).status == 409


async def test_a_silence_has_a_maximum_length_and_a_comment(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    short = settings.model_copy(update={"auth": AuthSettings(silence_max_duration="2h")})
    client = await aiohttp_client(create_app(short))
    operator = await token_for(client, "oscar", Role.OPERATOR)
    long = {"match": {"resources": "x"}, "duration": "3h", "comment": "too long"}
    answer = await client.post("/api/v1/silences", json=long, headers=operator)
    assert answer.status == 422
    assert "auth.silence_max_duration" in (await answer.json())["error"]
    blank = {"match": {"resources": "x"}, "duration": "1h", "comment": "   "}
    assert (await client.post("/api/v1/silences", json=blank, headers=operator)).status == 422
