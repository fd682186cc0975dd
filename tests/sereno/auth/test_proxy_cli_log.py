"""The trusted proxy header, `sereno users add`, and the access log."""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from core.config import AuthSettings, Settings, TrustedHeaderSettings
from core.storage import DATA_FILE
from sereno.app import create_app
from sereno.auth.access_log import combined_line
from sereno.auth.passwords import verify_password
from sereno.auth.principal import PRINCIPAL_KEY, Principal, Role
from sereno.auth.service import AUTH
from sereno.auth.store_sqlite import SqliteAuthStore
from sereno.cli import main
from tests.conftest import REPO
from tests.sereno.auth_kit import issue, token_for

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


def _proxied(settings: Settings, proxies: tuple[str, ...]) -> Settings:
    trusted = TrustedHeaderSettings(enabled=True, proxies=proxies, default_role="viewer")
    return settings.model_copy(update={"auth": AuthSettings(trusted_header=trusted)})


async def test_the_proxy_header_is_believed_only_from_the_proxy(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(_proxied(settings, ("127.0.0.0/8",))))
    await token_for(client, "ana", Role.OPERATOR)
    me = await (await client.get("/api/v1/me", headers={"X-Forwarded-User": "ana"})).json()
    assert (me["name"], me["role"], me["kind"]) == ("ana", "operator", "sso")
    stranger = await client.get("/api/v1/me", headers={"X-Forwarded-User": "pepe"})
    assert (await stranger.json())["role"] == "viewer"
    bad = await client.get("/api/v1/me", headers={"X-Forwarded-User": "a b"})
    assert bad.status == 401
    # Configured, sign-in is required: no header, no way in.
    assert (await client.get("/api/v1/me")).status == 401


async def test_the_proxy_header_from_elsewhere_is_ignored(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    client = await aiohttp_client(create_app(_proxied(settings, ("10.0.0.0/8",))))
    answer = await client.get("/api/v1/me", headers={"X-Forwarded-User": "root"})
    assert answer.status == 401


def test_the_proxy_header_is_off_by_default() -> None:
    assert TrustedHeaderSettings().enabled is False
    with pytest.raises(ValueError, match="address or a network"):
        TrustedHeaderSettings(proxies=("not-a-network",))


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "sereno.yaml"
    config.write_text(f"rules_dir: {REPO / 'rules'}\ndata_dir: {tmp_path / 'data'}\n")
    return config


def test_users_add_makes_the_first_admin_from_a_password_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "password"
    secret.write_text("a long admin password\n")
    config = _config(tmp_path)
    assert main(["users", "add", "root", "--role", "admin", "--group", "redes=operator",
                 "--password-file", str(secret), "--config", str(config)]) == 0  # fmt: skip
    assert "user root added with role admin" in capsys.readouterr().out
    store = SqliteAuthStore(tmp_path / "data" / DATA_FILE)
    try:
        user = asyncio.run(store.get_user("root"))
    finally:
        asyncio.run(store.close())
    assert user is not None
    assert (user.role, user.groups) == (Role.ADMIN, {"redes": Role.OPERATOR})
    assert verify_password(user.password_hash, "a long admin password")
    assert "a long admin password" not in (tmp_path / "data" / DATA_FILE).read_bytes().decode(
        errors="replace"
    )
    assert main(["users", "add", "root", "--role", "viewer", "--password-file",
                 str(secret), "--config", str(config)]) == 2  # fmt: skip
    assert "already exists" in capsys.readouterr().err


def test_users_add_refuses_a_weak_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "root", "--role", "admin", "--config",
                 str(_config(tmp_path))]) == 2  # fmt: skip
    assert "at least 12 characters" in capsys.readouterr().err
    assert not (tmp_path / "data" / DATA_FILE).exists()  # refused before anything is stored


COMBINED = re.compile(
    r"^(\S+) - (\S+) \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "
    r'"(\w+) (\S+) HTTP/1\.1" (\d{3}) (\S+) "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"$'
)


def test_the_access_log_line_is_combined_log_format() -> None:
    from datetime import UTC, datetime  # noqa: PLC0415

    request = make_mocked_request(
        "POST", "/api/v1/silences?x=1", headers={"User-Agent": 'curl/8 "x"', "Referer": "-"}
    )
    request[PRINCIPAL_KEY] = Principal("ana", Role.OPERATOR, kind="token")
    response = web.Response(status=201, text="created")
    line = combined_line(request, response, datetime(2026, 12, 4, 18, 0, tzinfo=UTC))
    found = COMBINED.match(line)
    assert found is not None, line
    assert found.group(2, 3, 4, 5) == ("ana", "POST", "/api/v1/silences?x=1", "201")
    assert found.group(8) == 'curl/8 \\"x\\"'
    assert "[04/Dec/2026:18:00:00 +0000]" in line


def test_the_access_log_is_off_unless_asked() -> None:
    assert AuthSettings().access_log is False
    assert logging.getLogger("sereno.access").handlers == []


async def test_the_access_log_when_turned_on_names_who_asked(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A real server on a loopback socket, with the logger `serve` gives it."""
    import aiohttp  # noqa: PLC0415

    from sereno.auth.access_log import CombinedAccessLogger  # noqa: PLC0415

    app = create_app(settings)
    runner = web.AppRunner(
        app, access_log=logging.getLogger("sereno.access"), access_log_class=CombinedAccessLogger
    )
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        ana = await issue(app[AUTH], "ana", Role.VIEWER)
        with caplog.at_level(logging.INFO, logger="sereno.access"):
            async with aiohttp.ClientSession(headers=ana) as http:
                answer = await http.get(f"http://127.0.0.1:{port}/api/v1/incidents?limit=5")
                assert answer.status == 200
    finally:
        await runner.cleanup()
    [line] = [r.getMessage() for r in caplog.records if r.name == "sereno.access"]
    found = COMBINED.match(line)
    assert found is not None, line
    assert found.group(1, 2, 3, 4, 5) == (
        "127.0.0.1", "ana", "GET", "/api/v1/incidents?limit=5", "200",
    )  # fmt: skip


def test_users_passwd_sets_a_new_password_and_unlocks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = str(_config(tmp_path))
    monkeypatch.setattr("sys.stdin", io.StringIO("the first long password\n"))
    assert main(["users", "add", "root", "--role", "admin", "--config", config]) == 0
    store = SqliteAuthStore(tmp_path / "data" / DATA_FILE)
    try:
        user = asyncio.run(store.get_user("root"))
        assert user is not None
        locked = user.model_copy(update={"locked_until": user.created_at.replace(year=2999)})
        asyncio.run(store.put_user(locked))
        monkeypatch.setattr("sys.stdin", io.StringIO("the second long password\n"))
        assert main(["users", "passwd", "root", "--config", config]) == 0
        assert "unlocked" in capsys.readouterr().out
        after = asyncio.run(store.get_user("root"))
    finally:
        asyncio.run(store.close())
    assert after is not None
    assert after.locked_until is None
    assert verify_password(after.password_hash, "the second long password")
    assert not verify_password(after.password_hash, "the first long password")
    monkeypatch.setattr("sys.stdin", io.StringIO("the third long password\n"))
    assert main(["users", "passwd", "nobody", "--config", config]) == 2
    assert "no user nobody" in capsys.readouterr().err
