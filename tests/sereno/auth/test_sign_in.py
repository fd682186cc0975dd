"""The sign-in page, sessions, CSRF, lockout and the safe defaults, through the whole app."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient

from core.config import AuthSettings, Settings
from sereno.app import create_app
from sereno.auth.principal import Role
from sereno.auth.service import AUTH
from sereno.auth.setup import OpenBeyondLoopbackError
from tests.sereno.auth_kit import PASSWORD, token_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]

SILENCE = {"match": {"names": ["*"]}, "duration": "1h", "comment": "hidden by another site"}
NARROW = {"match": {"resources": "web-9"}, "duration": "1h", "comment": "deploy"}


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    return await aiohttp_client(create_app(storage_settings))


async def sign_in(
    client: Client, name: str, password: str = PASSWORD, next_path: str = "/api/v1/me"
) -> tuple[int, str]:
    """Open the page, post the form as a browser would; the answer's status and body."""
    page = await client.get(f"/login?next={next_path}")
    assert page.status == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert found is not None
    form = {"name": name, "password": password, "next": next_path,
            "csrf_token": found.group(1)}  # fmt: skip
    answer = await client.post("/login", data=form, allow_redirects=False)
    return answer.status, await answer.text()


async def test_a_signed_in_browser_writes_only_with_its_csrf_token(client: Client) -> None:
    await token_for(client, "ana", Role.OPERATOR)
    status, _ = await sign_in(client, "ana")
    assert status == 303
    me = await (await client.get("/api/v1/me")).json()
    assert (me["name"], me["role"], me["kind"]) == ("ana", "operator", "user")
    csrf = me["csrf_token"]

    # What another site's page can make the browser send: the cookie goes along, but
    # neither a JSON body with the token header nor the token itself.
    plain = await client.post("/api/v1/silences", data=str(SILENCE),
                              headers={"Content-Type": "text/plain"})  # fmt: skip
    assert plain.status == 415
    cross = await client.post("/api/v1/silences", json=NARROW, headers={
        "X-CSRF-Token": csrf, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site",
    })  # fmt: skip
    assert cross.status == 403
    without = await client.post("/api/v1/silences", json=NARROW)
    assert without.status == 403
    assert (await without.json())["detail"][0]["field"] == "X-CSRF-Token"
    wrong = await client.post("/api/v1/silences", json=NARROW, headers={"X-CSRF-Token": "x"})
    assert wrong.status == 403
    made = await client.post("/api/v1/silences", json=NARROW, headers={"X-CSRF-Token": csrf})
    assert made.status == 201
    assert (await made.json())["created_by"] == "ana"

    out = await client.post("/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/api/v1/me")).status == 401


