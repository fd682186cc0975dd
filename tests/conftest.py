"""Shared fixtures: real SQLite files in tmp_path, a real Redis server under a prefix of
the test's own, the repository's example rules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from core.config import Settings
from core.metrics import BusMetrics
from core.rules import Rules, load_rules
from core.storage import Storage

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = REPO / "rules"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
REDIS_URL = "redis://127.0.0.1:6379/0"
"""The Redis the tests use; `.ci/run` starts one there when none answers."""

StorageFactory = Callable[..., Awaitable[Storage]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rules_dir=EXAMPLE_RULES)


@pytest.fixture
def rules() -> Rules:
    return load_rules(EXAMPLE_RULES)


def delete_keys(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (never FLUSHDB: other tests share the server)."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
        return len(keys)
    finally:
        client.close()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own on the test Redis, emptied afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as e:
        pytest.fail(f"no Redis answers at {REDIS_URL} ({e}); start redis-server (.ci/run does)")
    finally:
        client.close()
    prefix = f"{{sereno-test-{uuid.uuid4().hex}}}"
    yield prefix
    delete_keys(REDIS_URL, prefix)


@pytest.fixture(params=["sqlite", "redis"])
def storage_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """The test's settings on each backend in turn: every storage test runs on both."""
    if request.param == "sqlite":
        return settings
    prefix = request.getfixturevalue("redis_prefix")
    return settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})


@pytest.fixture
async def open_storage(storage_settings: Settings) -> AsyncIterator[StorageFactory]:
    """Open a Storage on the test's backend, with settings `overrides`; all closed after.

    Two opened at once on one backend are two processes' views of the same data."""
    opened: list[Storage] = []

    async def open_(metrics: BusMetrics | None = None, **overrides: object) -> Storage:
        storage = Storage(storage_settings.model_copy(update=overrides), metrics)
        await storage.open()
        opened.append(storage)
        return storage

    yield open_
    for storage in opened:
        await storage.close()


@pytest.fixture
async def storage(open_storage: StorageFactory) -> Storage:
    return await open_storage()
