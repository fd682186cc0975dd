"""The console under test: a real app over loopback (aiohttp_client), a storm to look at,
and the one place that signs a person in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from playwright.sync_api import Page

from core.config import Settings
from sereno.app import Handler, create_app
from sereno.auth.principal import PRINCIPAL_KEY, Principal, Role
from sereno.console.who import ConsolePrincipal
from tests.sereno.test_app import wait_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

SWITCH = {
    "name": "SwitchDown", "resource": "sw-mad-core-1", "severity": "critical",
    "id": "sw-mad-core-1", "summary": "Core switch sw-mad-core-1 is not answering",
}  # fmt: skip
STORM_HOSTS = 30


def storm() -> list[dict[str, str]]:
    """A core switch down and the hosts behind it: one incident of STORM_HOSTS + 1 alerts."""
    hosts = [
        {"name": "HostDown", "resource": f"web-{n}", "severity": "critical", "id": f"web-{n}",
         "summary": f"web-{n} does not answer ping"}
        for n in range(1, STORM_HOSTS + 1)
    ]  # fmt: skip
    return [SWITCH, *hosts]


def hostile() -> dict[str, str]:
    """An alert whose text tries to become markup."""
    return {
        "name": "DiskFull<script>alert(1)</script>",
        "resource": "db-1",
        "severity": "major",
        "id": "hostile-1",
        "summary": "<img src=x onerror=\"document.title='pwned'\"><script>alert(2)</script>",
    }


def signed_in_name() -> str:
    """Who the console's pages are for in these tests. While Sereno is open on loopback,
    everybody is the anonymous operator; with sign-in, create the user and sign in here."""
    return "anonymous"


@pytest.fixture
async def console(aiohttp_client: ClientFactory, settings: Settings) -> Client:
    return await aiohttp_client(create_app(settings))


async def post_storm(client: Client) -> str:
    """Send the storm; the id of its one incident once every alert has joined it."""
    assert (await client.post("/api/v1/alerts/generic", json=storm())).status == 202

    def joined(body: Any) -> bool:
        return bool(sum(i["alert_count"] for i in body["incidents"]) == STORM_HOSTS + 1)

    body = await wait_for(client, "/api/v1/incidents", joined)
    assert body["count"] == 1, [i["title"] for i in body["incidents"]]
    return str(body["incidents"][0]["id"])


def sign_in(page: Page, base_url: str) -> str:
    """Open the console in `page` as the test's person; their name, as pages show it.
    An open Sereno on loopback needs no sign-in: everybody is the anonymous operator."""
    page.goto(base_url + "/")
    return signed_in_name()


def as_principal(app: web.Application, principal: ConsolePrincipal) -> web.Application:
    """`app` with every request coming from `principal`, as sign-in would name them."""

    role = Role(principal.role)
    signed = Principal(
        name=principal.name, role=role, groups=tuple((g, role) for g in principal.groups),
        kind="user",
    )  # fmt: skip

    @web.middleware
    async def signed_in(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[PRINCIPAL_KEY] = signed
        return await handler(request)

    app.middlewares.append(signed_in)
    return app
