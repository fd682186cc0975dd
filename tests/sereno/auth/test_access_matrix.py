"""Every registered route, tried with no credential, wrong ones, an expired and a revoked
token, and each role: the expected answer comes from the one route table, so a route
added without an entry fails here."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from core.config import Settings
from sereno.app import create_app
from sereno.auth.principal import Role
from sereno.auth.routes import ROUTES, Gate, rule_for
from sereno.auth.service import AUTH
from sereno.auth.tokens import new_token
from tests.sereno.auth_kit import token_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

MIDDLEWARE_FIELDS = {"Authorization", "(role)", "X-CSRF-Token", "Origin"}


def registered(app: web.Application) -> list[tuple[str, str]]:
    return sorted(
        {
            (route.method, route.resource.canonical)
            for route in app.router.routes()
            if route.resource is not None and route.method != "HEAD"
        }
    )


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: f"{m.group(1)}-404", path)


async def refused(response: ClientResponse) -> bool:
    """Whether the access middleware (not the handler) refused the request."""
    if response.status not in (401, 403) or response.content_type != "application/json":
        return False
    body = await response.json()
    return bool(body["detail"]) and body["detail"][0]["field"] in MIDDLEWARE_FIELDS


async def test_every_registered_route_has_a_rule(settings: Settings) -> None:
    app = create_app(settings)
    missing = [route for route in registered(app) if rule_for(*route) is None]
    assert missing == [], f"add these to sereno/auth/routes.py ROUTES: {missing}"
    stale = sorted(set(ROUTES) - set(registered(app)))
    assert stale == [], f"ROUTES names routes that do not exist: {stale}"


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    return await aiohttp_client(create_app(storage_settings))


async def _credentials(client: Client) -> dict[str, tuple[dict[str, str], Role | None]]:
    """Name -> (headers, the role they carry; None for a credential that must fail)."""
    admin = await token_for(client, "root", Role.ADMIN)
    expired = await token_for(client, "old", Role.ADMIN, expires_in=timedelta(microseconds=1))
    revoked = await token_for(client, "gone", Role.ADMIN)
    store = client.app[AUTH].store
    [gone] = [t for t in await store.list_tokens() if t.owner == "gone"]
    revoke = await client.delete(f"/api/v1/tokens/{gone.id}", headers=admin)
    assert revoke.status == 200
    return {
        "none": ({}, None),
        "malformed": ({"Authorization": "Bearer not-a-token"}, None),
        "unknown": ({"Authorization": f"Bearer {new_token()}"}, None),
        "basic": ({"Authorization": "Basic cm9vdDpyb290"}, None),
        "expired": (expired, None),
        "revoked": (revoked, None),
        "viewer": (await token_for(client, "vera", Role.VIEWER), Role.VIEWER),
        "operator": (await token_for(client, "oscar", Role.OPERATOR), Role.OPERATOR),
        "group operator": (
            await token_for(client, "rita", Role.VIEWER, {"redes": Role.OPERATOR}),
            Role.VIEWER,
        ),
        "admin": (admin, Role.ADMIN),
    }


async def test_each_route_answers_each_credential_as_its_rule_says(client: Client) -> None:
    credentials = await _credentials(client)
    for method, path in registered(client.app):
        rule = rule_for(method, path)
        assert rule is not None
        if rule.access is Gate.SOURCE:
            continue  # their own credentials: tested with ingest and the ticket callback
        for name, (headers, role) in credentials.items():
            sent = {"Accept": "application/json"} | headers
            kwargs: dict[str, Any] = {"headers": sent}
            if method in ("POST", "PATCH", "PUT"):
                kwargs["json"] = {}
            response = await client.request(method, concrete(path), **kwargs)
            if name != "none" and role is None:
                expected = True  # a wrong credential is refused everywhere
            elif rule.access is Gate.PUBLIC or rule.access is Gate.LOCAL:
                expected = False  # LOCAL: the test client is on loopback
            elif role is None:
                expected = True
            else:
                needed = rule.access
                assert isinstance(needed, Role)
                strongest = Role.OPERATOR if name == "group operator" else role
                expected = not (role >= needed or (rule.group_scoped and strongest >= needed))
            got = await refused(response)
            assert got == expected, (
                f"{method} {path} with {name}: {response.status} {await response.text()}"
            )
            if expected:
                assert response.status == (401 if role is None else 403), (method, path, name)
