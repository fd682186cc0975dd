"""Nagios Core and Icinga 2, through contrib/nagios/sereno-notify (a notification command).

https://assets.nagios.com/downloads/nagioscore/docs/nagioscore/4/en/macrolist.html#notificationtype
https://icinga.com/docs/icinga-2/latest/doc/03-monitoring-basics/#runtime-macros

The script posts one JSON object per notification: source (nagios|icinga), type ($NOTIFICATIONTYPE$
or $notification.type$), host, host_address, service (empty for a host), state, output,
long_output, author, comment, timestamp (epoch seconds, $TIMET$ or $icinga.timet$).

Notification types, compared case-insensitively (Icinga 2 documents them as FlappingStart...):
PROBLEM fires; RECOVERY resolves; ACKNOWLEDGEMENT fires, acknowledged; FLAPPINGSTART fires,
flapping; DOWNTIMESTART fires, in downtime; FLAPPINGSTOP/FLAPPINGEND/FLAPPINGDISABLED,
DOWNTIMEEND/DOWNTIMECANCELLED/DOWNTIMEREMOVED and CUSTOM follow the state (OK or UP
resolves, any other state fires). The identity is host and service, the same for every
notification about one host or service.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from core.models import EARLIEST, Alert, AlertStatus
from ingest.adapters import AdapterContext, unicode_fingerprint
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "nagios"

_NAME_MAX = 512
_RESOURCE_MAX = 512
_ID_MAX = 512
_SUMMARY_MAX = 8192
_LABEL_VALUE_MAX = 8192
_FUTURE_SLACK = timedelta(days=1)

_STATES = {"up", "down", "unreachable", "ok", "warning", "critical", "unknown"}
_FINE_STATES = {"ok", "up"}
_BY_STATE = "by state"
# Notification type (lower case, letters only) -> status, or _BY_STATE; and the flags it sets.
_TYPES: dict[str, tuple[AlertStatus | str, dict[str, bool]]] = {
    "problem": (AlertStatus.FIRING, {}),
    "recovery": (AlertStatus.RESOLVED, {}),
    "acknowledgement": (AlertStatus.FIRING, {"acknowledged": True}),
    "flappingstart": (AlertStatus.FIRING, {"flapping": True}),
    "flappingstop": (_BY_STATE, {}),
    "flappingend": (_BY_STATE, {}),
    "flappingdisabled": (_BY_STATE, {}),
    "downtimestart": (AlertStatus.FIRING, {"in_downtime": True}),
    "downtimeend": (_BY_STATE, {}),
    "downtimecancelled": (_BY_STATE, {}),
    "downtimeremoved": (_BY_STATE, {}),
    "custom": (_BY_STATE, {}),
}


def _stripped(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Text = Annotated[str, BeforeValidator(_stripped)]


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)

    source: Text = "nagios"
    type: Text
    host: Text
    host_address: Text = ""
    service: Text = ""
    state: Text
    output: str = ""
    long_output: str = ""
    author: Text = ""
    comment: str = ""
    timestamp: int | float | str | None = None


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        note = _Notification.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Nagios notification") from e
    problems = _problems(note)
    if problems:
        fields = ", ".join(dict.fromkeys(p.field for p in problems))
        raise PayloadError(f"invalid Nagios notification: check {fields}", problems)
    return [_alert(note, ctx)]


def _type_key(raw: str) -> str:
    return "".join(c for c in raw.lower() if c.isalpha())


def _problems(note: _Notification) -> list[FieldProblem]:
    problems = []
    if _type_key(note.type) not in _TYPES:
        problems.append(
            FieldProblem(
                "type",
                f"'{note.type[:64]}' is not a notification type: PROBLEM, RECOVERY, "
                "ACKNOWLEDGEMENT, FLAPPINGSTART, FLAPPINGSTOP, DOWNTIMESTART, DOWNTIMEEND, "
                "CUSTOM...",
            )
        )
    if not note.host:
        problems.append(FieldProblem("host", "missing or blank"))
    if note.state.lower() not in _STATES:
        problems.append(
            FieldProblem(
                "state",
                f"'{note.state[:64]}' is not a state: UP, DOWN, UNREACHABLE for hosts; "
                "OK, WARNING, CRITICAL, UNKNOWN for services",
            )
        )
    return problems


def _alert(note: _Notification, ctx: AdapterContext) -> Alert:
    status, flags = _TYPES[_type_key(note.type)]
    if not isinstance(status, AlertStatus):
        fine = note.state.lower() in _FINE_STATES
        status = AlertStatus.RESOLVED if fine else AlertStatus.FIRING
    state = note.state.upper()
    at = _timestamp(note.timestamp, ctx)
    source_id = f"{note.host}/{note.service}" if note.service else note.host
    labels = {"host": note.host[:_LABEL_VALUE_MAX]}
    if note.service:
        labels["service"] = note.service[:_LABEL_VALUE_MAX]
    return Alert(
        source=SOURCE,
        source_id=source_id[:_ID_MAX],
        fingerprint=unicode_fingerprint(
            SOURCE, {"host": note.host, "service": note.service}, "Nagios notification"
        ),
        status=status,
        name=(note.service or f"Host {state}")[:_NAME_MAX],
        resource=ctx.rules.resources.normalize(note.host)[:_RESOURCE_MAX],
        severity=ctx.rules.severity_of(SOURCE, note.state),
        labels=labels,
        annotations=_annotations(note),
        summary=note.output.strip()[:_SUMMARY_MAX],
        starts_at=at,
        ends_at=at if status is AlertStatus.RESOLVED else None,
        received_at=ctx.received_at,
        acknowledged=flags.get("acknowledged", False),
        flapping=flags.get("flapping", False),
        in_downtime=flags.get("in_downtime", False),
    )


def _annotations(note: _Notification) -> dict[str, str]:
    found = {
        "sender": note.source,
        "notification_type": note.type,
        "state": note.state,
        "host_address": note.host_address,
        "long_output": note.long_output,
        "author": note.author,
        "comment": note.comment,
    }
    return {name: value[:_LABEL_VALUE_MAX] for name, value in found.items() if value.strip()}


def _timestamp(raw: float | str | None, ctx: AdapterContext) -> datetime:
    """Epoch seconds; missing or empty: the receipt time."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return ctx.received_at
    try:
        value = datetime.fromtimestamp(_seconds(raw), UTC)
    except (ValueError, OverflowError, OSError) as e:
        raise _time_problem(f"'{str(raw)[:64]}' is not a number of seconds") from e
    if not EARLIEST <= value <= ctx.received_at + _FUTURE_SLACK:
        raise _time_problem(f"{value.isoformat()} is not plausible")
    return value


def _seconds(raw: float | str) -> float:
    seconds = float(raw)
    if not math.isfinite(seconds):
        raise ValueError(raw)
    return seconds


def _time_problem(problem: str) -> PayloadError:
    return PayloadError(
        "invalid Nagios notification: check timestamp",
        [FieldProblem("timestamp", problem + " (epoch seconds, $TIMET$)")],
    )
