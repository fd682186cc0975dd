"""Grouping: which alerts belong to one incident, by the operator's correlation rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from core.models import Alert
from core.rules import Rules
from correlate.placement import Placement

DEFAULT_RULE = "default"


@dataclass(frozen=True, slots=True)
class Grouping:
    key: str
    """Correlation key: alerts with equal keys share one open incident."""
    rule: str
    why: str
    """The grouping in words, for the timeline."""
    reopen_window: timedelta


def _value(alert: Alert, field: str, placement: Placement) -> str:
    values = {
        "sender_group": alert.group_key,
        "service": placement.service,
        "resource": alert.resource,
        "site": placement.site,
        "name": alert.name,
        "source": alert.source,
        "severity": alert.severity.value,
    }
    return values[field] if field in values else alert.labels.get(field, "")


def group(alert: Alert, placement: Placement, rules: Rules) -> Grouping:
    """The grouping of `alert`: the first correlation rule that matches it, else the
    sender's own group (an Alertmanager group), else its service and resource."""
    rule = rules.correlation_rule(alert, placement.service)
    window = rules.correlation.reopen_window
    if rule is not None:
        values = {f: _value(alert, f, placement) for f in rule.group_by}
        if not all(values.values()):
            # A group with a blank value would gather unrelated alerts: this one stands alone.
            missing = ", ".join(f for f, v in values.items() if not v)
            return Grouping(
                f"alert:{alert.fingerprint}", rule.name,
                f"rule {rule.name}, but the alert has no {missing}: it stands alone",
                rule.reopen_window or window,
            )  # fmt: skip
        shown = ", ".join(f"{f}={v}" for f, v in values.items())
        key = f"rule:{rule.name}:" + "|".join(f"{f}={v}" for f, v in values.items())
        return Grouping(key, rule.name, f"rule {rule.name} ({shown})", rule.reopen_window or window)
    if alert.group_key:
        return Grouping(
            f"group:{alert.source}:{alert.group_key}", DEFAULT_RULE,
            f"same {alert.source} group ({alert.group_key})", window,
        )  # fmt: skip
    if placement.service or alert.resource:
        return Grouping(
            f"resource:{placement.service}/{alert.resource}", DEFAULT_RULE,
            f"same service '{placement.service}' and resource '{alert.resource}'", window,
        )  # fmt: skip
    return Grouping(
        f"alert:{alert.fingerprint}", DEFAULT_RULE,
        "an alert without service or resource stands alone", window,
    )  # fmt: skip


def within_window(resolved_at: datetime | None, now: datetime, window: timedelta) -> bool:
    """True when an incident resolved recently enough for a new alert of its key to reopen it."""
    return resolved_at is not None and now - resolved_at <= window
