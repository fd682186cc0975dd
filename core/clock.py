"""One clock for every stage: the wall clock live, a virtual clock in replay."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Where every stage reads the time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class WallClock:
    """Real time, for `serve` and workers."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class VirtualClock:
    """Time that moves only when told to: replay drives it from the alerts' own timestamps."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        """Move forward to `moment`; time never runs backwards, so earlier moments are ignored."""
        moment = moment.astimezone(UTC)
        self._now = max(moment, self._now)

    def advance(self, delta: timedelta) -> None:
        """Move forward by `delta`."""
        self._now += delta


async def idle(seconds: float) -> None:
    """Real sleep between polls; kept here so stages never call asyncio.sleep for time logic."""
    await asyncio.sleep(seconds)
