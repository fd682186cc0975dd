"""Receivers the operator defines in rules (`mappings:`): which JSON field is the name, the
resource, the severity, the status... for any sender that posts JSON of its own shape."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from pydantic import ValidationError

from core.models import Alert, AlertStatus
from core.rules import FieldMapping
from ingest.adapters import AdapterContext, stable_fingerprint, unmapped_severity
from ingest.problems import FieldProblem, PayloadError, from_validation

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_MISSING = object()


def lookup(document: object, path: str) -> object:
    """The value at `path` (a.b[0].c) in `document`, or _MISSING."""
    value = document
    for key, index in _STEP.findall(path):
        if key and isinstance(value, dict) and key in value:
            value = value[key]
        elif index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            return _MISSING
    return value


def _text(document: object, path: str, default: str = "") -> str:
    if not path:
        return default
    value = lookup(document, path)
    if value is _MISSING or value is None or isinstance(value, (dict, list)):
        return default
    return str(value)


def _time(document: object, path: str, where: str, ctx: AdapterContext) -> datetime:
    raw = lookup(document, path) if path else _MISSING
    if raw is _MISSING or raw in ("", None):
        return ctx.received_at
    try:
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            seconds = raw / 1000 if raw > 1e11 else raw  # epoch milliseconds or seconds
            moment = datetime.fromtimestamp(seconds, UTC)
        else:
            moment = datetime.fromisoformat(str(raw))
    except (ValueError, OverflowError, OSError) as e:
        raise PayloadError(
            f"invalid time in {where}", [FieldProblem(where, "not a timestamp")]
        ) from e
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _items(payload: object, mapping: FieldMapping) -> list[tuple[str, object]]:
    body = lookup(payload, mapping.alerts) if mapping.alerts else payload
    if body is _MISSING:
        raise PayloadError(
            f"no '{mapping.alerts}' in the body", [FieldProblem(mapping.alerts, "missing")]
        )
    if isinstance(body, list):
        base = mapping.alerts
        return [(f"{base}[{i}]", item) for i, item in enumerate(body)]
    return [(mapping.alerts, body)]


def _status(item: object, mapping: FieldMapping) -> AlertStatus:
    if mapping.status is None:
        return AlertStatus.FIRING
    word = _text(item, mapping.status.path).strip().lower()
    resolved = {v.lower() for v in mapping.status.resolved}
    return AlertStatus.RESOLVED if word in resolved else AlertStatus.FIRING


def _one(
    source: str, where: str, item: object, mapping: FieldMapping, ctx: AdapterContext
) -> Alert:
    defaults = mapping.defaults
    name = _text(item, mapping.name, defaults.get("name", ""))
    if not name:
        field = f"{where}.{mapping.name}" if where else mapping.name
        raise PayloadError(f"no alert name at '{mapping.name}'", [FieldProblem(field, "missing")])
    resource = ctx.rules.resources.normalize(
        _text(item, mapping.resource, defaults.get("resource", ""))
    )
    service = _text(item, mapping.service, defaults.get("service", ""))
    sender_id = _text(item, mapping.id)
    identity = (
        {"id": sender_id} if sender_id else {"name": name, "resource": resource, "service": service}
    )
    fingerprint = stable_fingerprint(source, identity)
    labels = {key: _text(item, path)[:8192] for key, path in mapping.labels.items()}
    word = _text(item, mapping.severity) or defaults.get("severity")
    try:
        return Alert(
            source=source,
            source_id=(sender_id or fingerprint.partition(":")[2])[:512],
            fingerprint=fingerprint,
            status=_status(item, mapping),
            name=name[:512],
            resource=resource[:512],
            service=service[:512],
            severity=ctx.rules.severity_of(source, word),
            labels={k: v for k, v in labels.items() if v}
            | unmapped_severity(ctx.rules, source, word),
            summary=_text(item, mapping.summary, name)[:8192],
            starts_at=_time(item, mapping.starts_at, f"{where}.{mapping.starts_at}", ctx),
            received_at=ctx.received_at,
            source_url=_text(item, mapping.url)[:4096],
        )
    except ValidationError as e:
        raise from_validation(e, f"alert mapped by '{source}'", prefix=where) from e


def parse(source: str, mapping: FieldMapping, payload: object, ctx: AdapterContext) -> list[Alert]:
    """Alerts from `payload` as the operator's `mapping` for `source` says."""
    return [_one(source, where, item, mapping, ctx) for where, item in _items(payload, mapping)]