async def test_cookies_are_httponly_and_samesite(client: Client) -> None:
    await token_for(client, "ana", Role.VIEWER)
    page = await client.get("/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
    assert found is not None
    answer = await client.post("/login", allow_redirects=False, data={
        "name": "ana", "password": PASSWORD, "csrf_token": found.group(1)})  # fmt: skip
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert answer.headers["Location"] == "/"


async def test_open_mode_refuses_a_cross_site_simple_post(client: Client) -> None:
    """No user: open on loopback, yet a page of another site still cannot write."""
    plain = await client.post("/api/v1/silences", data=str(SILENCE).encode(),
                              headers={"Content-Type": "text/plain"})  # fmt: skip
    assert plain.status == 415
    form = await client.post("/api/v1/incidents/INC-1/ack", data={"note": "x"})
    assert form.status == 415
    cross = await client.post("/api/v1/silences", json=NARROW,
                              headers={"Origin": "http://evil.example"})  # fmt: skip
    assert cross.status == 403
    assert (await client.get("/api/v1/silences")).status == 200
    assert (await (await client.get("/api/v1/silences")).json())["count"] == 0


async def test_wrong_passwords_lock_the_account(client: Client) -> None:
    await token_for(client, "ana", Role.OPERATOR)
    attempts = client.app[AUTH].settings.auth.login_attempts
    for _ in range(attempts):
        status, body = await sign_in(client, "ana", "wrong password!!")
        assert status == 401
        assert "Wrong user name or password" in body
    status, _ = await sign_in(client, "ana")
    assert status == 401  # locked, even with the right password
    user = await client.app[AUTH].store.get_user("ana")
    assert user is not None
    assert user.locked_until is not None


async def test_unknown_user_and_missing_form_token(client: Client) -> None:
    await token_for(client, "ana", Role.OPERATOR)
    status, _ = await sign_in(client, "nobody")
    assert status == 401
    forged = await client.post("/login", data={"name": "ana", "password": PASSWORD},
                               allow_redirects=False)  # fmt: skip
    assert forged.status == 403


async def test_sign_in_attempts_are_rate_limited_per_address(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    slow = settings.model_copy(update={"auth": AuthSettings(login_rate_per_minute=2)})
    client = await aiohttp_client(create_app(slow))
    await token_for(client, "ana", Role.OPERATOR)
    statuses = [(await sign_in(client, "ana", "wrong password!!"))[0] for _ in range(3)]
    assert statuses == [401, 401, 429]


async def test_the_page_speaks_spanish_and_carries_security_headers(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(settings.model_copy(update={"language": "es"})))
    page = await client.get("/login?next=//evil.example/")
    text = await page.text()
    assert "Iniciar sesión" in text
    assert 'name="next" value="/"' in text  # never on to another site
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/healthz")).headers["X-Content-Type-Options"] == "nosniff"


async def test_a_page_without_sign_in_goes_to_the_sign_in_page(client: Client) -> None:
    await token_for(client, "ana", Role.OPERATOR)
    page = await client.get("/runbooks/x", headers={"Accept": "text/html"},
                            allow_redirects=False)  # fmt: skip
    assert page.status == 303
    location = urlsplit(page.headers["Location"])
    assert (location.path, parse_qs(location.query)["next"]) == ("/login", ["/runbooks/x"])


async def test_a_session_expires(client: Client) -> None:
    await token_for(client, "ana", Role.OPERATOR)
    await sign_in(client, "ana")
    assert (await client.get("/api/v1/me")).status == 200
    auth = client.app[AUTH]
    [cookie] = [c for c in client.session.cookie_jar if c.key == "sereno_session"]
    from sereno.auth.tokens import digest  # noqa: PLC0415

    session = await auth.store.get_session(digest(cookie.value), auth.clock.now())
    assert session is not None
    later = session.expires_at + timedelta(seconds=1)
    assert await auth.store.get_session(digest(cookie.value), later) is None


async def test_disabling_a_user_ends_their_sessions_power(client: Client) -> None:
    admin = await token_for(client, "root", Role.ADMIN)
    await token_for(client, "ana", Role.OPERATOR, new_user=True)
    await sign_in(client, "ana")
    assert (await client.get("/api/v1/me")).status == 200
    off = await client.patch("/api/v1/users/ana", json={"disabled": True}, headers=admin)
    assert off.status == 200
    # The browser still sends its cookie; the session no longer stands for anyone.
    assert (await client.get("/api/v1/me")).status == 401


async def test_beyond_loopback_without_users_refuses_to_start(settings: Settings) -> None:
    wide = settings.model_copy(update={"listen": "0.0.0.0:8080"})
    app = create_app(wide)
    runner_error: BaseException | None = None
    from aiohttp import web  # noqa: PLC0415

    runner = web.AppRunner(app)
    try:
        await runner.setup()
    except OpenBeyondLoopbackError as e:
        runner_error = e
    finally:
        await runner.cleanup()
    assert runner_error is not None
    assert "sereno users add" in str(runner_error)


async def test_beyond_loopback_open_when_explicitly_allowed(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    wide = settings.model_copy(update={
        "listen": "0.0.0.0:8080", "auth": AuthSettings(allow_open=True)})  # fmt: skip
    client = await aiohttp_client(create_app(wide))
    assert (await client.get("/api/v1/incidents")).status == 200


async def test_an_open_start_says_so(
    aiohttp_client: ClientFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sereno.auth"):
        await aiohttp_client(create_app(settings))
    [said] = [r.getMessage() for r in caplog.records if r.name == "sereno.auth"]
    assert "the API is OPEN" in said
    assert "sereno users add NAME --role admin" in said


async def test_a_start_with_users_is_quiet_about_openness(
    aiohttp_client: ClientFactory, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    first = await aiohttp_client(create_app(settings))
    await token_for(first, "root", Role.ADMIN)
    await first.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="sereno.auth"):
        client = await aiohttp_client(create_app(settings))
    assert [r for r in caplog.records if "OPEN" in r.getMessage()] == []
    assert (await client.get("/api/v1/incidents")).status == 401


async def test_behind_a_proxy_the_public_origin_is_not_cross_site(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    public = settings.model_copy(update={"public_url": "https://sereno.example.org"})
    client = await aiohttp_client(create_app(public))
    ours = await client.post("/api/v1/silences", json=NARROW,
                             headers={"Origin": "https://sereno.example.org"})  # fmt: skip
    assert ours.status == 201
    evil = {"Origin": "https://sereno.example.org.evil.example"}
    theirs = await client.post("/api/v1/silences", json=NARROW, headers=evil)
    assert theirs.status == 403
