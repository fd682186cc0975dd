"""AWS CloudWatch alarms delivered by an Amazon SNS HTTP(S) subscription.

https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html
https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html

SNS POSTs a JSON envelope (as text/plain); for `Type: Notification` its `Message` is the
CloudWatch alarm as a JSON *string*. With raw message delivery on, the body is the alarm
itself; both are accepted.

States: ALARM fires; OK resolves; INSUFFICIENT_DATA fires too (the metric stopped
arriving, which is worth a look) with the label state=insufficient_data. CloudWatch has no
severity, so the severity word is the state: `alarm` or `insufficient_data` (a resolution
keeps the word of the state it leaves), mapped by the operator's rules for `cloudwatch`
and otherwise the default (warning).

`subscription_request` only recognises and validates SNS (un)subscription confirmations;
whether to confirm, and the GET itself, belong to the route. The SNS signature is not
verified here (that needs the signing certificate, fetched over the network).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import parse_qs, quote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, first_label, stable_fingerprint
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "cloudwatch"

RESOURCE_DIMENSIONS = (
    "InstanceId",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "CacheClusterId",
    "LoadBalancer",
    "LoadBalancerName",
    "TargetGroup",
    "FunctionName",
    "QueueName",
    "TopicName",
    "TableName",
    "BucketName",
    "VolumeId",
    "FileSystemId",
    "NatGatewayId",
    "DomainName",
    "AutoScalingGroupName",
    "ClusterName",
)
"""Dimensions naming the thing an alarm is about, most specific first."""

SERVICE_DIMENSIONS = ("service", "Service", "ServiceName")

_SUBSCRIPTION_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")
_SNS_HOST = re.compile(r"sns\.([a-z0-9-]{3,})\.amazonaws\.com(\.cn)?")
_TOPIC_ARN = re.compile(r"arn:(aws[a-z-]*):sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})")
_ALARM_ARN = re.compile(r"arn:(aws[a-z-]*):cloudwatch:([a-z0-9-]+):\d{12}:alarm:.+", re.DOTALL)
_CONSOLES = {
    "aws": "console.aws.amazon.com",
    "aws-cn": "console.amazonaws.cn",
    "aws-us-gov": "console.amazonaws-us-gov.com",
}
_NAME_MAX = 512
_SUMMARY_MAX = 8192
_VALUE_MAX = 8192
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_FUTURE_SLACK = timedelta(days=1)


class _Dimension(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str
    value: str


class _Trigger(BaseModel):
    """Absent for composite alarms; metric math alarms carry `Metrics` instead of a name."""

    model_config = ConfigDict(extra="ignore")

    MetricName: str = ""
    Namespace: str = ""
    Dimensions: list[_Dimension] = Field(default_factory=list)


class _Alarm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    AlarmName: str = Field(min_length=1)
    AlarmDescription: str | None = None
    AWSAccountId: str = ""
    NewStateValue: Literal["ALARM", "OK", "INSUFFICIENT_DATA"]
    NewStateReason: str = ""
    StateChangeTime: str
    Region: str = ""
    AlarmArn: str = ""
    OldStateValue: str = ""
    Trigger: _Trigger | None = None


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Type: Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]
    MessageId: str = ""
    TopicArn: str = ""
    Subject: str | None = None
    Message: str


class _Subscription(BaseModel):
    model_config = ConfigDict(extra="ignore")

    Type: Literal["SubscriptionConfirmation", "UnsubscribeConfirmation"]
    TopicArn: str
    SubscribeURL: str
    Token: str = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class SubscriptionRequest:
    """An SNS (un)subscription confirmation whose SubscribeURL points at SNS itself."""

    topic_arn: str
    subscribe_url: str
    token: str
    message_type: Literal["SubscriptionConfirmation", "UnsubscribeConfirmation"]


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    """The alarm of one SNS Notification (or raw-delivered alarm) as one alert."""
    envelope: _Envelope | None = None
    raw: object
    if isinstance(payload, dict) and "Type" not in payload and "AlarmName" in payload:
        prefix, raw = "", payload  # raw message delivery: the body is the alarm
    else:
        envelope = _envelope(payload)
        prefix, raw = "Message", _message_json(envelope.Message)
    try:
        alarm = _Alarm.model_validate(raw)
    except ValidationError as e:
        raise from_validation(e, "CloudWatch alarm", prefix) from e
    where = f"{prefix}." if prefix else ""
    changed_at = _state_change_time(alarm.StateChangeTime, where, ctx)
    identity = (
        {"alarm_arn": alarm.AlarmArn}
        if alarm.AlarmArn
        else {"account": alarm.AWSAccountId, "region": alarm.Region, "alarm": alarm.AlarmName}
    )
    try:
        fingerprint = stable_fingerprint(SOURCE, identity)
    except UnicodeEncodeError as e:  # a lone surrogate, sent as a JSON \ud800 escape
        field = f"{where}AlarmArn" if alarm.AlarmArn else f"{where}AlarmName"
        raise PayloadError(
            "invalid CloudWatch alarm: text that is not Unicode",
            [FieldProblem(field, "not valid Unicode text")],
        ) from e
    return [_alert(alarm, envelope, changed_at, fingerprint, ctx)]


def subscription_request(payload: object) -> SubscriptionRequest | None:
    """The confirmation request in an SNS SubscriptionConfirmation or UnsubscribeConfirmation
    body, None for any other body. SubscribeURL must be https on the SNS endpoint of the
    topic's region, for this topic and token; anything else is refused, never followed."""
    if not isinstance(payload, dict) or payload.get("Type") not in _SUBSCRIPTION_TYPES:
        return None
    try:
        sub = _Subscription.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, f"SNS {payload['Type']}") from e
    topic = _TOPIC_ARN.fullmatch(sub.TopicArn)
    if topic is None:
        raise PayloadError(
            f"invalid SNS {sub.Type}: check TopicArn",
            [FieldProblem("TopicArn", "not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")],
        )
    problem = _subscribe_url_problem(sub, partition=topic[1], region=topic[2])
    if problem:
        raise PayloadError(
            f"invalid SNS {sub.Type}: check SubscribeURL",
            [FieldProblem("SubscribeURL", problem)],
        )
    return SubscriptionRequest(sub.TopicArn, sub.SubscribeURL, sub.Token, sub.Type)


