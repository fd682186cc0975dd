"""PagerDuty Events API v2: the body senders POST to https://events.pagerduty.com/v2/enqueue.

https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
https://github.com/PagerDuty/api-schema/blob/main/reference/events-v2/openapiv3.json

One event per request. `trigger` opens or updates the alert named by `dedup_key`;
`acknowledge` and `resolve` act on it, so all three share one fingerprint
(routing_key + dedup_key). When a trigger has no dedup_key PagerDuty makes a random one
and returns it; so do we: the key is the alert's `source_id`, which the route hands back
through `success_body` so the sender can acknowledge and resolve later.

Service: `custom_details.service` when the sender sets one, else `payload.group`
("logical grouping of components of a service"), never `payload.component` (a part of
the source machine, such as mysql). Resource: `custom_details.resource` when the sender
sets one, else `payload.source`. `routing_key` is a credential: it feeds the fingerprint
and nothing else, never a label.

Alertmanager's `pagerduty_configs` send `payload.source` = `client` = "Alertmanager" and
put the group's alerts in `custom_details.firing` / `.resolved` (see
ingest/adapters/alertmanager_details.py). Such an event's resource, service and name come
from the labels its alerts share (instance, job, alertname...), never from Alertmanager's
own name, so unrelated groups of one cluster stay apart.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, first_label, stable_fingerprint
from ingest.adapters.alertmanager_details import shared_labels
from ingest.adapters.labelled import RESOURCE_LABELS, SERVICE_LABELS
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "pagerduty"

ROUTING_KEY_LENGTH = 32
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024  # PagerDuty truncates longer summaries; so do we
_NAME_MAX = 512
_RESOURCE_MAX = 512
_SERVICE_MAX = 512
_URL_MAX = 4096
_LABEL_VALUE_MAX = 8192
_DETAILS_DEPTH = 5  # deeper custom_details are kept as one JSON string
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=1)


class _Link(BaseModel):
    model_config = ConfigDict(extra="ignore")

    href: str
    text: str = ""


class _Payload(BaseModel):
    """PD-CEF fields; which are required depends on the event action, checked after."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    summary: str | None = None
    source: str | None = None
    severity: Literal["critical", "error", "warning", "info"] | None = None
    timestamp: Any = None  # optional at PagerDuty: a bad one is ignored, never fatal
    component: str = ""
    group: str = ""
    event_class: str = Field(default="", alias="class")
    custom_details: Any = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")

    routing_key: str
    event_action: Literal["trigger", "acknowledge", "resolve"]
    dedup_key: str | None = None
    payload: _Payload | None = None
    client: str = ""
    client_url: str = ""
    links: list[_Link] = Field(default_factory=list)


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    """One alert for one event; its `source_id` is the dedup_key (generated when absent)."""
    try:
        event = _Event.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "PagerDuty event") from e
    problems = _problems(event)
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise PayloadError(f"invalid PagerDuty event: check {fields}", problems)
    dedup_key = event.dedup_key or uuid.uuid4().hex
    return [_alert(event, dedup_key, ctx)]


def error_body(problems: Sequence[FieldProblem]) -> dict[str, object]:
    """PagerDuty's own 400 body, for senders that parse it."""
    return {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [f"{p.field}: {p.problem}" for p in problems],
    }


def success_body(dedup_key: str) -> dict[str, str]:
    """PagerDuty's own 202 body; `dedup_key` is the accepted alert's `source_id`."""
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def _problems(event: _Event) -> list[FieldProblem]:
    problems = []
    if len(event.routing_key) != ROUTING_KEY_LENGTH:
        problems.append(
            FieldProblem("routing_key", "length is incorrect (should be 32 characters)")
        )
    if event.dedup_key is not None and len(event.dedup_key) > DEDUP_KEY_MAX:
        problems.append(FieldProblem("dedup_key", "longer than 255 characters"))
    if event.event_action == "trigger":
        problems += _trigger_problems(event.payload)
    elif not (event.dedup_key or "").strip():
        problems.append(
            FieldProblem("dedup_key", f"missing or blank (required for {event.event_action})")
        )
    return problems


def _trigger_problems(payload: _Payload | None) -> list[FieldProblem]:
    if payload is None:
        return [FieldProblem("payload", "missing (required for trigger)")]
    problems = [
        FieldProblem(f"payload.{name}", "missing or blank (required for trigger)")
        for name, value in (("summary", payload.summary), ("source", payload.source))
        if not (value or "").strip()
    ]
    if payload.severity is None:
        problems.append(
            FieldProblem(
                "payload.severity",
                "missing (required for trigger): use critical, error, warning or info",
            )
        )
    return problems


