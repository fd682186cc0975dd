"""CloudWatch alarms through Amazon SNS HTTP(S) subscriptions.

Golden payloads follow AWS's published formats: the SNS envelopes of
https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html and
https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html, with the
CloudWatch alarm message (a JSON *string* in `Message`) as CloudWatch writes it:
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Notify_Users_Alarm_Changes.html
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import Alert, AlertStatus, Severity
from core.rules import Rules, SourceSeverity
from ingest.adapters import AdapterContext, cloudwatch
from ingest.problems import PayloadError
from tests.conftest import T0

GOLDEN = Path(__file__).parent / "golden"
TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic"


def _golden(name: str) -> dict[str, Any]:
    loaded = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _alarm_message(name: str = "cloudwatch_alarm.json") -> dict[str, Any]:
    message = json.loads(_golden(name)["Message"])
    assert isinstance(message, dict)
    return message


def _notification(**changes: Any) -> dict[str, Any]:
    """The ALARM notification with fields of its alarm message changed (None: removed)."""
    message = _alarm_message() | changes
    message = {k: v for k, v in message.items() if v is not None}
    return _golden("cloudwatch_alarm.json") | {"Message": json.dumps(message)}


def _with_dimensions(*pairs: tuple[str, str]) -> dict[str, Any]:
    trigger = _alarm_message()["Trigger"]
    trigger["Dimensions"] = [{"value": value, "name": name} for name, value in pairs]
    return _notification(Trigger=trigger)


def _one(payload: object, rules: Rules, at: timedelta = timedelta(0)) -> Alert:
    [alert] = cloudwatch.parse(payload, AdapterContext(T0 + at, rules))
    return alert


def _fields(payload: object, rules: Rules) -> set[str]:
    with pytest.raises(PayloadError) as caught:
        cloudwatch.parse(payload, AdapterContext(T0, rules))
    return {p.field for p in caught.value.problems}


def test_alarm(rules: Rules) -> None:
    alert = _one(_golden("cloudwatch_alarm.json"), rules)
    arn = "arn:aws:cloudwatch:us-west-2:123456789012:alarm:web-1 high CPU"
    assert alert.source == "cloudwatch"
    assert alert.source_id == arn
    assert alert.status is AlertStatus.FIRING
    assert alert.name == "web-1 high CPU"
    assert alert.resource == "i-0a1b2c3d4e5f67890"  # the InstanceId dimension
    assert alert.service == ""
    assert alert.severity is Severity.WARNING  # CloudWatch has no severity; rules may map it
    assert alert.labels == {
        "InstanceId": "i-0a1b2c3d4e5f67890",
        "region": "us-west-2",
        "account": "123456789012",
        "namespace": "AWS/EC2",
        "metric": "CPUUtilization",
    }
    assert alert.annotations["description"] == "CPU of web-1 above 80% for 10 minutes"
    assert alert.annotations["reason"].startswith("Threshold Crossed: 2 out of the last 2")
    assert alert.annotations["topic_arn"] == TOPIC
    assert alert.summary.startswith("CPU of web-1 above 80% for 10 minutes — Threshold Crossed")
    assert alert.starts_at == T0 - timedelta(seconds=29.041)  # StateChangeTime, "+0000"
    assert alert.ends_at is None
    assert alert.received_at == T0
    assert alert.source_url == (
        "https://console.aws.amazon.com/cloudwatch/home?region=us-west-2"
        "#alarmsV2:alarm/web-1%20high%20CPU"
    )
    # A known value: a change of the hashing would silently split every open incident.
    assert alert.fingerprint == "cloudwatch:3e9d91c95e31ae9d3993"


def test_ok_resolves_the_alarm(rules: Rules) -> None:
    firing = _one(_golden("cloudwatch_alarm.json"), rules)
    ok = _one(_golden("cloudwatch_ok.json"), rules, at=timedelta(minutes=35))
    assert ok.fingerprint == firing.fingerprint
    assert ok.source_id == firing.source_id
    assert ok.status is AlertStatus.RESOLVED
    assert ok.ends_at == ok.starts_at == T0 + timedelta(minutes=34, seconds=12.104)


def test_insufficient_data_fires_as_a_warning(rules: Rules) -> None:
    alert = _one(_notification(NewStateValue="INSUFFICIENT_DATA", OldStateValue="ALARM"), rules)
    assert alert.status is AlertStatus.FIRING
    assert alert.severity is Severity.WARNING
    assert alert.labels["state"] == "insufficient_data"
    assert alert.fingerprint == _one(_golden("cloudwatch_alarm.json"), rules).fingerprint
    assert "state" not in _one(_golden("cloudwatch_alarm.json"), rules).labels


def test_severity_words_are_the_states(rules: Rules) -> None:
    mapped = rules.model_copy(
        update={"severity": {"cloudwatch": SourceSeverity(map={"alarm": Severity.CRITICAL})}}
    )
    assert _one(_golden("cloudwatch_alarm.json"), mapped).severity is Severity.CRITICAL
    # A resolution keeps the severity of the state it leaves.
    ok = _one(_golden("cloudwatch_ok.json"), mapped, at=timedelta(hours=1))
    assert ok.severity is Severity.CRITICAL
    insufficient = _notification(NewStateValue="INSUFFICIENT_DATA")
    assert _one(insufficient, mapped).severity is Severity.WARNING


def test_resource_and_service_from_dimensions(rules: Rules) -> None:
    alert = _one(
        _with_dimensions(
            ("ClusterName", "prod"), ("ServiceName", "payroll"), ("DBInstanceIdentifier", "DB-1")
        ),
        rules,
    )
    assert alert.resource == "db-1"  # the most specific dimension, normalised
    assert alert.service == "payroll"
    assert alert.labels["ClusterName"] == "prod"
    assert _one(_with_dimensions(("Custom", "x")), rules).resource == "web-1 high cpu"
    assert _one(_with_dimensions(), rules).resource == "web-1 high cpu"  # the AlarmName


def test_our_labels_win_over_a_dimension_of_the_same_name(rules: Rules) -> None:
    alert = _one(_with_dimensions(("region", "elsewhere"), ("Region", "eu-west-1")), rules)
    assert alert.labels["region"] == "us-west-2"
    assert alert.labels["Region"] == "eu-west-1"


def test_alarm_without_arn_is_identified_by_account_region_and_name(rules: Rules) -> None:
    alert = _one(_notification(AlarmArn=None), rules)
    again = _one(_notification(AlarmArn=None, NewStateValue="OK"), rules)
    assert alert.fingerprint == again.fingerprint
    assert alert.source_id  # the fingerprint's digest
    # The region code then comes from the topic: alarms notify topics of their own region.
    assert "region=us-west-2#" in alert.source_url


def test_china_partition_console(rules: Rules) -> None:
    arn = "arn:aws-cn:cloudwatch:cn-north-1:123456789012:alarm:web-1 high CPU"
    alert = _one(_notification(AlarmArn=arn), rules)
    assert alert.source_url.startswith(
        "https://console.amazonaws.cn/cloudwatch/home?region=cn-north-1#"
    )


def test_metric_math_and_composite_alarms(rules: Rules) -> None:
    math = {"Metrics": [{"Id": "e1", "Expression": "m1/m2"}], "Period": 60, "Threshold": 1.0}
    alert = _one(_notification(Trigger=math), rules)
    assert alert.labels == {"region": "us-west-2", "account": "123456789012"}
    composite = _one(_notification(Trigger=None, AlarmRule='ALARM("a") OR ALARM("b")'), rules)
    assert composite.name == "web-1 high CPU"


def test_raw_message_delivery(rules: Rules) -> None:
    alert = _one(_alarm_message(), rules)
    assert alert.fingerprint == _one(_golden("cloudwatch_alarm.json"), rules).fingerprint
    assert "topic_arn" not in alert.annotations
    assert _fields({"AlarmName": "x"}, rules) == {"NewStateValue", "StateChangeTime"}


def test_problems_name_the_field(rules: Rules) -> None:
    envelope = _golden("cloudwatch_alarm.json")
    assert _fields(envelope | {"Message": "not json"}, rules) == {"Message"}
    assert _fields(envelope | {"Message": "[1, 2]"}, rules) == {"Message"}
    assert _fields(envelope | {"Message": 7}, rules) == {"Message"}
    assert _fields(_notification(AlarmName=None), rules) == {"Message.AlarmName"}
    assert _fields(_notification(NewStateValue="BROKEN"), rules) == {"Message.NewStateValue"}
    assert _fields(_notification(Trigger={"Dimensions": [{"name": "a"}]}), rules) == {
        "Message.Trigger.Dimensions[0].value"
    }
    assert _fields({"Type": "Bogus", "Message": "{}"}, rules) == {"Type"}
    assert _fields("a string", rules) == {"(body)"}


def test_subscription_messages_are_not_alarms(rules: Rules) -> None:
    assert _fields(_golden("sns_subscription_confirmation.json"), rules) == {"Type"}


@pytest.mark.parametrize(
    "when",
    [
        "20/11/26 07:59:30",
        "2026-11-20T07:59:30",  # no zone
        "1999-12-31T23:59:59.000+0000",
        "2026-11-22T08:00:00.000+0000",  # two days ahead
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_bad_state_change_time_is_refused(rules: Rules, when: str) -> None:
    assert _fields(_notification(StateChangeTime=when), rules) == {"Message.StateChangeTime"}


def test_subscription_confirmation() -> None:
    golden = _golden("sns_subscription_confirmation.json")
    request = cloudwatch.subscription_request(golden)
    assert request == cloudwatch.SubscriptionRequest(
        topic_arn=TOPIC,
        subscribe_url=golden["SubscribeURL"],
        token=golden["Token"],
        message_type="SubscriptionConfirmation",
    )
    unsubscribe = cloudwatch.subscription_request(golden | {"Type": "UnsubscribeConfirmation"})
    assert unsubscribe is not None
    assert unsubscribe.message_type == "UnsubscribeConfirmation"


def test_other_bodies_are_no_subscription_request() -> None:
    assert cloudwatch.subscription_request(_golden("cloudwatch_alarm.json")) is None
    assert cloudwatch.subscription_request(_alarm_message()) is None
    assert cloudwatch.subscription_request(["SubscriptionConfirmation"]) is None
    assert cloudwatch.subscription_request(None) is None


def _url(golden: dict[str, Any]) -> str:
    return f"?Action=ConfirmSubscription&TopicArn={golden['TopicArn']}&Token={golden['Token']}"


@pytest.mark.parametrize(
    "prefix",
    [
        "http://sns.us-west-2.amazonaws.com/",
        "https://sns.us-west-2.amazonaws.com.evil.example/",
        "https://evil.example/sns.us-west-2.amazonaws.com/",
        "https://s3.us-west-2.amazonaws.com/",
        "https://bucket.s3.amazonaws.com/",
        "https://user@sns.us-west-2.amazonaws.com/",
        "https://sns.us-west-2.amazonaws.com:8443/",
        "https://sns.eu-west-1.amazonaws.com/",  # not the topic's region
        "https://sns.us-west-2.amazonaws.com.cn/",  # China endpoint for a global topic
        "https://sns.us-west-2.amazonaws.com/redirect/",
        "https://sns.us-west-2.amazonaws.com\\@evil.example/",
        "https://sns.us-west-2.amazonaws.com/ ",
        "file:///etc/passwd",
        "",
    ],
)
def test_subscribe_url_must_be_the_topics_sns_endpoint(prefix: str) -> None:
    golden = _golden("sns_subscription_confirmation.json")
    with pytest.raises(PayloadError) as caught:
        cloudwatch.subscription_request(golden | {"SubscribeURL": prefix + _url(golden)})
    assert [p.field for p in caught.value.problems] == ["SubscribeURL"]


@pytest.mark.parametrize(
    "query",
    [
        "?Action=Unsubscribe&TopicArn={topic}&Token={token}",
        "?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:Other&Token={token}",
        "?Action=ConfirmSubscription&TopicArn={topic}&Token=other",
        "?Action=ConfirmSubscription&TopicArn={topic}&Token={token}&Token=again",
        "?Action=ConfirmSubscription&TopicArn={topic}&Token={token}#fragment",
    ],
)
def test_subscribe_url_must_confirm_this_topic(query: str) -> None:
    golden = _golden("sns_subscription_confirmation.json")
    url = "https://sns.us-west-2.amazonaws.com/" + query.format(
        topic=golden["TopicArn"], token=golden["Token"]
    )
    with pytest.raises(PayloadError) as caught:
        cloudwatch.subscription_request(golden | {"SubscribeURL": url})
    assert [p.field for p in caught.value.problems] == ["SubscribeURL"]


def test_china_subscribe_url() -> None:
    topic = "arn:aws-cn:sns:cn-north-1:123456789012:MyTopic"
    url = f"https://sns.cn-north-1.amazonaws.com.cn/?Action=ConfirmSubscription&TopicArn={topic}&Token=t"
    body = {
        "Type": "SubscriptionConfirmation",
        "TopicArn": topic,
        "Token": "t",
        "SubscribeURL": url,
    }
    request = cloudwatch.subscription_request(body)
    assert request is not None
    assert request.subscribe_url == url


def test_subscription_problems_name_the_field() -> None:
    golden = _golden("sns_subscription_confirmation.json")
    for missing in ("Token", "TopicArn", "SubscribeURL"):
        body = {k: v for k, v in golden.items() if k != missing}
        with pytest.raises(PayloadError) as caught:
            cloudwatch.subscription_request(body)
        assert [p.field for p in caught.value.problems] == [missing]
    with pytest.raises(PayloadError) as caught:
        cloudwatch.subscription_request(golden | {"TopicArn": "MyTopic"})
    assert [p.field for p in caught.value.problems] == ["TopicArn"]


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(),
    lambda kids: st.lists(kids) | st.dictionaries(st.text(), kids),
    max_leaves=30,
)


@st.composite
def _mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """`base` with some keys dropped and others replaced by any JSON value."""
    out = dict(base)
    if not base:
        return out
    for key in draw(st.lists(st.sampled_from(sorted(base)), unique=True)):
        if draw(st.booleans()):
            del out[key]
        else:
            out[key] = draw(json_values)
    return out


@st.composite
def _mutated_notifications(draw: st.DrawFn) -> dict[str, Any]:
    name = draw(
        st.sampled_from(
            ["cloudwatch_alarm.json", "cloudwatch_ok.json", "sns_subscription_confirmation.json"]
        )
    )
    envelope = _golden(name)
    message = (
        json.loads(envelope["Message"]) if name != "sns_subscription_confirmation.json" else {}
    )
    if message and draw(st.booleans()):
        message = draw(_mutated(message))
        if isinstance(message.get("Trigger"), dict) and draw(st.booleans()):
            message["Trigger"] = draw(_mutated(message["Trigger"]))
        envelope["Message"] = json.dumps(message)
    return draw(_mutated(envelope))


_FUZZ = settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _outcome(payload: object, rules: Rules) -> list[Alert] | PayloadError:
    try:
        return cloudwatch.parse(payload, AdapterContext(T0, rules))
    except PayloadError as e:
        return e


def _request(payload: object) -> cloudwatch.SubscriptionRequest | PayloadError | None:
    try:
        return cloudwatch.subscription_request(payload)
    except PayloadError as e:
        return e


@_FUZZ
@given(json_values)
def test_any_json_gives_alerts_or_a_payload_error(rules: Rules, payload: object) -> None:
    outcome = _outcome(payload, rules)
    assert outcome.problems if isinstance(outcome, PayloadError) else len(outcome) == 1
    request = _request(payload)
    assert request.problems if isinstance(request, PayloadError) else request is None


@_FUZZ
@given(_mutated_notifications())
def test_mutated_notifications_give_alerts_or_a_payload_error(
    rules: Rules, payload: dict[str, Any]
) -> None:
    outcome = _outcome(payload, rules)
    assert outcome.problems if isinstance(outcome, PayloadError) else len(outcome) == 1
    request = _request(payload)
    if isinstance(request, cloudwatch.SubscriptionRequest):
        assert request.subscribe_url.startswith("https://sns.us-west-2.amazonaws.com/?")
    elif isinstance(request, PayloadError):
        assert request.problems
