"""Zabbix, through the Sereno webhook media type (contrib/zabbix/media_type_sereno.yaml).

https://www.zabbix.com/documentation/6.0/en/manual/config/notifications/media/webhook
https://www.zabbix.com/documentation/6.0/en/manual/appendix/macros/supported_by_location

The media type's script posts its parameters (all but the token) as one JSON object whose
values are all strings: Zabbix macros, resolved. A macro Zabbix cannot resolve in the
notification at hand arrives literally ("{EVENT.RECOVERY.DATE}" in a problem, "{$ZABBIX.URL}"
when the user macro is not defined) and is treated as missing.

- Problem: event_value "1"; recovery: event_value "0" (resolved); update (acknowledge, comment,
  severity change...): event_update_status "1", still firing, acknowledged when
  event_update_action says "acknowledged" (not "unacknowledged").
- {EVENT.ID} is the problem's id in recovery and update notifications too: it is the
  source_id and the whole identity of the fingerprint.
- {EVENT.DATE} {EVENT.TIME} ("2026.11.20" "08:00:03") are the Zabbix server's local time and
  carry no zone: they are read as UTC, unless the payload names the server's zone in
  `event_timezone` (an IANA name such as Europe/Paris, or an offset such as +01:00), which
  the media type sends (default UTC: set it to the Zabbix server's zone).
"""

from __future__ import annotations

import json
import re
import zoneinfo
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Annotated
from urllib.parse import quote

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from core.models import EARLIEST, Alert, AlertStatus
from ingest.adapters import AdapterContext, unicode_fingerprint, unmapped_severity
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "zabbix"

_NAME_MAX = 512
_RESOURCE_MAX = 512
_ID_MAX = 512
_SUMMARY_MAX = 8192
_URL_MAX = 4096
_LABEL_NAME_MAX = 256
_LABEL_VALUE_MAX = 8192
_LABELS_MAX = 256
_FUTURE_SLACK = timedelta(days=1)
_MACRO = re.compile(r"^\{\$?[A-Z0-9_.]+(:[^}]*)?\}$")
_ACKNOWLEDGED = re.compile(r"\backnowledged\b", re.IGNORECASE)
_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2}):?(\d{2})?$", re.IGNORECASE)
# {EVENT.NSEVERITY} onto Zabbix's default severity names, for when {EVENT.SEVERITY} is missing.
_NSEVERITY_WORDS = {
    "0": "not classified",
    "1": "information",
    "2": "warning",
    "3": "average",
    "4": "high",
    "5": "disaster",
}


def _unmacro(value: object) -> object:
    """An unresolved macro ("{EVENT.RECOVERY.DATE}", "{$ZABBIX.URL}") is no value at all."""
    if isinstance(value, str) and _MACRO.match(value.strip()):
        return ""
    return value


Text = Annotated[str, BeforeValidator(_unmacro)]


class _ZabbixEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    event_id: Text
    event_value: Text
    event_update_status: Text = ""
    event_update_action: Text = ""
    event_update_message: Text = ""
    event_update_user: Text = ""
    event_nseverity: Text = ""
    event_severity: Text = ""
    event_name: Text = ""
    event_date: Text = ""
    event_time: Text = ""
    event_recovery_date: Text = ""
    event_recovery_time: Text = ""
    event_tags: Text = ""
    event_opdata: Text = ""
    event_timezone: Text = ""
    host_name: Text = ""
    host_host: Text = ""
    host_ip: Text = ""
    trigger_id: Text = ""
    trigger_description: Text = ""
    zabbix_url: Text = ""


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        event = _ZabbixEvent.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Zabbix webhook") from e
    problems = _problems(event)
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise PayloadError(f"invalid Zabbix webhook: check {fields}", problems)
    return [_alert(event, ctx)]


def _problems(event: _ZabbixEvent) -> list[FieldProblem]:
    problems = []
    if not event.event_id.strip():
        problems.append(FieldProblem("event_id", "missing or blank: map it to {EVENT.ID}"))
    if event.event_value.strip() not in {"0", "1"}:
        problems.append(
            FieldProblem(
                "event_value",
                "must be 1 (problem) or 0 (recovery): map it to {EVENT.VALUE} "
                "and use the media type for trigger actions only",
            )
        )
    return problems


