"""Datadog webhook integration: the payload template Sereno recommends
(contrib/datadog/webhook-payload.json), Datadog's default payload, and either of them
form-encoded ("Encode as form").

https://docs.datadoghq.com/integrations/webhooks/#usage

Datadog's default payload has no monitor id and no transition: body ($EVENT_MSG),
last_updated, event_type, title ($EVENT_TITLE), date, org, id ($ID, one per event). Its
title carries both, as Datadog writes event titles: "[Triggered on {host:db-3}] Disk usage
above 90%", "[Recovered on {host:db-3}] ...", "[Warn] ...", "[P2] [Triggered] ...". The
alert is then the monitor's name and scope read from the title. The fields Datadog's
documentation lists under their own variable names (alert_id, alert_transition,
alert_type, alert_priority, alert_scope, host_name) are read too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, stable_fingerprint, unmapped_severity
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "datadog"
# $ALERT_TRANSITION values that mean the monitor is fine again.
_RECOVERED = {"recovered"}
# Datadog's $ALERT_TYPE words, onto words the severity rules know.
_TYPE_WORDS = {"error": "major", "warning": "warning", "info": "info", "success": "info"}
# Sereno's field <- the name Datadog's documentation gives the same variable.
_ALIASES = {
    "transition": "alert_transition",
    "hostname": "host_name",
    "scope": "alert_scope",
}
# An event title such as: [P2] [Triggered on {host:db-3,env:prod}] Disk usage above 90%
_TITLE = re.compile(
    r"^(?:\[P\d\]\s*)?\[(?P<transition>[^\]{]+?)(?:\s+on\s+\{(?P<scope>[^}]*)\})?\]\s*(?P<name>.*)$"
)


class _Org(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    id: str = ""
    name: str = ""


class _DatadogEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    id: str = ""
    alert_id: str = ""
    title: str
    body: str = ""
    transition: str = ""
    alert_type: str = ""
    priority: str = ""
    alert_priority: str = ""
    event_type: str = ""
    hostname: str = ""
    scope: str = ""
    tags: str = ""
    link: str = ""
    date: str = ""
    aggreg_key: str = ""
    org: _Org = _Org()

    @field_validator("title")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty: send $EVENT_TITLE")
        return value


def _tags(raw: str) -> dict[str, str]:
    """'env:prod,service:mail,critical' → {'env': 'prod', 'service': 'mail', 'critical': ''}."""
    labels: dict[str, str] = {}
    for tag in raw.split(","):
        key, _, value = tag.strip().partition(":")
        if key and len(labels) < 200:
            labels[key[:256]] = value[:8192]
    return labels


def _when(raw: str, ctx: AdapterContext) -> datetime:
    """$DATE is epoch milliseconds; anything unreadable is the receipt time."""
    try:
        return datetime.fromtimestamp(int(raw) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return ctx.received_at


def _canonical(payload: object) -> object:
    if not isinstance(payload, dict):
        return payload
    out = dict(payload)
    for name, alias in _ALIASES.items():
        if not out.get(name) and out.get(alias):
            out[name] = out[alias]
    return out


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        event = _DatadogEvent.model_validate(_canonical(payload))
    except ValidationError as e:
        raise from_validation(e, "Datadog webhook") from e
    unfilled = [name for name in ("alert_id", "title") if getattr(event, name).startswith("$")]
    if unfilled:
        raise PayloadError(
            "Datadog did not fill in the template's variables",
            [FieldProblem(name, "still a $VARIABLE") for name in unfilled],
        )
    titled = _TITLE.match(event.title.strip())
    transition = event.transition or (titled["transition"] if titled else "")
    scope = event.scope or (titled["scope"] or "" if titled else "")
    name = titled["name"] if titled and titled["name"] else event.title
    labels = _tags(event.tags)
    if scope:
        labels["scope"] = scope[:8192]
    if event.event_type:
        labels["event_type"] = event.event_type[:8192]
    monitor = event.alert_id or name
    identity = {"alert": event.alert_id} if event.alert_id else {"monitor": name}
    source_id = f"{monitor}/{scope}" if scope else monitor
    word = _severity_word(event, transition)
    labels |= unmapped_severity(ctx.rules, SOURCE, word)
    status = (
        AlertStatus.RESOLVED if transition.strip().lower() in _RECOVERED else AlertStatus.FIRING
    )
    return [
        Alert(
            source=SOURCE,
            source_id=source_id[:512],
            fingerprint=stable_fingerprint(SOURCE, identity | {"scope": scope}),
            status=status,
            name=name[:512],
            resource=ctx.rules.resources.normalize(event.hostname or _host(labels, scope))[:512],
            service=labels.get("service", "")[:512],
            severity=ctx.rules.severity_of(SOURCE, word),
            labels=labels,
            annotations=_annotations(event, transition),
            summary=(event.body or event.title)[:8192],
            starts_at=_when(event.date, ctx),
            received_at=ctx.received_at,
            source_url=event.link[:4096] if event.link.startswith(("https://", "http://")) else "",
        )
    ]


def _host(labels: dict[str, str], scope: str) -> str:
    """The host a tag or the alert's scope (host:db-3,env:prod) names."""
    return labels.get("host") or _tags(scope).get("host", "")


def _severity_word(event: _DatadogEvent, transition: str) -> str | None:
    priority = next(
        (p for p in (event.alert_priority, event.priority) if p.upper() in {"P1", "P2"}), ""
    )
    if priority:
        return {"p1": "critical", "p2": "major"}[priority.lower()]
    if event.alert_type:
        return _TYPE_WORDS.get(event.alert_type, event.alert_type)
    # The default payload has no $ALERT_TYPE: a warning says so in its transition.
    return "warning" if "warn" in transition.lower() else None


def _annotations(event: _DatadogEvent, transition: str) -> dict[str, str]:
    found = {"body": event.body, "transition": transition, "event_id": event.id}
    return {name: value[:16_384] for name, value in found.items() if value}