def _subscribe_url_problem(sub: _Subscription, partition: str, region: str) -> str:
    url = sub.SubscribeURL
    if not url.isascii() or not url.isprintable() or any(c in url for c in " \\"):
        return "contains characters a URL cannot have"
    try:
        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
    except ValueError:
        return "not a URL"
    host = _SNS_HOST.fullmatch(parts.netloc)
    expected = {"Action": "ConfirmSubscription", "TopicArn": sub.TopicArn, "Token": sub.Token}
    wrong = [k for k, v in expected.items() if query.get(k) != [v]]
    checks = (
        (
            parts.scheme != "https" or host is None,
            "must be https://sns.<region>.amazonaws.com (or .amazonaws.com.cn)",
        ),
        (
            host is not None and (host[1] != region or bool(host[2]) != (partition == "aws-cn")),
            f"host {parts.netloc} is not the SNS endpoint of the topic's region {region}",
        ),
        (
            parts.path not in ("", "/") or bool(parts.fragment),
            "must be the SNS endpoint itself, without a path or fragment",
        ),
        (bool(wrong), f"its {', '.join(wrong)} do not confirm this topic's subscription"),
    )
    return next((problem for failed, problem in checks if failed), "")


def _envelope(payload: object) -> _Envelope:
    try:
        envelope = _Envelope.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "SNS notification") from e
    if envelope.Type != "Notification":
        raise PayloadError(
            f"SNS {envelope.Type} carries no alarm: answer it with subscription_request",
            [FieldProblem("Type", "expected Notification")],
        )
    return envelope


def _message_json(message: str) -> object:
    try:
        return json.loads(message)
    except (ValueError, RecursionError) as e:
        raise PayloadError(
            "invalid SNS notification: Message is not a CloudWatch alarm",
            [FieldProblem("Message", "not JSON: expected a CloudWatch alarm as a JSON string")],
        ) from e


