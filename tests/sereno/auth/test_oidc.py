"""Single sign-on end to end against a real OpenID Connect provider (oidc-provider-mock,
an authlib-based provider) over loopback HTTP: discovery, a registered confidential
client, the authorize form, the code exchange, the signed ID token, and roles mapped
from its groups claim."""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from oidc_provider_mock import run_server_in_thread

from core.config import OidcSettings, Secret, Settings
from sereno.app import create_app
from sereno.auth.oidc import map_roles

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


@pytest.fixture
def issuer() -> Iterator[str]:
    with run_server_in_thread(require_client_registration=True, require_nonce=True) as server:
        yield f"http://localhost:{server.server_port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def _register(issuer: str, redirect_uri: str) -> tuple[str, str]:
    async with aiohttp.ClientSession() as http:
        answer = await http.post(f"{issuer}/oauth2/clients", json={
            "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "client_secret_basic",
        })  # fmt: skip
        assert answer.status == 201, await answer.text()
        body = await answer.json()
        return str(body["client_id"]), str(body["client_secret"])


async def _person(issuer: str, sub: str, claims: dict[str, object]) -> None:
    async with aiohttp.ClientSession() as http:
        answer = await http.put(f"{issuer}/users/{sub}", json=claims)
        assert answer.status == 204


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings, issuer: str) -> Client:
    port = free_port()
    client_id, secret = await _register(issuer, f"http://127.0.0.1:{port}/login/oidc/callback")
    oidc = OidcSettings(
        issuer=issuer, client_id=client_id, client_secret=Secret(value=secret),
        roles={"noc": "operator", "redes-admins": "admin:redes", "boss": "admin"},
    )  # fmt: skip
    auth = storage_settings.auth.model_copy(update={"oidc": oidc})
    app = create_app(storage_settings.model_copy(update={"auth": auth}))
    return await aiohttp_client(app, server_kwargs={"port": port})


async def _sign_in(
    client: Client, sub: str, next_path: str = "/api/v1/me"
) -> aiohttp.ClientResponse:
    """Start at Sereno, choose `sub` on the provider's form, come back with the code."""
    started = await client.get(f"/login/oidc?next={next_path}", allow_redirects=False)
    assert started.status == 303, await started.text()
    authorize = started.headers["Location"]
    async with aiohttp.ClientSession() as browser_at_provider:
        chosen = await browser_at_provider.post(authorize, data={"sub": sub},
                                                allow_redirects=False)  # fmt: skip
        assert chosen.status == 302, await chosen.text()
        back = urlsplit(chosen.headers["Location"])
    assert back.path == "/login/oidc/callback"
    return await client.get(f"{back.path}?{back.query}", allow_redirects=False)


async def test_sign_in_by_sso_maps_roles_from_the_groups_claim(client: Client, issuer: str) -> None:
    await _person(issuer, "maria", {"preferred_username": "maria.lopez",
                                    "groups": ["noc", "redes-admins", "unrelated"]})  # fmt: skip
    back = await _sign_in(client, "maria")
    assert back.status == 303, await back.text()
    assert back.headers["Location"] == "/api/v1/me"
    me = await (await client.get("/api/v1/me")).json()
    assert (me["name"], me["kind"], me["role"]) == ("maria.lopez", "sso", "operator")
    assert me["groups"] == {"redes": "admin"}
    # Signed in by cookie: a write needs the session's CSRF token as well.
    silence = {"match": {"resources": "web-9"}, "duration": "1h", "comment": "deploy"}
    without = await client.post("/api/v1/silences", json=silence)
    assert without.status == 403
    made = await client.post("/api/v1/silences", json=silence,
                             headers={"X-CSRF-Token": me["csrf_token"]})  # fmt: skip
    assert made.status == 201, await made.text()
    assert (await made.json())["created_by"] == "maria.lopez"


async def test_sso_without_a_mapped_role_is_refused(client: Client, issuer: str) -> None:
    await _person(issuer, "visitor", {"preferred_username": "visitor", "groups": ["guests"]})
    back = await _sign_in(client, "visitor")
    assert back.status == 403
    assert "no role" in (await back.json())["error"]
    assert (await client.get("/api/v1/me")).status == 401


async def test_a_callback_not_started_by_this_browser_is_refused(client: Client) -> None:
    forged = await client.get("/login/oidc/callback?code=abc&state=xyz", allow_redirects=False)
    assert forged.status == 403
    assert "not started from this browser" in (await forged.json())["error"]


def test_roles_map_from_claim_values() -> None:
    config = OidcSettings(
        issuer="https://id.example.org", client_id="sereno",
        roles={"a": "viewer", "b": "operator", "c": "operator:redes", "d": "admin:redes"},
        default_role="viewer",
    )  # fmt: skip
    assert map_roles(config, {"groups": ["b", "c", "d"]}) == ("operator", {"redes": "admin"})
    assert map_roles(config, {"groups": "a"}) == ("viewer", {})
    assert map_roles(config, {}) == ("viewer", {})
