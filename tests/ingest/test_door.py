"""Safety at the door, over real loopback sockets: bodies that are not what they claim,
bodies that inflate past the limit, and senders too slow to finish their request."""

from __future__ import annotations

import asyncio
import gzip
import resource
import zlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.config import IngestSettings, Settings
from sereno.app import create_app
from tests.conftest import EXAMPLE_RULES

Client = TestClient[Any, Any]
ClientFactory = Callable[..., Awaitable[Client]]
ALERT = b'{"name": "DiskFull", "resource": "db-1"}'
URL = "/api/v1/alerts/generic"
ANSWER_WITHIN_S = 10.0


async def _client(aiohttp_client: ClientFactory, tmp_path: Path, ingest: IngestSettings) -> Client:
    settings = Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES, ingest=ingest)
    return await aiohttp_client(create_app(settings))


async def test_a_body_declared_gzip_that_is_not_gets_400_naming_the_encoding(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await client.post(URL, data=ALERT, headers=headers)
    assert response.status == 400
    body = await response.json()
    assert body["detail"] == [{"field": "Content-Encoding", "problem": "body is not valid gzip"}]
    good = await client.post(URL, data=gzip.compress(ALERT), headers=headers)
    assert good.status == 202


def _bomb(inflated: int) -> bytes:
    """A gzip body of `inflated` zero bytes, a thousandth of that on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [packer.compress(b'{"name": "')]
    parts += [packer.compress(zeros) for _ in range(inflated >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


async def test_a_gzip_bomb_is_refused_413_without_inflating_it(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    inflated = 512 << 20  # zeros: inflated in memory, they would show in the peak
    bomb = _bomb(inflated)
    limit = 1 << 20
    assert len(bomb) < limit  # under the limit as sent: only inflating passes it
    client = await _client(aiohttp_client, tmp_path, IngestSettings(max_body_bytes=limit))
    before = _peak_rss_bytes()
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    response = await client.post(URL, data=bomb, headers=headers)
    assert response.status == 413
    assert "inflated" in (await response.json())["error"]
    assert _peak_rss_bytes() - before < 200 << 20
    # The server still serves.
    assert (await client.post(URL, data=ALERT, headers={"Content-Type": "application/json"})
            ).status == 202  # fmt: skip


async def _slow_request(port: int, sent: bytes, announced: int) -> bytes:
    """Send the headers of a POST announcing `announced` body bytes, then only `sent`;
    return whatever the server answers before closing, or b"" if it never does."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {announced}\r\n\r\n"
    )
    writer.write(head.encode() + sent)
    await writer.drain()
    try:
        async with asyncio.timeout(ANSWER_WITHIN_S):
            return await reader.read(4096)
    except TimeoutError:
        return b""
    finally:
        writer.close()


async def test_slow_bodies_are_cut_off_and_free_their_request_slots(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    ingest = IngestSettings(max_in_flight=2, body_timeout_s=0.5)
    client = await _client(aiohttp_client, tmp_path, ingest)
    port = client.port
    assert port is not None
    slow = [asyncio.create_task(_slow_request(port, ALERT[:10], len(ALERT))) for _ in range(2)]
    answers = await asyncio.gather(*slow)
    for answer in answers:
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"ingest.body_timeout_s" in answer
    response = await client.post(URL, data=ALERT, headers={"Content-Type": "application/json"})
    assert response.status == 202


async def test_a_client_dribbling_its_headers_takes_no_request_slot(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await _client(aiohttp_client, tmp_path, IngestSettings(max_in_flight=1))
    assert client.port is not None
    _, writer = await asyncio.open_connection("127.0.0.1", client.port)
    writer.write(f"POST {URL} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
    await writer.drain()
    try:
        response = await client.post(URL, data=ALERT, headers={"Content-Type": "application/json"})
        assert response.status == 202
    finally:
        writer.close()
