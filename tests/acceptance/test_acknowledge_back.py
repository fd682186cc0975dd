"""Acknowledging an incident in Sereno silences its alerts in the real Alertmanager: one
silence per alert, never two, also when the event comes again or Alertmanager was down.
Sereno is the whole app on loopback, on each store; Alertmanager is the real binary."""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.bus import Stream
from core.config import AcknowledgeBack, AlertmanagerAckBack, Settings
from core.models import IncidentEvent, IncidentEventKind
from core.store import Changes
from sereno.app import create_app
from sereno.auth.principal import Role
from sereno.keys import PIPELINE
from tests.acceptance.conftest import (
    START_TIMEOUT_S,
    alertmanager_binary,
    alertmanager_config,
    eventually,
    free_port,
    http_json,
)
from tests.sereno.auth_kit import token_for
from ticketer.acknowledge_back import marker_name

pytestmark = pytest.mark.e2e

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
LABELS = {"alertname": "DiskFull", "instance": "db-1:9100", "service": "mail",
          "severity": "critical"}  # fmt: skip
WITHIN_S = 30.0


class Alertmanager:
    """The real Alertmanager on a port chosen before it starts, so Sereno can be told where
    it is first, and so it comes back at the same address after a stop."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, sereno_url: str) -> None:
        config = self.folder / "alertmanager.yml"
        config.write_text(alertmanager_config(sereno_url, ["alertname"]))
        with (self.folder / "alertmanager.log").open("ab") as log:
            self.process = subprocess.Popen(
                [alertmanager_binary(), f"--config.file={config}",
                 f"--storage.path={self.folder / 'am-data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}", "--cluster.listen-address="],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        def ready() -> bool:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:  # noqa: S310 - loopback
                    return bool(r.status == 200)
            except OSError:
                return False

        eventually(ready, bool, within_s=START_TIMEOUT_S)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    async def silences(self) -> list[dict[str, Any]]:
        status, body = await asyncio.to_thread(http_json, "GET", f"{self.url}/api/v2/silences")
        assert status == 200, body
        return list(body)

    async def active(self) -> list[dict[str, Any]]:
        return [s for s in await self.silences() if s["status"]["state"] == "active"]

    def fire(self) -> None:
        alert = {"labels": LABELS, "annotations": {"summary": "db-1 disk 97% full"},
                 "startsAt": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
                 "endsAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat()}  # fmt: skip
        status, body = http_json("POST", f"{self.url}/api/v2/alerts", [alert])
        assert status == 200, body


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    am = Alertmanager(tmp_path)
    yield am
    am.stop()


async def until(probe: Callable[[], Awaitable[Any]], ready: Callable[[Any], bool]) -> Any:
    """Poll `probe` until `ready(result)`; fail with the last result after WITHIN_S."""
    last: Any = None
    deadline = time.monotonic() + WITHIN_S
    while time.monotonic() < deadline:
        last = await probe()
        if ready(last):
            return last
        await asyncio.sleep(0.1)
    pytest.fail(f"not ready within {WITHIN_S}s; last: {last}")


async def start(
    aiohttp_client: ClientFactory, settings: Settings, am: Alertmanager, language: str = "en"
) -> Client:
    back = AlertmanagerAckBack(url=am.url, duration=timedelta(hours=2), backoff_max_s=0.2)
    configured = settings.model_copy(
        update={"acknowledge_back": AcknowledgeBack(alertmanager=back), "language": language}
    )
    client = await aiohttp_client(create_app(configured))
    am.start(str(client.make_url("")).rstrip("/"))
    return client


async def incident_of_the_alert(client: Client, am: Alertmanager) -> str:
    await asyncio.to_thread(am.fire)

    async def incidents() -> Any:
        return await (await client.get("/api/v1/incidents")).json()

    body = await until(incidents, lambda b: b["count"] == 1)
    incident_id: str = body["incidents"][0]["id"]
    return incident_id


async def drained(client: Client) -> None:
    """Wait until the acknowledge-back stage has handled everything on `incidents`."""
    bus = client.app[PIPELINE].storage.bus

    async def lag() -> list[tuple[int, int]]:
        return [(b.unread, b.pending) for b in await bus.backlog()
                if b.stream is Stream.INCIDENTS and b.group == "ack-alertmanager"]  # fmt: skip

    await until(lag, lambda found: found == [(0, 0)])


async def again(client: Client, incident_id: str) -> None:
    """The acknowledged event once more on `incidents`, as a redelivery brings it."""
    pipeline = client.app[PIPELINE]
    incident = await pipeline.storage.store.get_incident(incident_id)
    assert incident is not None
    event = IncidentEvent(kind=IncidentEventKind.ACKNOWLEDGED, at=datetime.now(UTC),
                          incident=incident)  # fmt: skip
    await pipeline.storage.bus.publish(Stream.INCIDENTS, [event.model_dump_json()])
    await drained(client)


async def counted(client: Client, outcome: str) -> float:
    text = await (await client.get("/metrics")).text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("sereno_ticketer_acknowledge_back_calls_total{")
        and f'outcome="{outcome}"' in line
    )


async def test_acknowledging_silences_the_alert_once_and_resolving_expires_it(
    aiohttp_client: ClientFactory, storage_settings: Settings, alertmanager: Alertmanager
) -> None:
    client = await start(aiohttp_client, storage_settings, alertmanager)
    incident_id = await incident_of_the_alert(client, alertmanager)
    assert await alertmanager.silences() == []

    client.session.headers.update(await token_for(client, "alice", Role.OPERATOR))
    answer = await client.post(f"/api/v1/incidents/{incident_id}/ack", json={"note": "on it"})
    assert answer.status == 202
    [silence] = await until(alertmanager.active, lambda found: len(found) == 1)
    assert [(m["name"], m["value"], m["isRegex"], m["isEqual"]) for m in silence["matchers"]] == [
        (name, LABELS[name], False, True) for name in sorted(LABELS)
    ]
    assert silence["createdBy"] == "sereno"
    assert f"incident {incident_id}" in silence["comment"]
    assert "Acknowledged in Sereno by alice" in silence["comment"]
    # Alertmanager moves the start to its own now; the end is what was asked: 2 hours on.
    left = datetime.fromisoformat(silence["endsAt"]) - datetime.now(UTC)
    assert timedelta(hours=1, minutes=50) < left <= timedelta(hours=2)

    # Redelivered: the store remembers the silence.
    await again(client, incident_id)
    assert [s["id"] for s in await alertmanager.silences()] == [silence["id"]]

    # Redelivered after a crash that lost the commit: Alertmanager's own list tells.
    store = client.app[PIPELINE].storage.store
    await store.commit(Changes(markers={marker_name(incident_id): "{}"}))
    await again(client, incident_id)
    assert [s["id"] for s in await alertmanager.silences()] == [silence["id"]]
    assert await counted(client, "found") == 1
    assert await counted(client, "created") == 1

    assert (await client.post(f"/api/v1/incidents/{incident_id}/resolve")).status == 202
    [expired] = await until(
        alertmanager.silences, lambda found: [s["status"]["state"] for s in found] == ["expired"]
    )
    assert expired["id"] == silence["id"]


async def test_alertmanager_down_then_up_gets_the_silence_once(
    aiohttp_client: ClientFactory, storage_settings: Settings, alertmanager: Alertmanager
) -> None:
    client = await start(aiohttp_client, storage_settings, alertmanager, language="es")
    incident_id = await incident_of_the_alert(client, alertmanager)
    alertmanager.stop()

    client.session.headers.update(await token_for(client, "marta", Role.OPERATOR))
    answer = await client.post(f"/api/v1/incidents/{incident_id}/ack")
    assert answer.status == 202

    async def unavailable() -> float:
        return await counted(client, "unavailable")

    await until(unavailable, lambda n: n >= 3)
    alertmanager.start(str(client.make_url("")).rstrip("/"))
    [silence] = await until(alertmanager.active, lambda found: len(found) == 1)
    await drained(client)
    assert len(await alertmanager.silences()) == 1
    assert await counted(client, "created") == 1
    assert f"Reconocido en Sereno por marta: incidente {incident_id}" in silence["comment"]
