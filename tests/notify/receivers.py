"""Real things for channels to deliver to: an aiohttp server on loopback recording what each
webhook path got (answering each path as told), and an aiosmtpd SMTP server recording mail."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiohttp import web
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Receiver:
    """Webhook receivers at `url(path)`; `got[path]` holds each request's JSON and headers."""

    base: str = ""
    got: dict[str, list[tuple[Any, dict[str, str]]]] = field(default_factory=dict)
    status: dict[str, int] = field(default_factory=dict)
    """path -> the status it answers (200 when not given)."""

    def url(self, path: str) -> str:
        return f"{self.base}/{path}"

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        self.got.setdefault(path, []).append((await request.json(), dict(request.headers)))
        status = self.status.get(path, 200)
        return web.Response(status=status, text="ok" if status < 400 else "down")


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{path}", receiver._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.base = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


@dataclass
class Mailbox:
    port: int = 0
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        del server, session
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((envelope, parsed))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """A real SMTP server on loopback (aiosmtpd, in its own thread)."""
    mailbox = Mailbox(port=_free_port())
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@dataclass
class Logins:
    """What the authenticating SMTP server saw: each login tried, and whether it passed."""

    user: bytes
    password: bytes
    tried: list[tuple[str, bytes, bool]] = field(default_factory=list)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        del server, session, envelope
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login, auth_data.password) == (self.user, self.password)
        self.tried.append((mechanism, auth_data.login, ok))
        # handled=False: aiosmtpd then answers 535 itself (its default, True, answers nothing).
        return AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextmanager
def secure_smtp_server(
    tls: ssl.SSLContext, logins: Logins
) -> Iterator[tuple[Mailbox, SMTP | None]]:
    """A real SMTP server on loopback that refuses mail until the client has issued
    STARTTLS (with `tls`) and logged in as `logins` says."""
    mailbox = Mailbox(port=_free_port())
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=mailbox.port, tls_context=tls,
        require_starttls=True, authenticator=logins, auth_required=True, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield mailbox, controller.smtpd
    finally:
        controller.stop()
