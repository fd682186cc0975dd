"""Nagios Core and Icinga 2 notifications.

https://assets.nagios.com/downloads/nagioscore/docs/nagioscore/4/en/macrolist.html#notificationtype
https://icinga.com/docs/icinga-2/latest/doc/03-monitoring-basics/#runtime-macros
https://icinga.com/docs/icinga-2/latest/doc/10-icinga-template-library/#plugin-notification-commands

contrib/nagios/sereno-notify posts one JSON object per notification: source (nagios|icinga),
type ($NOTIFICATIONTYPE$ or $notification.type$), host, host_address, service (empty for a
host), state, output, long_output, author, comment, timestamp (epoch seconds, $TIMET$ or
$icinga.timet$). The same fields may come as form fields (`curl -d`), and under the names a
notification command already has at hand: the Nagios macro names (NOTIFICATIONTYPE,
HOSTNAME, SERVICEDESC, SERVICESTATE, ...), the environment Icinga 2's own mail scripts
read (SERVICEDESC, HOSTALIAS, LONGDATETIME, NOTIFICATIONAUTHORNAME, ...), the variables of
Icinga 2's mail-host-notification and mail-service-notification commands
(notification_type, notification_hostname, notification_servicestate, notification_date,
...) and the runtime macros themselves (notification.type, host.name, service.state, ...).
Names are compared case-insensitively, with any $ around them ignored.

Notification types, compared case-insensitively (Icinga 2 documents them as FlappingStart...):
PROBLEM fires; RECOVERY resolves; ACKNOWLEDGEMENT fires, acknowledged; FLAPPINGSTART fires,
flapping. DOWNTIMESTART marks the alert in downtime and follows the state, as the rest do:
a downtime says nothing of a problem, so an OK service entering one opens nothing.
FLAPPINGSTOP/FLAPPINGEND/FLAPPINGDISABLED, DOWNTIMEEND/DOWNTIMECANCELLED/DOWNTIMEREMOVED and
CUSTOM follow the state (OK or UP resolves, any other state fires). The identity is host
and service, the same for every notification about one host or service.
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
    "downtimestart": (_BY_STATE, {"in_downtime": True}),
    "downtimeend": (_BY_STATE, {}),
    "downtimecancelled": (_BY_STATE, {}),
    "downtimeremoved": (_BY_STATE, {}),
    "custom": (_BY_STATE, {}),
}


# Sereno's field -> the other names it arrives under, most specific first (a service
# notification may carry the host's state too: the service's wins).
_ALIASES: dict[str, tuple[str, ...]] = {
    "type": ("notificationtype", "notification_type", "notification.type"),
    "host": (
        "hostname", "notification_hostname", "host.name",
        "hostalias", "hostdisplayname", "notification_hostdisplayname", "host.display_name",
    ),
    "host_address": ("hostaddress", "notification_address", "address", "host.address"),
    "service": (
        "servicedesc", "servicename", "notification_servicename", "service.name",
    ),
    "state": (
        "servicestate", "notification_servicestate", "service.state",
        "hoststate", "notification_hoststate", "host.state",
    ),
    "output": (
        "serviceoutput", "notification_serviceoutput", "service.output",
        "hostoutput", "notification_hostoutput", "host.output",
    ),
    "long_output": ("longserviceoutput", "longhostoutput"),
    "author": (
        "notificationauthorname", "notificationauthor", "notification_author",
        "notification.author",
    ),
    "comment": ("notificationcomment", "notification_comment", "notification.comment"),
    "timestamp": ("timet", "icinga.timet"),
    "long_date_time": (
        "longdatetime", "notification_date", "icinga.long_date_time",
    ),
}  # fmt: skip
_ICINGA_ONLY = ("notification_", "notification.", "host.", "service.", "icinga.")
_LONG_DATE_TIME = "%Y-%m-%d %H:%M:%S %z"  # Icinga 2's $icinga.long_date_time$


def _canonical(payload: object) -> object:
    """`payload` with its fields under Sereno's names; anything else is left as it is, for
    validation to name."""
    if not isinstance(payload, dict):
        return payload
    given = {str(k).strip().strip("$").lower(): v for k, v in payload.items()}
    out = {k: v for k, v in given.items() if k in _ALIASES or k == "source"}
    for name, aliases in _ALIASES.items():
        if out.get(name) in (None, ""):
            found = next((given[a] for a in aliases if given.get(a) not in (None, "")), None)
            if found is not None:
                out[name] = found
    if "source" not in out and any(k.startswith(_ICINGA_ONLY) for k in given):
        out["source"] = "icinga"
    return out


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
    long_date_time: str = ""


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        note = _Notification.model_validate(_canonical(payload))
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
    unstamped = note.timestamp is None or not str(note.timestamp).strip()
    at = (
        _long_date(note, ctx)
        if unstamped and note.long_date_time
        else _timestamp(note.timestamp, ctx)
    )
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


def _long_date(note: _Notification, ctx: AdapterContext) -> datetime:
    """Icinga 2's long date and time; anything else (Nagios writes it in the locale's words)
    is the receipt time, as a missing timestamp is."""
    try:
        value = datetime.strptime(note.long_date_time.strip(), _LONG_DATE_TIME).astimezone(UTC)
    except ValueError:
        return ctx.received_at
    if not EARLIEST <= value <= ctx.received_at + _FUTURE_SLACK:
        raise PayloadError(
            "invalid Icinga notification: check long_date_time",
            [FieldProblem("long_date_time", f"{value.isoformat()} is not plausible")],
        )
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