def _alert(event: _ZabbixEvent, ctx: AdapterContext) -> Alert:
    event_id = event.event_id.strip()
    zone = _zone(event.event_timezone)
    resolved = event.event_value.strip() == "0" and event.event_update_status.strip() != "1"
    labels = _tags(event.event_tags)
    name = (event.event_name.strip() or event.trigger_description.strip() or "Zabbix problem")[
        :_NAME_MAX
    ]
    started = _local_time(event.event_date, event.event_time, zone, "event_date", ctx)
    ends_at = None
    if resolved:
        ends_at = _local_time(
            event.event_recovery_date, event.event_recovery_time, zone, "event_recovery_date", ctx
        )
    word = event.event_severity.strip() or _NSEVERITY_WORDS.get(event.event_nseverity.strip())
    return Alert(
        source=SOURCE,
        source_id=event_id[:_ID_MAX],
        fingerprint=unicode_fingerprint(SOURCE, {"event_id": event_id}, "Zabbix webhook"),
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        name=name,
        resource=ctx.rules.resources.normalize(event.host_host or event.host_name)[:_RESOURCE_MAX],
        service=labels.get("service", "")[:_RESOURCE_MAX],
        severity=ctx.rules.severity_of(SOURCE, word or None),
        labels=labels | unmapped_severity(ctx.rules, SOURCE, word),
        annotations=_annotations(event),
        summary=_summary(event, name),
        starts_at=started,
        ends_at=ends_at,
        received_at=ctx.received_at,
        source_url=_source_url(event, event_id),
        acknowledged=event.event_update_status.strip() == "1"
        and bool(_ACKNOWLEDGED.search(event.event_update_action)),
    )


def _tags(raw: str) -> dict[str, str]:
    """{EVENT.TAGSJSON}, '[{"tag": "service", "value": "mysql"}]', onto labels; a tag that
    appears with several values keeps them all, comma-separated."""
    if not raw.strip():
        return {}
    try:
        tags = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise PayloadError(
            "invalid Zabbix webhook: check event_tags",
            [FieldProblem("event_tags", "not JSON: map it to {EVENT.TAGSJSON}")],
        ) from e
    if not isinstance(tags, list):
        raise PayloadError(
            "invalid Zabbix webhook: check event_tags",
            [FieldProblem("event_tags", "not a JSON list of {tag, value} objects")],
        )
    values: dict[str, list[str]] = {}
    for tag in tags:
        if not isinstance(tag, dict):
            continue
        name, value = _text(tag.get("tag")).strip()[:_LABEL_NAME_MAX], _text(tag.get("value"))
        if name and (name in values or len(values) < _LABELS_MAX):
            found = values.setdefault(name, [])
            if value not in found:
                found.append(value)
    return {name: ",".join(found)[:_LABEL_VALUE_MAX] for name, found in values.items()}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return json.dumps(value)
    return ""


def _annotations(event: _ZabbixEvent) -> dict[str, str]:
    found = {
        "host_name": event.host_name,
        "host_ip": event.host_ip,
        "trigger_id": event.trigger_id,
        "trigger_description": event.trigger_description,
        "operational_data": event.event_opdata,
        "severity": event.event_severity,
        "nseverity": event.event_nseverity,
        "update_action": event.event_update_action,
        "update_user": event.event_update_user,
        "update_message": event.event_update_message,
    }
    return {name: value[:_LABEL_VALUE_MAX] for name, value in found.items() if value.strip()}


def _summary(event: _ZabbixEvent, name: str) -> str:
    opdata = event.event_opdata.strip()
    summary = f"{event.event_name.strip() or name} ({opdata})" if opdata else name
    return summary[:_SUMMARY_MAX]


def _source_url(event: _ZabbixEvent, event_id: str) -> str:
    base = event.zabbix_url.strip().rstrip("/")
    trigger_id = event.trigger_id.strip()
    if not base.lower().startswith(("https://", "http://")) or not trigger_id:
        return ""
    url = (
        f"{base}/tr_events.php?triggerid={quote(trigger_id, safe='')}"
        f"&eventid={quote(event_id, safe='')}"
    )
    return url if len(url) <= _URL_MAX else ""


def _zone(raw: str) -> tzinfo:
    name = raw.strip()
    if not name or name.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    offset = _OFFSET.match(name)
    if offset:
        sign, hours, minutes = offset.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes or 0))
        if delta < timedelta(hours=24):
            return timezone(-delta if sign == "-" else delta)
    else:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise PayloadError(
        "invalid Zabbix webhook: check event_timezone",
        [
            FieldProblem(
                "event_timezone",
                f"'{name[:64]}' is not a time zone: write an IANA name such as Europe/Paris "
                "or an offset such as +01:00",
            )
        ],
    )


def _local_time(date: str, time: str, zone: tzinfo, field: str, ctx: AdapterContext) -> datetime:
    """'2026.11.20' '08:00:03' in the Zabbix server's zone; missing: the receipt time."""
    if not date.strip():
        return ctx.received_at
    text = f"{date.strip()} {time.strip() or '00:00:00'}"
    try:
        value = datetime.strptime(text, "%Y.%m.%d %H:%M:%S").replace(tzinfo=zone).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise _time_problem(field, f"'{text[:64]}' is not a Zabbix date and time") from e
    if not EARLIEST <= value <= ctx.received_at + _FUTURE_SLACK:
        raise _time_problem(field, f"{value.isoformat()} is not plausible")
    return value


def _time_problem(field: str, problem: str) -> PayloadError:
    hint = " (yyyy.mm.dd with hh:mm:ss in the time field)"
    return PayloadError(
        f"invalid Zabbix webhook: check {field}", [FieldProblem(field, problem + hint)]
    )
