"""Delivering the report for real: files in a folder, an email to a real SMTP server
(aiosmtpd on a loopback port), a JSON POST to a real aiohttp server."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.config import EmailDelivery, ReportSettings, Secret, WebhookDelivery
from report.compute import compute_daily
from report.deliver import deliver
from report.model import DailyReport
from tests.report.fixtures import END, WINDOW, sample

ServerFactory = Callable[..., Awaitable[TestServer]]


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, EmailMessage]] = []

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,  # noqa: ARG002 - the hook's signature
        session: Session,  # noqa: ARG002
        envelope: Envelope,
    ) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 OK"


@pytest.fixture
async def smtp() -> AsyncIterator[tuple[Inbox, int]]:
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(inbox), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield inbox, port
    server.close()
    await server.wait_closed()


@pytest.fixture
def report() -> DailyReport:
    return compute_daily(sample(), WINDOW, END)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_folder_email_and_webhook(
    tmp_path: Path, smtp: tuple[Inbox, int], aiohttp_server: ServerFactory, report: DailyReport
) -> None:
    inbox, port = smtp
    posted: list[tuple[str, Any]] = []

    async def receive(request: web.Request) -> web.Response:
        posted.append((request.headers.get("Authorization", ""), await request.json()))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/reports", receive)
    hook = await aiohttp_server(app)
    settings = ReportSettings(
        folder=tmp_path / "reports",
        email=EmailDelivery(host="127.0.0.1", port=port, sender="sereno@example.org",
                            to=("ops@example.org", "boss@example.org")),
        webhook=WebhookDelivery(url=f"http://127.0.0.1:{hook.port}/reports",
                                token=Secret(value="s3cret")),
    )  # fmt: skip
    assert await deliver(settings, report, "es") == []
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "daily-2026-11-20.html", "daily-2026-11-20.json", "daily-2026-11-20.md",
    ]  # fmt: skip
    [(envelope, message)] = inbox.messages
    assert envelope.rcpt_tos == ["ops@example.org", "boss@example.org"]
    assert message["Subject"] == "Informe diario de operaciones 2026-11-20"
    html_part = message.get_body(("html",))
    plain_part = message.get_body(("plain",))
    assert html_part is not None
    assert plain_part is not None
    html = html_part.get_content()
    assert "<svg" in html
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "Pendientes abiertos" in plain_part.get_content()
    [(authorization, body)] = posted
    assert authorization == "Bearer s3cret"
    assert body["alerts"]["received"]["value"] == 46
    assert DailyReport.model_validate(body) == report


async def test_a_failed_channel_does_not_stop_the_others(
    tmp_path: Path, report: DailyReport
) -> None:
    settings = ReportSettings(
        folder=tmp_path / "reports",
        email=EmailDelivery(host="127.0.0.1", port=_closed_port(), sender="s@example.org",
                            to=("ops@example.org",), timeout_s=5),
        webhook=WebhookDelivery(url=f"http://127.0.0.1:{_closed_port()}/x", timeout_s=5),
    )  # fmt: skip
    problems = await deliver(settings, report, "en")
    assert [p.split(" ", 1)[0] for p in problems] == ["email", "webhook"]
    assert (tmp_path / "reports" / "daily-2026-11-20.html").exists()
