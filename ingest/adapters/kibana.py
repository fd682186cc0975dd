"""Elastic Kibana alerting rules, through Kibana's Webhook connector.

https://www.elastic.co/guide/en/kibana/current/webhook-action-type.html
https://www.elastic.co/guide/en/kibana/current/rule-action-variables.html

Kibana posts whatever body the rule's action writes with its Mustache variables, escaped
for JSON. Sereno reads the bodies of contrib/kibana/ (see docs/senders.md):

- for each alert: `rule` {id, name, type, tags, url, spaceId}, `alert` {id, uuid,
  actionGroup, actionGroupName, flapping}, `context` (the rule type's variables: reason,
  message, title, link, host...), `date`;
- a summary of alerts: `rule` and `alerts`, a list of {id, uuid, status, flapping, reason,
  actionGroup, start} written from `alerts.all.data`.

An alert is one of a rule's alerts (`alert.id`, e.g. the host a metric rule groups by), in
its space. The `recovered` action group or status resolves it; any other group fires it;
`untracked` (Kibana stopped watching it) is no news and makes no alert. `flapping` is
Kibana's own flapping flag. Kibana rules carry no severity: a `severity` written into the
body (a literal per action) is used, else "warning" for an action group that says warning,
else the source's default severity.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.models import EARLIEST, Alert, AlertStatus
from ingest.adapters import AdapterContext, first_label, unicode_fingerprint, unmapped_severity
from ingest.adapters.batch import each_item
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "kibana"
_RECOVERED = "recovered"
_UNTRACKED = "untracked"
_LABEL_VALUE_MAX = 8192
_FUTURE_SLACK = timedelta(days=1)
# Context fields that name the affected host, as rule types write them.
_HOST_FIELDS = ("resource", "host", "host.name", "hostName", "hostname", "group")


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value) if isinstance(value, str | int | float) else ""


class _Rule(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    type: str = ""
    tags: str = ""
    url: str = ""
    spaceId: str = "default"  # noqa: N815 - Kibana's variable names

    @field_validator("tags", "type", "url", "spaceId", "id", "name", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> str:
        return _text(value)


class _KibanaAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    uuid: str = ""
    actionGroup: str = ""  # noqa: N815
    actionGroupName: str = ""  # noqa: N815
    status: str = ""
    flapping: str = ""
    reason: str = ""
    start: str = ""
    resource: str = ""
    severity: str = ""

    @field_validator("*", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> str:
        return _text(value)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rule: _Rule
    alert: _KibanaAlert | None = None
    alerts: list[Any] | None = None  # each read alone, so one bad alert costs only itself
    context: dict[str, Any] = Field(default_factory=dict)
    date: str = ""
    severity: str = ""
    kibanaBaseUrl: str = ""  # noqa: N815


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        body = _Body.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Kibana webhook") from e
    if body.alert is None and body.alerts is None:
        raise PayloadError(
            "invalid Kibana webhook: it names no alert",
            [FieldProblem("alert", "write alert (for each alert) or alerts (a summary)")],
        )
    if body.alert is not None:
        return [] if _untracked(body.alert) else [_alert(body, body.alert, ctx)]
    return each_item(body.alerts or [], lambda item: _summarised(body, item, ctx), "Kibana summary")


def _summarised(body: _Body, item: object, ctx: AdapterContext) -> Alert | None:
    alert = _KibanaAlert.model_validate(item)
    return None if _untracked(alert) else _alert(body, alert, ctx)


def _untracked(item: _KibanaAlert) -> bool:
    return (item.status or item.actionGroup).strip().lower() == _UNTRACKED


def _alert(body: _Body, item: _KibanaAlert, ctx: AdapterContext) -> Alert:
    rule = body.rule
    context = {k: _text(v) for k, v in body.context.items()}
    group = item.actionGroup or item.status
    status = (
        AlertStatus.RESOLVED
        if _RECOVERED in {group.strip().lower(), item.status.strip().lower()}
        else AlertStatus.FIRING
    )
    labels = _tags(rule.tags)
    labels |= {"alertname": rule.name[:_LABEL_VALUE_MAX], "alert_id": item.id[:_LABEL_VALUE_MAX]}
    if rule.type:
        labels["rule_type"] = rule.type[:_LABEL_VALUE_MAX]
    at = _time(item.start or body.date, ctx)
    identity = {"rule": rule.id, "alert": item.id, "space": rule.spaceId}
    word = item.severity or body.severity or ("warning" if "warn" in group.lower() else "")
    return Alert(
        source=SOURCE,
        source_id=f"{rule.id}/{item.id}"[:512],
        fingerprint=unicode_fingerprint(SOURCE, identity, "Kibana webhook"),
        status=status,
        name=rule.name[:512],
        resource=ctx.rules.resources.normalize(
            item.resource or first_label(context, *_HOST_FIELDS)
        )[:512],
        service=(labels.get("service") or "")[:512],
        severity=ctx.rules.severity_of(SOURCE, word or None),
        labels=labels | unmapped_severity(ctx.rules, SOURCE, word),
        annotations=_annotations(item, group, context),
        summary=(item.reason or first_label(context, "reason", "message", "title") or rule.name)[
            :8192
        ],
        starts_at=at,
        ends_at=at if status is AlertStatus.RESOLVED else None,
        received_at=ctx.received_at,
        source_url=_url(first_label(context, "link", "viewInAppUrl", "alertDetailsUrl"), rule.url),
        flapping=item.flapping.strip().lower() == "true",
    )


def _tags(raw: str) -> dict[str, str]:
    """Rule tags 'service:mail,prod' → {'service': 'mail', 'prod': ''}."""
    labels: dict[str, str] = {}
    for tag in raw.split(","):
        key, _, value = tag.strip().partition(":")
        if key and len(labels) < 200:
            labels[key[:256]] = value[:_LABEL_VALUE_MAX]
    return labels


def _annotations(item: _KibanaAlert, group: str, context: dict[str, str]) -> dict[str, str]:
    found = {
        "action_group": item.actionGroupName or group,
        "alert_uuid": item.uuid,
        **{f"context.{k}"[:256]: v for k, v in list(context.items())[:100]},
    }
    return {k: v[:_LABEL_VALUE_MAX] for k, v in found.items() if v.strip()}


def _time(raw: str, ctx: AdapterContext) -> datetime:
    """Kibana's ISO 8601 dates; anything unreadable or implausible is the receipt time."""
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return ctx.received_at
    if value.tzinfo is None:
        return ctx.received_at
    value = value.astimezone(UTC)
    return value if EARLIEST <= value <= ctx.received_at + _FUTURE_SLACK else ctx.received_at


def _url(*candidates: str) -> str:
    return next((u for u in candidates if u.startswith(("https://", "http://"))), "")[:4096]
