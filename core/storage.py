"""The storage a process runs on: the bus and the store, created together, opened by one owner.

`settings.redis_url` chooses it: empty, the embedded SQLite file in `settings.data_dir`
(one process runs every stage); set, Redis under `settings.redis_prefix` (any number of
processes on any number of machines).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import TracebackType
from typing import Self

from core.bus import Bus
from core.bus.redis import RedisBus
from core.bus.sqlite import SqliteBus
from core.config import Settings
from core.metrics import BusMetrics
from core.redisdb import RedisDatabase
from core.sqlitedb import SqliteDatabase
from core.store import Store
from core.store.redis import RedisStore
from core.store.sqlite import SqliteStore

DATA_FILE = "sereno.db"


class Storage:
    """Bus and store over the embedded database or Redis, as the settings say.

    Creating it touches nothing; `open` opens the file (or makes the Redis client, which
    connects on first use) and `close` releases it. Also an async context manager.
    """

    def __init__(self, settings: Settings, metrics: BusMetrics | None = None) -> None:
        self.shared = bool(settings.redis_url)
        """True when other processes may run stages on the same storage (Redis)."""
        self._sqlite: SqliteDatabase | None = None
        self._redis: RedisDatabase | None = None
        self._bus: Bus
        self._store: Store
        if settings.redis_url:
            self._redis = RedisDatabase(
                settings.redis_url, settings.redis_prefix, f"sereno-{consumer_suffix()}"
            )
            self._bus = RedisBus(self._redis, settings.claim_idle_s, metrics)
            self._store = RedisStore(self._redis)
        else:
            self._sqlite = SqliteDatabase(
                Path(settings.data_dir) / DATA_FILE, settings.sqlite_synchronous
            )
            bus = SqliteBus(self._sqlite, settings.claim_idle_s, metrics)
            self._bus, self._store = bus, SqliteStore(self._sqlite, bus)

    @property
    def bus(self) -> Bus:
        return self._bus

    @property
    def store(self) -> Store:
        return self._store

    def describe(self) -> str:
        """Where the data lives, for the start-up log line."""
        if self._redis is not None:
            return f"redis {self._redis.url} under {self._redis.prefix}"
        assert self._sqlite is not None  # noqa: S101 - one of the two is always set
        return str(self._sqlite.path)

    def consumer(self, stage: str) -> str:
        """The consumer name `stage` reads under in this process.

        Embedded, one process owns the file: a fixed name, so a restart takes back at
        once what the stage held when it died. Shared, names must differ between
        processes, or two workers would take each other's entries for their own."""
        return f"{stage}-{consumer_suffix()}" if self.shared else f"{stage}-1"

    async def open(self) -> None:
        """Open the data file, or make the Redis client (which connects on first use)."""
        if self._redis is not None:
            self._redis.open()
        if self._sqlite is not None:
            self._sqlite.open()

    async def close(self) -> None:
        """Release the file or the client's connections."""
        if self._redis is not None:
            await self._redis.close()
        if self._sqlite is not None:
            self._sqlite.close()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()


def consumer_suffix() -> str:
    """hostname-pid: unique among the processes of one Redis, whatever the machine."""
    return f"{socket.gethostname()}-{os.getpid()}"
