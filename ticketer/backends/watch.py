"""Reading a ticket system back: the loop both RT's and GLPI's watchers run.

`poll` reads every ticket changed since the last poll; `nudge` (from a callback) asks for
one ticket at once. Both run in the one task of `run`, so a ticket is never read twice at
the same time; what a read takes is remembered in the store with the commands it publishes.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod

from core.errors import StorageUnavailableError
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError

NUDGE_RETRY_S = 0.5
NUDGE_TRIES = 20

log = logging.getLogger(__name__)


class Watcher(ABC):
    """Polls every `poll_s` and reads nudged tickets at once, until told to stop."""

    name: str
    poll_s: float

    def __init__(self) -> None:
        self._nudged: dict[str, tuple[int, int]] = {}
        """ticket -> (the change the callback named, reads tried)"""
        self._woken = asyncio.Event()

    @abstractmethod
    async def poll(self) -> int:
        """Read every ticket changed since the last poll; the commands published."""

    @abstractmethod
    async def read(self, ticket: str) -> int:
        """Read what changed on `ticket`; the commands published."""

    async def caught_up(self, ticket: str, change: int) -> bool:  # noqa: ARG002 - a system that names no change is always caught up
        """Whether a read of `ticket` has taken the change the callback named."""
        return True

    @abstractmethod
    async def close(self) -> None:
        """Let go of connections; the owner calls this once, at the end."""

    def nudge(self, ticket: str, change: int = 0) -> None:
        """A callback says `ticket` changed: read it soon, from the loop of `run` (the
        callback is answered first; the ticket system may still be committing it)."""
        wanted = self._nudged.get(ticket, (0, 0))[0]
        self._nudged[ticket] = (max(wanted, change), 0)
        self._woken.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set; rides out outages of the ticket system and storage."""
        loop = asyncio.get_running_loop()
        next_poll = 0.0
        while not stopping.is_set():
            try:
                if loop.time() >= next_poll:
                    next_poll = loop.time() + self.poll_s
                    await self.poll()
                await self._read_nudged()
            except (BackendUnavailableError, StorageUnavailableError) as e:
                log.warning("%s watch: %s; trying again", self.name, e)
            except BackendRejectedError:
                log.exception("%s watch: a read was refused; trying again", self.name)
            self._woken.clear()
            wait = next_poll - loop.time()
            if self._nudged:
                wait = min(wait, NUDGE_RETRY_S)
            waiting = [asyncio.ensure_future(e.wait()) for e in (stopping, self._woken)]
            await asyncio.wait(waiting, timeout=max(0.0, wait),
                               return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
            for future in waiting:
                future.cancel()

    async def _read_nudged(self) -> None:
        """Read each nudged ticket; one whose named change is not there yet is read again
        shortly, a few times, and then left to polling."""
        for ticket, (change, tries) in list(self._nudged.items()):
            del self._nudged[ticket]
            await self.read(ticket)
            if not await self.caught_up(ticket, change) and tries + 1 < NUDGE_TRIES:
                self._nudged[ticket] = (change, tries + 1)
