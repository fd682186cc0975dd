"""Datadog webhook integration, with the payload template Sereno recommends
(contrib/datadog/webhook-payload.json), built from Datadog's documented variables.

https://docs.datadoghq.com/integrations/webhooks/#usage
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, stable_fingerprint
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "datadog"
# $ALERT_TRANSITION values that mean the monitor is fine again.
_RECOVERED = {"recovered"}
# Datadog's $ALERT_TYPE words, onto words the severity rules know.
_TYPE_WORDS = {"error": "major", "warning": "warning", "info": "info", "success": "info"}


class _Org(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = ""
    name: str = ""


class _DatadogEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = ""
    alert_id: str
    title: str
    body: str = ""
    transition: str
    alert_type: str = ""
    priority: str = ""
    hostname: str = ""
    scope: str = ""
    tags: str = ""
    link: str = ""
    date: str = ""
    aggreg_key: str = ""
    org: _Org = _Org()

    @field_validator("alert_id", "title", "transition")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty: use the recommended payload template")
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


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        event = _DatadogEvent.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Datadog webhook") from e
    unfilled = [name for name in ("alert_id", "title") if getattr(event, name).startswith("$")]
    if unfilled:
        raise PayloadError(
            "Datadog did not fill in the template's variables",
            [FieldProblem(name, "still a $VARIABLE") for name in unfilled],
        )
    labels = _tags(event.tags)
    if event.scope:
        labels["scope"] = event.scope[:8192]
    source_id = f"{event.alert_id}/{event.scope}" if event.scope else event.alert_id
    status = (
        AlertStatus.RESOLVED
        if event.transition.strip().lower() in _RECOVERED
        else AlertStatus.FIRING
    )
    word = event.priority if event.priority.upper() in {"P1", "P2"} else event.alert_type
    severity_word = {"p1": "critical", "p2": "major"}.get(word.lower(), _TYPE_WORDS.get(word, word))
    return [
        Alert(
            source=SOURCE,
            source_id=source_id[:512],
            fingerprint=stable_fingerprint(SOURCE, {"alert": event.alert_id, "scope": event.scope}),
            status=status,
            name=event.title[:512],
            resource=ctx.rules.resources.normalize(event.hostname or labels.get("host", ""))[:512],
            service=labels.get("service", "")[:512],
            severity=ctx.rules.severity_of(SOURCE, severity_word or None),
            labels=labels,
            annotations={"body": event.body[:16_384]} if event.body else {},
            summary=(event.body or event.title)[:8192],
            starts_at=_when(event.date, ctx),
            received_at=ctx.received_at,
            source_url=event.link[:4096] if event.link.startswith(("https://", "http://")) else "",
        )
    ]
