"""What an acknowledgement sent back to Alertmanager says: matchers from the alert's
labels, one set per firing alert, and a comment in the configured language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import AlertStatus, Incident, IncidentAlert, Priority, Severity
from core.templating import Language
from tests.conftest import T0
from ticketer.acknowledge_back import matcher_key
from ticketer.silencer import Matcher, matchers_for, same_matchers, wanted_silences
from ticketer.texts import TicketTexts


def _alert(
    n: int,
    source: str = "alertmanager",
    status: AlertStatus = AlertStatus.FIRING,
    labels: dict[str, str] | None = None,
) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"fp{n}", source=source, source_id=f"am-{n}", name="HostDown",
        resource=f"mx-{n}", service="mail", severity=Severity.CRITICAL, status=status,
        first_seen=T0, last_seen=T0,
        labels={"alertname": "HostDown", "instance": f"mx-{n}:9100"} if labels is None else labels,
    )  # fmt: skip


def _incident(*alerts: IncidentAlert) -> Incident:
    return Incident(
        id="INC-42", key="k", title="Mail servers down", severity=Severity.CRITICAL,
        priority=Priority.P1, opened_at=T0, sample=alerts, alert_count=len(alerts),
    )  # fmt: skip


def test_matchers_are_every_label_by_equality_sorted_by_name() -> None:
    assert matchers_for({"severity": "critical", "alertname": "HostDown", "job": "node"}) == (
        Matcher(name="alertname", value="HostDown"),
        Matcher(name="job", value="node"),
        Matcher(name="severity", value="critical"),
    )
    assert all(not m.isRegex and m.isEqual for m in matchers_for({"alertname": "A"}) or ())


def test_empty_labels_are_left_out_and_no_alertname_means_no_silence() -> None:
    assert matchers_for({"alertname": "A", "team": ""}) == (Matcher(name="alertname", value="A"),)
    assert matchers_for({"instance": "mx-1"}) is None


def test_one_set_per_firing_alertmanager_alert_with_labels() -> None:
    alerts = [
        _alert(1), _alert(2), _alert(3, status=AlertStatus.RESOLVED),
        _alert(4, source="zabbix"), _alert(5, labels={}),
    ]  # fmt: skip
    assert [matcher_key(m) for m in wanted_silences(alerts)] == [
        '{alertname="HostDown",instance="mx-1:9100"}',
        '{alertname="HostDown",instance="mx-2:9100"}',
    ]


def test_matcher_sets_compare_whatever_their_order() -> None:
    a, b = Matcher(name="a", value="1"), Matcher(name="b", value="2")
    assert same_matchers((a, b), (b, a))
    assert not same_matchers((a,), (a, b))


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ("Acknowledged in Sereno by alice: incident INC-42, Mail servers down (P1). "
               "Silenced until 20 Nov 2026 13:00 CET so that Alertmanager stops repeating it. "
               "https://sereno.example.org/api/v1/incidents/INC-42")),
        ("es", ("Reconocido en Sereno por alice: incidente INC-42, Mail servers down (P1). "
               "Silenciado hasta el 20 nov 2026 13:00 CET para que Alertmanager deje de "
               "repetirlo. https://sereno.example.org/api/v1/incidents/INC-42")),
    ],
)  # fmt: skip
def test_the_comment_names_the_incident_and_who_took_it(language: Language, expected: str) -> None:
    texts = TicketTexts(language, "Europe/Madrid")
    comment = texts.silence_comment(
        _incident(_alert(1)), "alice", T0 + timedelta(hours=4),
        "https://sereno.example.org/api/v1/incidents/INC-42",
    )  # fmt: skip
    assert comment == expected


def test_nobody_named_is_someone() -> None:
    comment = TicketTexts("es", "UTC").silence_comment(_incident(), "", T0, "u")
    assert comment.startswith("Reconocido en Sereno por alguien: ")
