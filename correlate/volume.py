"""Counting what arrives: alerts per hour, source and name, and how many were repeats or
suppressed. The counts are committed with the batch that saw the alerts."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from core.models import Alert, AlertVolume

_Key = tuple[datetime, str, str]


def _key(alert: Alert) -> _Key:
    return alert.received_at.replace(minute=0, second=0, microsecond=0), alert.source, alert.name


class VolumeTally:
    """The counts of one batch. Only received alerts count: the alerts correlate makes up
    itself (a silent monitor's) were never received, so their fate is not counted either."""

    def __init__(self) -> None:
        self._received: set[int] = set()
        self._counts: dict[str, Counter[_Key]] = {
            "received": Counter(),
            "deduplicated": Counter(),
            "suppressed": Counter(),
        }

    def _count(self, what: str, alert: Alert) -> None:
        if id(alert) in self._received:
            self._counts[what][_key(alert)] += 1

    def received(self, alert: Alert) -> None:
        self._received.add(id(alert))
        self._count("received", alert)

    def deduplicated(self, alert: Alert) -> None:
        self._count("deduplicated", alert)

    def suppressed(self, alert: Alert) -> None:
        self._count("suppressed", alert)

    def volumes(self) -> list[AlertVolume]:
        """The batch's counts, as increments for the store."""
        return [
            AlertVolume(
                hour=hour,
                source=source,
                name=name,
                received=count,
                deduplicated=self._counts["deduplicated"][hour, source, name],
                suppressed=self._counts["suppressed"][hour, source, name],
            )
            for (hour, source, name), count in sorted(self._counts["received"].items())
        ]
