"""A real Request Tracker 5 (Debian's request-tracker5 with SQLite) on a loopback port, set
up by contrib/rt/setup-test-rt.sh once per test session: it takes seconds to boot.

Under CI=1 a missing RT fails the tests that need it; elsewhere they are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from core.config import RtBackend, Secret

SETUP = Path(__file__).parents[2] / "contrib" / "rt" / "setup-test-rt.sh"
RT_SERVER = Path("/usr/share/request-tracker5/libexec/rt-server")
CALLBACK_SECRET = "rt-callback-secret"  # noqa: S105 - a test's shared secret
BOOT_S = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RtServer:
    """One RT instance: its directory, its port, the tokens of its users, and the port the
    scrip calls Sereno back on."""

    home: Path
    port: int = field(default_factory=free_port)
    callback_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(self, user: str = "sereno") -> str:
        name = "token" if user == "sereno" else "agent-token"
        return (self.home / name).read_text().strip()

    def settings(self, **overrides: Any) -> RtBackend:
        values: dict[str, Any] = {
            "url": self.url,
            "token": Secret(value=SecretStr(self.token())),
            "callback_secret": Secret(value=SecretStr(CALLBACK_SECRET)),
            "backoff_max_s": 0.2,
            "timeout_s": 5.0,
            # Every test's store numbers its incidents from INC-1: one RT, many namespaces.
            "reference_prefix": f"t{uuid4().hex[:8]}-",
        }
        return RtBackend(**(values | overrides))

    def init(self) -> None:
        env = os.environ | {
            "SERENO_CALLBACK_URL": f"http://127.0.0.1:{self.callback_port}/api/v1/callbacks/rt",
            "SERENO_CALLBACK_SECRET": CALLBACK_SECRET,
        }
        subprocess.run(
            [str(SETUP), "init", str(self.home), str(self.port)], check=True, env=env,
            capture_output=True, timeout=120,
        )  # fmt: skip

    def start(self) -> None:
        with (self.home / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [str(SETUP), "serve", str(self.home), str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + BOOT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"rt-server exited: {(self.home / 'server.log').read_text()[-2000:]}")
            if self.answers():
                return
            time.sleep(0.2)
        pytest.fail(f"rt-server not answering within {BOOT_S}s")

    def answers(self) -> bool:
        try:
            self.get("/rt")
        except OSError:
            return False
        return True

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None

    def request(self, method: str, path: str, body: object = None, user: str = "sereno") -> Any:
        """One REST2 call as `user` (the test's hand in RT, as an agent would act)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback URL built by the test
            f"{self.url}/REST/2.0{path}", data=data, method=method,
            headers={"Authorization": f"token {self.token(user)}",
                     "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read() or b"{}")

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def tickets(self, prefix: str, custom_field: str = "Sereno incident") -> dict[str, list[str]]:
        """Every ticket whose incident reference starts with `prefix`: reference -> RT ids."""
        query = urllib.parse.urlencode(
            {"query": f"'CF.{{{custom_field}}}' LIKE '{prefix}%'", "fields": "CustomFields",
             "per_page": "100"}
        )  # fmt: skip
        found: dict[str, list[str]] = {}
        for item in self.get(f"/tickets?{query}")["items"]:
            values = [v for cf in item["CustomFields"] for v in cf["values"]]
            for value in values:
                found.setdefault(value, []).append(str(item["id"]))
        return found


async def until(
    client: TestClient[Any, Any], path: str, ready: Callable[[Any], bool], within_s: float = 90.0
) -> Any:
    """Read `path` until `ready(body)`; RT takes most of a second per ticket, so the wait
    is a deadline of its own, longer than the app tests'."""
    deadline = time.monotonic() + within_s
    body: Any = None
    while time.monotonic() < deadline:
        body = await (await client.get(path)).json()
        if ready(body):
            return body
        await asyncio.sleep(0.1)
    pytest.fail(f"{path} not ready within {within_s}s; last body: {str(body)[:3000]}")


def rt_missing() -> None:
    if not RT_SERVER.exists():
        why = "rt-server missing: apt-get install request-tracker5 rt5-standalone rt5-db-sqlite"
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
