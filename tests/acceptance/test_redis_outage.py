"""Redis goes away and comes back under a running Sereno: ingest answers 503 with
Retry-After meanwhile (never 202 for an alert it could not store), readiness says so,
and everything reconnects by itself."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient

from core.config import Settings
from sereno.app import create_app
from tests.acceptance.conftest import free_port
from tests.sereno.test_app import wait_idle

pytestmark = pytest.mark.e2e

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]


class RedisServer:
    """A redis-server of the test's own on a loopback port, with an append-only file
    fsynced on every write: what it acknowledged survives even SIGKILL."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server missing: install the Debian package redis-server")
        self.folder.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        pytest.fail("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.kill()


def _alert(name: str) -> dict[str, str]:
    return {"name": name, "resource": "db-1", "service": "pay", "severity": "critical"}


async def _eventually(
    client: Client, path: str, ready: Callable[[Any], bool], within_s: float = 15
) -> Any:
    deadline = time.monotonic() + within_s
    body: Any = None
    while time.monotonic() < deadline:
        response = await client.get(path)
        if response.status == 200:
            body = await response.json()
            if ready(body):
                return body
        await asyncio.sleep(0.1)
    pytest.fail(f"{path} never became ready; last: {body}")


def _names(body: Any) -> list[list[str]]:
    return [sorted(a["name"] for a in i["sample"]) for i in body["incidents"]]


async def test_ingest_answers_503_while_redis_is_away_and_recovers_by_itself(
    aiohttp_client: ClientFactory, settings: Settings, redis_server: RedisServer
) -> None:
    on_redis = settings.model_copy(
        update={"redis_url": redis_server.url, "redis_prefix": "{sereno-outage}"}
    )
    client = await aiohttp_client(create_app(on_redis))
    before = await client.post("/api/v1/alerts/generic", json=_alert("DiskFull"))
    assert before.status == 202
    await _eventually(client, "/api/v1/incidents", lambda b: _names(b) == [["DiskFull"]])

    redis_server.kill()  # SIGKILL: no goodbye, no final save
    during = await client.post("/api/v1/alerts/generic", json=_alert("CpuHigh"))
    assert during.status == 503
    assert int(during.headers["Retry-After"]) > 0
    assert (await during.json())["error"] == "storage unavailable; retry later"
    ready = await client.get("/readyz")
    readiness = await ready.json()
    assert (ready.status, readiness["storage"], readiness["rules"]) == (503, False, True)
    assert (await client.get("/metrics")).status == 200  # this process's counters still
    assert (await client.get("/api/v1/incidents")).status == 503
    await asyncio.sleep(1.5)  # the stages keep trying meanwhile, and must not give up

    redis_server.start()  # same port, same append-only file
    deadline = time.monotonic() + 15
    status = 0
    while time.monotonic() < deadline and status != 202:
        status = (await client.post("/api/v1/alerts/generic", json=_alert("CpuHigh"))).status
        if status != 202:
            assert status == 503
            await asyncio.sleep(0.2)
    assert status == 202
    assert (await client.get("/readyz")).status == 200
    # The stages reconnected too, and what was stored before the outage was kept.
    both = [["CpuHigh", "DiskFull"]]
    await _eventually(client, "/api/v1/incidents", lambda b: _names(b) == both)
    tickets = await _eventually(client, "/api/v1/tickets", lambda b: b["count"] > 0)
    await wait_idle(client)
    assert (await (await client.get("/api/v1/tickets")).json())["count"] == tickets["count"] == 1
