"""Silences and maintenance windows: covered alerts open nothing and are recorded."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core.matchers import Silence
from core.models import Alert, Suppression
from core.rules import Rules


def suppression(
    alert: Alert, service: str, rules: Rules, silences: Iterable[Silence], now: datetime
) -> Suppression | None:
    """The record of `alert` being suppressed at `now`, or None when nothing covers it."""
    for silence in silences:
        if silence.active(now) and silence.match.matches(alert, service):
            return _record(
                alert, service, now, f"silence:{silence.id}",
                f"silenced by {silence.created_by} until {silence.ends_at.isoformat()}: "
                f"{silence.comment}",
            )  # fmt: skip
    for window in rules.maintenance.windows:
        if window.match.matches(alert, service) and window.active(now, rules.maintenance.zone):
            comment = f": {window.comment}" if window.comment else ""
            return _record(
                alert, service, now, f"maintenance:{window.name}",
                f"inside maintenance window {window.name}{comment}",
            )  # fmt: skip
    return None


def _record(alert: Alert, service: str, now: datetime, by: str, reason: str) -> Suppression:
    return Suppression(
        at=now,
        fingerprint=alert.fingerprint,
        source=alert.source,
        source_id=alert.source_id,
        name=alert.name,
        resource=alert.resource,
        service=service,
        by=by,
        reason=reason,
    )