def _state_change_time(raw: str, where: str, ctx: AdapterContext) -> datetime:
    field = f"{where}StateChangeTime"
    value = _parse_time(raw)
    if value is None:
        problem = "not an ISO 8601 time with a zone, like 2026-11-20T07:59:30.959+0000"
    elif value < _EARLIEST or value > ctx.received_at + _FUTURE_SLACK:
        problem = f"{raw} is not a plausible time for a state change"
    else:
        return value
    raise PayloadError(f"invalid CloudWatch alarm: check {field}", [FieldProblem(field, problem)])


def _parse_time(raw: str) -> datetime | None:
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(text)
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _alert(
    alarm: _Alarm,
    envelope: _Envelope | None,
    changed_at: datetime,
    fingerprint: str,
    ctx: AdapterContext,
) -> Alert:
    dimensions = {d.name: d.value[:_VALUE_MAX] for d in (alarm.Trigger or _Trigger()).Dimensions}
    region = _region_code(alarm, envelope)
    resolved = alarm.NewStateValue == "OK"
    state_word = (alarm.OldStateValue if resolved else alarm.NewStateValue).lower()
    return Alert(
        source=SOURCE,
        source_id=(alarm.AlarmArn or fingerprint.partition(":")[2])[:512],
        fingerprint=fingerprint,
        status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
        name=alarm.AlarmName[:_NAME_MAX],
        resource=ctx.rules.resources.normalize(
            first_label(dimensions, *RESOURCE_DIMENSIONS) or alarm.AlarmName
        )[:512],
        service=first_label(dimensions, *SERVICE_DIMENSIONS)[:512],
        severity=ctx.rules.severity_of(SOURCE, state_word or None),
        labels=_labels(alarm, dimensions, region),
        annotations=_annotations(alarm, envelope),
        summary=_summary(alarm),
        starts_at=changed_at,
        ends_at=changed_at if resolved else None,
        received_at=ctx.received_at,
        source_url=_console_url(alarm, region),
    )


def _labels(alarm: _Alarm, dimensions: dict[str, str], region: str) -> dict[str, str]:
    trigger = alarm.Trigger or _Trigger()
    ours = {
        "region": region or alarm.Region,
        "account": alarm.AWSAccountId,
        "namespace": trigger.Namespace,
        "metric": trigger.MetricName,
    }
    if alarm.NewStateValue == "INSUFFICIENT_DATA":
        ours["state"] = "insufficient_data"
    # Ours win over a dimension of the same name: they are what rules and people filter on.
    return dimensions | {k: v[:_VALUE_MAX] for k, v in ours.items() if v}


def _annotations(alarm: _Alarm, envelope: _Envelope | None) -> dict[str, str]:
    found = {
        "description": alarm.AlarmDescription or "",
        "reason": alarm.NewStateReason,
        "new_state": alarm.NewStateValue,
        "old_state": alarm.OldStateValue,
        "subject": (envelope.Subject or "") if envelope else "",
        "topic_arn": envelope.TopicArn if envelope else "",
    }
    return {k: v[:_VALUE_MAX] for k, v in found.items() if v}


def _summary(alarm: _Alarm) -> str:
    parts = [(alarm.AlarmDescription or "").strip(), alarm.NewStateReason.strip()]
    return (" — ".join(p for p in parts if p) or alarm.AlarmName)[:_SUMMARY_MAX]


def _region_code(alarm: _Alarm, envelope: _Envelope | None) -> str:
    """us-west-2 from the alarm's ARN, else the topic's (alarms notify topics of their region);
    the message's own Region is a display name such as "US West (Oregon)"."""
    found = _ALARM_ARN.fullmatch(alarm.AlarmArn)
    if found:
        return found[2]
    topic = _TOPIC_ARN.fullmatch(envelope.TopicArn) if envelope else None
    return topic[2] if topic else ""


def _console_url(alarm: _Alarm, region: str) -> str:
    if not region:
        return ""
    found = _ALARM_ARN.fullmatch(alarm.AlarmArn)
    host = _CONSOLES.get(found[1] if found else "aws", _CONSOLES["aws"])
    name = quote(alarm.AlarmName, safe="", errors="replace")
    url = f"https://{host}/cloudwatch/home?region={quote(region, safe='')}#alarmsV2:alarm/{name}"
    return url if len(url) <= 4096 else ""
