"""Real processes for end-to-end tests: `sereno serve`, `sereno worker` and the
Alertmanager binary."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from core.config import Settings
from tests.conftest import EXAMPLE_RULES, REDIS_URL

SERENO = Path(sys.executable).with_name("sereno")
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def http_json(
    method: str, url: str, body: object = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """One request over loopback; returns the status and the decoded JSON (or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URLs built by the tests
        url, data=data, method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def metric_sum(url: str, name: str) -> float:
    """The sum of every series of metric `name` on `url`/metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:  # noqa: S310
        text = r.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith((name + "{", name + " "))
    )


def alertmanager_config(sereno_url: str, group_by: list[str]) -> str:
    """An Alertmanager configuration sending every group to Sereno at once."""
    return f"""
route:
  receiver: sereno
  group_by: {group_by}
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: sereno
    webhook_configs:
      - url: {sereno_url}/api/v1/alerts/alertmanager
        send_resolved: true
"""


def eventually(
    probe: Callable[[], Any], ready: Callable[[Any], bool], within_s: float = 30.0
) -> Any:
    """Poll `probe` until `ready(result)`; fail with the last result after `within_s`."""
    deadline = time.monotonic() + within_s
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if ready(last):
            return last
        time.sleep(0.1)
    pytest.fail(f"condition not met within {within_s}s; last: {json.dumps(last)[:2000]}")


def backlog(url: str) -> float:
    """Stream entries some group has not read or not acknowledged yet, on `url`/metrics."""
    return metric_sum(url, "sereno_bus_backlog_unread") + metric_sum(
        url, "sereno_bus_backlog_pending"
    )


def wait_idle(url: str, within_s: float = 30.0) -> None:
    """Wait until the pipeline behind `url` has nothing left to do: every group of every
    stream has read and acknowledged everything. What a test checks after this will not
    change by itself (no fixed sleep standing for "nothing more happens")."""
    eventually(lambda: backlog(url), lambda left: left == 0, within_s)


def wait_ready(
    process: subprocess.Popen[bytes], url: str, what: str, tail: Callable[[], str]
) -> None:
    """Wait until `url`/readyz answers 200; fail with the log's tail if `process` exits or
    never gets ready."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}:\n{tail()}")
        try:
            if http_json("GET", f"{url}/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{what} did not become ready:\n{tail()}")


@dataclass
class SerenoProcess:
    """One `sereno serve` child process on a loopback port."""

    config: Path
    data: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    redis_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SerenoProcess:
        redis = [] if self.redis_url is None else ["--redis", self.redis_url]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SERENO), "serve", "--config", str(self.config),
                 "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data), *redis],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_ready(self.process, self.url, "sereno", self.tail)
        return self

    def get(self, path: str) -> Any:
        status, body = http_json("GET", f"{self.url}{path}")
        assert status == 200, (status, body, self.tail())
        return body

    def metric_sum(self, name: str) -> float:
        return metric_sum(self.url, name)

    def wait_idle(self, within_s: float = 30.0) -> None:
        wait_idle(self.url, within_s)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no draining; what was not committed is lost."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


SerenoFactory = Callable[..., SerenoProcess]


@pytest.fixture
def sereno(tmp_path: Path) -> Iterator[SerenoFactory]:
    """Start `sereno serve` with the example rules; `stages=[...]` limits what it runs,
    `redis=Settings` keeps its streams and state in that Redis under that prefix, `extra`
    adds lines (YAML) to its settings file."""
    started: list[SerenoProcess] = []

    def start(
        stages: list[str] | None = None,
        data: Path | None = None,
        redis: Settings | None = None,
        extra: str = "",
    ) -> SerenoProcess:
        config = tmp_path / f"sereno-{len(started)}.yaml"
        lines = [f"rules_dir: {EXAMPLE_RULES}", *extra.splitlines()]
        if stages is not None:
            lines.append(f"stages: [{', '.join(stages)}]")
        if redis is not None:
            lines.append(f"redis_prefix: '{redis.redis_prefix}'")
        config.write_text("\n".join(lines) + "\n")
        process = SerenoProcess(
            config, data or tmp_path / "data", tmp_path / "sereno.log",
            redis_url=None if redis is None else redis.redis_url,
        )  # fmt: skip
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()


def alertmanager_binary() -> str:
    found = shutil.which("alertmanager") or shutil.which("prometheus-alertmanager")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "alertmanager binary missing: install Debian package prometheus-alertmanager"
            )
        pytest.skip("alertmanager binary not installed (Debian package prometheus-alertmanager)")
    return found


@dataclass
class AlertmanagerProcess:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Callable[[str], AlertmanagerProcess]]:
    """Start the real Alertmanager with a webhook receiver pointing at `sereno_url`."""
    children: list[subprocess.Popen[bytes]] = []

    def start(sereno_url: str) -> AlertmanagerProcess:
        config = tmp_path / "alertmanager.yml"
        config.write_text(alertmanager_config(sereno_url, ["alertname", "service"]))
        port = free_port()
        with (tmp_path / "alertmanager.log").open("ab") as log:
            process = subprocess.Popen(
                [alertmanager_binary(), f"--config.file={config}",
                 f"--storage.path={tmp_path / 'am-data'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        children.append(process)
        url = f"http://127.0.0.1:{port}"

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as r:  # noqa: S310
                    return bool(r.status == 200)
            except OSError:
                return False

        eventually(ready, bool, within_s=START_TIMEOUT_S)
        return AlertmanagerProcess(url, process)

    yield start
    for child in children:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()


@dataclass
class WorkerProcess:
    """One `sereno worker STAGE` child process against the test's Redis prefix, serving
    /readyz and /metrics on a loopback port of its own."""

    stage: str
    config: Path
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WorkerProcess:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(SERENO), "worker", self.stage, "--config", str(self.config),
                 "--listen", f"127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        wait_ready(self.process, self.url, "worker", self.tail)
        return self

    def metric_sum(self, name: str) -> float:
        return metric_sum(self.url, name)

    def kill(self) -> None:
        """SIGKILL: the worker dies holding whatever batch it had in hand."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM, as a supervisor stops it: it finishes its batch and exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return None if self.process is None else self.process.returncode

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


WorkerFactory = Callable[..., WorkerProcess]


@pytest.fixture
def redis_settings(settings: Settings, redis_prefix: str) -> Settings:
    """The test's settings on the test Redis, under the test's own key prefix."""
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})


@pytest.fixture
def redis_workers(tmp_path: Path, redis_settings: Settings) -> Iterator[WorkerFactory]:
    """Start `sereno worker STAGE` processes sharing the test's Redis prefix."""
    started: list[WorkerProcess] = []

    def start(stage: str, claim_idle_s: float = 30.0) -> WorkerProcess:
        config = tmp_path / f"worker-{len(started)}.yaml"
        config.write_text(
            f"rules_dir: {EXAMPLE_RULES}\nredis_url: {redis_settings.redis_url}\n"
            f"redis_prefix: '{redis_settings.redis_prefix}'\nclaim_idle_s: {claim_idle_s}\n"
        )
        log = tmp_path / f"worker-{len(started)}-{stage}.log"
        worker = WorkerProcess(stage, config, log)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
