"""A message decided, before it is written for each of its channels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Planned:
    """One message to `channels`, from `template`; `key` tells it apart from the incident's
    other messages, so a redelivered event can never make it twice."""

    kind: str
    template: str
    channels: tuple[str, ...]
    key: str
    level: int = 0
    update_number: int = 0
    next_update_at: datetime | None = None
