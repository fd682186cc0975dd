"""Grouping: which alerts belong to one incident."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import Alert


def correlation_key(alert: Alert) -> str:
    """The key shared by alerts of one incident.

    The sender's own group (an Alertmanager group key) wins: the operator already said
    there which alerts belong together. Otherwise alerts about the same service and
    resource belong together; an alert with neither stands alone.
    """
    if alert.group_key:
        return f"group:{alert.source}:{alert.group_key}"
    if alert.service or alert.resource:
        return f"resource:{alert.service}/{alert.resource}"
    return f"alert:{alert.fingerprint}"


def within_window(resolved_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """True when an incident resolved recently enough for a new alert of its key to reopen it."""
    return resolved_at is not None and now - resolved_at <= window


def describe_key(key: str) -> str:
    """The grouping rule behind `key`, in words for the timeline."""
    kind, _, value = key.partition(":")
    if kind == "group":
        return f"same sender group ({value.partition(':')[2]})"
    if kind == "resource":
        service, _, resource = value.partition("/")
        return f"same service '{service}' and resource '{resource}'"
    return "alert without service or resource stands alone"
