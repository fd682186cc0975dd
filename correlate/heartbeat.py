"""Heartbeats: a monitor that falls silent opens an incident of its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.models import Alert, AlertStatus
from core.rules import Heartbeat, Rules

SOURCE = "sereno"


def heartbeat_for(alert: Alert, service: str, rules: Rules) -> Heartbeat | None:
    """The heartbeat `alert` is a sign of life of, if any."""
    if alert.source == SOURCE:
        return None
    return next((h for h in rules.heartbeats if h.match.matches(alert, service)), None)


def silent(
    rules: Rules, last_seen: Mapping[str, datetime], now: datetime
) -> list[tuple[Heartbeat, datetime]]:
    """Heartbeats whose last sign of life is older than their period."""
    return [
        (h, last_seen[h.name])
        for h in rules.heartbeats
        if h.name in last_seen and now - last_seen[h.name] > h.every
    ]


def fingerprint(heartbeat: Heartbeat) -> str:
    return f"{SOURCE}:heartbeat:{heartbeat.name}"


def silence_alert(
    heartbeat: Heartbeat, last: datetime, now: datetime, status: AlertStatus
) -> Alert:
    """The alert Sereno raises itself for a silent monitor (or resolves when it speaks)."""
    quiet = int((now - last).total_seconds() // 60)
    return Alert(
        source=SOURCE,
        source_id=heartbeat.name,
        fingerprint=fingerprint(heartbeat),
        status=status,
        name=f"{heartbeat.name} silent",
        resource=heartbeat.name,
        service=heartbeat.service,
        severity=heartbeat.severity,
        summary=(
            f"{heartbeat.name} has sent nothing for {quiet} minutes (expected every "
            f"{int(heartbeat.every.total_seconds() // 60)} minutes; last sign of life "
            f"{last.strftime('%Y-%m-%d %H:%M')} UTC)"
            if status is AlertStatus.FIRING
            else f"{heartbeat.name} reports again"
        ),
        starts_at=last,
        received_at=now,
    )