def _alert(event: _Event, dedup_key: str, ctx: AdapterContext) -> Alert:
    body = event.payload or _Payload()
    fingerprint = _fingerprint({"routing_key": event.routing_key, "dedup_key": dedup_key})
    summary = (body.summary or "").strip()[:SUMMARY_MAX]
    labels = _labels(body)
    # An Alertmanager event names only Alertmanager as its source: its alerts' labels say
    # what is affected.
    shared = shared_labels(body.custom_details) if body.source == event.client else {}
    labels |= {name: value for name, value in shared.items() if name not in labels}
    resource = labels.get("resource") or (
        first_label(shared, *RESOURCE_LABELS) if shared else body.source or ""
    )
    service = labels.get("service") or first_label(shared, *SERVICE_LABELS) or body.group
    at = _event_time(body.timestamp, ctx.received_at)
    resolved = event.event_action == "resolve"
    name = body.event_class.strip() or shared.get("alertname") or summary
    return Alert(
        source=SOURCE,
        source_id=dedup_key,
        fingerprint=fingerprint,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        name=(name or f"PagerDuty alert {dedup_key}")[:_NAME_MAX],
        resource=ctx.rules.resources.normalize(resource)[:_RESOURCE_MAX],
        service=service[:_SERVICE_MAX],
        severity=ctx.rules.severity_of(SOURCE, body.severity),
        labels=labels,
        annotations=_annotations(event),
        summary=summary,
        starts_at=at,
        ends_at=at if resolved else None,
        received_at=ctx.received_at,
        source_url=_source_url(event),
        acknowledged=event.event_action == "acknowledge",
    )


def _fingerprint(identity: dict[str, str]) -> str:
    try:
        return stable_fingerprint(SOURCE, identity)
    except UnicodeEncodeError as e:  # a lone surrogate, sent as a JSON \ud800 escape
        problems = [
            FieldProblem(name, "not valid Unicode text")
            for name, value in identity.items()
            if _bad_unicode(value)
        ]
        raise PayloadError("invalid PagerDuty event: text that is not Unicode", problems) from e


def _bad_unicode(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return True
    return False


def _labels(body: _Payload) -> dict[str, str]:
    details = body.custom_details
    if isinstance(details, dict):
        labels = _flatten(details)
    elif details is None:
        labels = {}
    else:
        labels = {"custom_details": _text(details)}
    for name, value in (
        ("component", body.component),
        ("group", body.group),
        ("class", body.event_class),
    ):
        if value:
            labels[name] = value[:_LABEL_VALUE_MAX]
    return labels


def _flatten(details: dict[str, Any]) -> dict[str, str]:
    """{"db": {"host": "x"}} -> {"db.host": "x"}; lists and deep levels stay JSON text."""
    flat: dict[str, str] = {}
    stack: list[tuple[str, Any, int]] = [(str(k), v, 1) for k, v in reversed(details.items())]
    while stack:
        name, value, depth = stack.pop()
        if isinstance(value, dict) and value and depth < _DETAILS_DEPTH:
            stack.extend((f"{name}.{k}", v, depth + 1) for k, v in reversed(value.items()))
        else:
            flat[name] = _text(value)
    return flat


def _text(value: object) -> str:
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        except (ValueError, TypeError, RecursionError):
            text = "(not representable)"
    return text[:_LABEL_VALUE_MAX]


def _annotations(event: _Event) -> dict[str, str]:
    found = {"client": event.client, "client_url": event.client_url}
    return {name: value[:_LABEL_VALUE_MAX] for name, value in found.items() if value}


def _source_url(event: _Event) -> str:
    candidates = [link.href for link in event.links[:1]] + [event.client_url]
    return next((url for url in candidates if _is_web_url(url)), "")[:_URL_MAX]


def _is_web_url(url: str) -> bool:
    """Only http(s) links become a clickable source_url (never javascript: and the like)."""
    return url.lower().startswith(("https://", "http://")) and len(url) <= _URL_MAX


def _event_time(raw: object, received_at: datetime) -> datetime:
    """The sender's timestamp when it is a sensible ISO 8601 time, else the receipt time:
    PagerDuty documents the field as optional (it stamps the event itself)."""
    if not isinstance(raw, str):
        return received_at
    text = raw.strip()
    try:
        value = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        if value.tzinfo is None or value.utcoffset() is None:
            return received_at
        value = value.astimezone(UTC)
    except (ValueError, OverflowError):
        return received_at
    if value < _EARLIEST or value > received_at + _FUTURE_SLACK:
        return received_at
    return value
