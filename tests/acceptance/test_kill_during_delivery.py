"""`sereno serve` is SIGKILLed while an external ticket system is taking a ticket: the
system has created it, but its answer never reaches Sereno. After a restart the ticket
exists exactly once there. The generic webhook sends the same delivery key again, so its
receiver keeps the first; Jira is searched by the incident's label before any creation.
Each external system runs on loopback in a thread of the test, the webhook one as a plain
aiohttp receiver, Jira as tests/ticketer/jira_fake.py (Atlassian's documented REST API v2)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.acceptance.conftest import SerenoFactory, SerenoProcess, eventually, http_json
from tests.ticketer.jira_fake import EMAIL, TOKEN, FakeJira

pytestmark = pytest.mark.e2e

T = TypeVar("T")
HOLD_S = 30.0
"""Longest a held answer waits for the test to let it go."""


class LoopThread:
    """An asyncio loop in a thread of its own, for servers a synchronous test runs."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=HOLD_S)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def loop_thread() -> Iterator[LoopThread]:
    thread = LoopThread()
    yield thread
    thread.stop()


class Hold:
    """The first creation is made, then its answer is held until the test lets it go."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.held = False

    async def first(self) -> None:
        """Called once the creation is made: the first time, hold the answer."""
        if self.held:
            return
        self.held = True
        self.arrived.set()
        await asyncio.get_running_loop().run_in_executor(None, self.release.wait, HOLD_S)


class TicketReceiver:
    """An ITSM receiver of the generic webhook: it keeps the first change of each delivery
    key (the documented way to drop a repeat) and counts every call."""

    def __init__(self, hold: Hold) -> None:
        self.hold = hold
        self.calls: list[str] = []
        self.kept: dict[str, dict[str, Any]] = {}
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        key = request.headers["X-Sereno-Delivery"]
        self.calls.append(key)
        self.kept.setdefault(key, await request.json())
        if self.kept[key]["event"] == "created":
            await self.hold.first()
        return web.json_response({"ok": True}, status=201)

    def tickets(self) -> list[str]:
        return [b["ticket"]["incident_id"] for b in self.kept.values() if b["event"] == "created"]

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/hook"

    async def close(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


class HeldJira(FakeJira):
    """The Jira fake, holding the answer to its first creation."""

    def __init__(self, hold: Hold) -> None:
        super().__init__()
        self.hold = hold

    async def create(self, request: web.Request) -> web.StreamResponse:
        answer = await super().create(request)
        await self.hold.first()
        return answer


def _incident(server: SerenoProcess) -> None:
    alert = {"name": "DiskFull", "resource": "db-1", "service": "payroll",
             "severity": "critical", "summary": "/var is 98% full"}  # fmt: skip
    status, _ = http_json("POST", f"{server.url}/api/v1/alerts/generic", alert)
    assert status == 202


def _kill_while_held(sereno: SerenoFactory, hold: Hold, extra: str) -> SerenoProcess:
    """Open an incident, SIGKILL Sereno once the backend has created its ticket and holds
    the answer, let the answer go to nobody, and start Sereno again on the same data."""
    first = sereno(extra=extra)
    _incident(first)
    assert hold.arrived.wait(HOLD_S), first.tail()
    first.kill()
    hold.release.set()
    return sereno(extra=extra)


def _delivered(server: SerenoProcess, backend: str) -> dict[str, Any]:
    body = eventually(
        lambda: server.get(f"/api/v1/tickets?backend={backend}"),
        lambda b: b["count"] == 1 and any(
            a["outcome"] == "delivered" for a in b["tickets"][0]["attempts"]
        ),
    )  # fmt: skip
    server.wait_idle()
    ticket: dict[str, Any] = body["tickets"][0]
    return ticket


def test_a_kill_during_a_webhook_delivery_leaves_one_ticket(
    sereno: SerenoFactory, loop_thread: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TICKET_WEBHOOK_SECRET", "s3cret")
    hold = Hold()
    receiver = TicketReceiver(hold)
    loop_thread.run(receiver.start())
    try:
        extra = (
            f"ticket_backends:\n  webhook:\n    url: {receiver.url}\n"
            "    secret: {env: TEST_TICKET_WEBHOOK_SECRET}\n    backoff_max_s: 0.2\n"
        )
        restarted = _kill_while_held(sereno, hold, extra)
        _delivered(restarted, "webhook")
        [incident] = restarted.get("/api/v1/incidents")["incidents"]
        assert receiver.tickets() == [incident["id"]]
        # Sent again after the restart, under the same key: the receiver kept one.
        created = [k for k, b in receiver.kept.items() if b["event"] == "created"]
        assert receiver.calls.count(created[0]) == 2
    finally:
        loop_thread.run(receiver.close())


def test_a_kill_during_a_jira_creation_leaves_one_issue(
    sereno: SerenoFactory, loop_thread: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_JIRA_TOKEN", TOKEN)
    hold = Hold()
    jira = HeldJira(hold)
    url = loop_thread.run(jira.start())
    try:
        extra = (
            f"ticket_backends:\n  jira:\n    url: {url}\n    project: OPS\n"
            f"    email: {EMAIL}\n    token: {{env: TEST_JIRA_TOKEN}}\n    backoff_max_s: 0.2\n"
        )
        restarted = _kill_while_held(sereno, hold, extra)
        ticket = _delivered(restarted, "jira")
        assert len(jira.issues) == 1
        assert list(jira.labelled().values()) == [1]
        assert ticket["external_ref"] == next(iter(jira.issues))
        assert jira.calls["POST /rest/api/2/issue"] == 1  # found by its label, not made again
    finally:
        loop_thread.run(jira.close())
