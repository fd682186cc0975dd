"""Redis as storage: one client per process, opened and closed by its owner.

Every key starts with the configured prefix, whose {hash tag} puts them all in one Redis
Cluster slot, so one Lua script may change any of them atomically. Connection trouble
leaves this module as StorageUnavailableError; nothing above it sees a Redis exception.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.bus import Stream
from core.errors import StorageUnavailableError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
COMMAND_TIMEOUT_S = 5.0
"""Longer than any blocking read the bus makes, so only a dead server times out."""
RETRIES = 2
"""Retries of a command whose connection failed, over about half a second: enough to ride
out a dropped connection, short enough that ingest answers 503 instead of hanging. A retry
of a commit that did happen is refused as NotPendingError, so it never applies twice."""

# Server replies that mean "cannot write now", not "your command is wrong".
_UNAVAILABLE_REPLIES = (
    "LOADING", "MISCONF", "OOM", "READONLY", "NOREPLICAS", "MASTERDOWN", "TRYAGAIN",
    "CLUSTERDOWN",
)  # fmt: skip


def text(reply: object) -> str:
    """A reply as text. The client decodes replies already; this is for the type checker,
    which cannot know that, and would turn stray bytes into text rather than "b'...'"."""
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def optional_text(reply: object) -> str | None:
    """`text`, keeping a missing value (None) missing."""
    return None if reply is None else text(reply)


@contextmanager
def unavailable() -> Iterator[None]:
    """Translate connection trouble and can't-write-now replies to StorageUnavailableError."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as e:
        raise StorageUnavailableError(f"redis: {e}") from e
    except ResponseError as e:
        if str(e).startswith(_UNAVAILABLE_REPLIES):
            raise StorageUnavailableError(f"redis: {e}") from e
        raise


class RedisDatabase:
    """Owns the client of one Redis server and names the keys under one prefix.

    Creating it, and opening it, touch no network: the client connects on first use and
    reconnects by itself after the server comes back.
    """

    def __init__(self, url: str, prefix: str, client_name: str = "") -> None:
        self.url = url
        self.prefix = prefix
        self._client_name = client_name or f"sereno-{socket.gethostname()}"
        self._client: aioredis.Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def open(self) -> None:
        """Make the client; it connects on first use, so a server that is down is reported
        by the first command (as StorageUnavailableError), not here."""
        self._client = aioredis.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_timeout=COMMAND_TIMEOUT_S,
            health_check_interval=5,
            retry=Retry(EqualJitterBackoff(cap=0.4, base=0.05), RETRIES),
            client_name=self._client_name,
        )

    async def close(self) -> None:
        """Close the client's connections; closing twice is harmless."""
        if self._client is not None:
            client, self._client = self._client, None
            self._scripts.clear()
            await client.aclose()

    def script(self, source: str) -> AsyncScript:
        """Lua `source` on this client: sent once, and again after a server restart."""
        found = self._scripts.get(source)
        if found is None:
            found = self._scripts[source] = self.client.register_script(source)
        return found

    @property
    def client(self) -> aioredis.Redis:
        """The open client; RuntimeError before `open` or after `close`."""
        if self._client is None:
            raise RuntimeError("redis storage is not open")
        return self._client

    def key(self, *parts: str) -> str:
        """`prefix:part:part`; every key Sereno uses is made here."""
        return ":".join((self.prefix, *parts))

    def stream_key(self, stream: Stream) -> str:
        """The Redis stream of `stream`."""
        return self.key("stream", stream.value)

    def dead_key(self, stream: Stream) -> str:
        """The Redis stream of `stream`'s dead letters."""
        return self.key("dead", stream.value)
