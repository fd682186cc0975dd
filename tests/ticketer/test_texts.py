"""Ticket texts from templates, in English and Spanish: golden files, and alert text that
stays text."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from core.models import (
    SAMPLE_SIZE,
    AlertRole,
    AlertStatus,
    Incident,
    IncidentAlert,
    Priority,
    Severity,
    SlaBreach,
    SlaTarget,
    TicketEvent,
    TicketEventKind,
)
from core.rules import TicketRules
from core.templating import Language
from tests.conftest import T0
from ticketer.backends.jira import comment_text
from ticketer.lifecycle import announce, breach, follow, new_ticket
from ticketer.texts import IncidentPage, TicketTexts

GOLDEN = Path(__file__).parent / "golden"
PAGE = IncidentPage(url="https://sereno.example.org/api/v1/incidents/INC-42", service_name="Email")


def _alert(
    n: int, summary: str, role: AlertRole = AlertRole.MEMBER, cause: str = ""
) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"fp{n}", source="alertmanager", source_id=f"am-{n}", name="HostDown",
        resource=f"mail-{n:02d}", service="mail", severity=Severity.CRITICAL,
        status=AlertStatus.FIRING, role=role, cause=cause, summary=summary, first_seen=T0,
        last_seen=T0,
    )  # fmt: skip


def _incident(alerts: int = 2, summary: str = "mail-01 does not answer ping") -> Incident:
    first = _alert(1, summary)
    rest = [_alert(n, "no answer", AlertRole.SYMPTOM, "its switch sw-3 failed")
            for n in range(2, alerts + 1)]  # fmt: skip
    return Incident(
        id="INC-42", key="k", title="Mail servers down", severity=Severity.CRITICAL,
        priority=Priority.P1, priority_reason="high impact (12,000 users) x high urgency",
        service="mail", users_affected=12000, group="messaging", opened_at=T0,
        runbook="mail-down", runbook_title="Mail service down",
        runbook_steps=("Check the mail gateway", "Fail over to the standby cluster"),
        sample=(first, *rest)[:SAMPLE_SIZE], alert_count=alerts, resource_count=alerts,
        symptom_count=alerts - 1,
    )  # fmt: skip


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("SERENO_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
    assert text + "\n" == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_ticket_reads_as_its_golden_file(language: Language) -> None:
    texts = TicketTexts(language, "Europe/Madrid")
    rules = TicketRules()
    opened = new_ticket("TKT-7", "builtin", _incident(), PAGE, T0, rules, texts)
    later = T0 + timedelta(minutes=6)
    grown = _incident(alerts=5).model_copy(
        update={"priority": Priority.P2, "version": 2, "group": "network"}
    )
    followed = announce(follow(opened, grown, PAGE, later, rules, texts), later, rules, texts)
    missed = SlaBreach(
        target=SlaTarget.RESPONSE,
        due_at=T0 + timedelta(minutes=15),
        noticed_at=T0 + timedelta(minutes=16),
    )
    breached = breach(followed, [missed], T0 + timedelta(minutes=16), rules, texts)
    comment = comment_text(
        TicketEvent(kind=TicketEventKind.UPDATED, at=later, ticket=followed), opened, "k2", texts
    )
    _golden(f"{language}/title.txt", opened.title)
    _golden(f"{language}/description.txt", followed.description)
    _golden(
        f"{language}/history.txt",
        "\n".join(f"{c.field}: {c.old or '-'} -> {c.new} ({c.note})" for c in breached.history),
    )
    _golden(f"{language}/jira_comment.txt", comment)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    "summary", ["{{ 7*7 }}", "{% for %}", "{{ ''.__class__.__mro__ }}", "{# gone? #}"]
)
def test_alert_text_is_shown_as_it_is_never_run(language: Language, summary: str) -> None:
    texts = TicketTexts(language, "Europe/Madrid")
    incident = _incident(summary=summary).model_copy(update={"title": summary})
    ticket = new_ticket("TKT-7", "builtin", incident, PAGE, T0, TicketRules(), texts)
    assert f"): {summary}\n" in ticket.description
    assert ticket.title.endswith(f"[mail] {summary}")
    assert "49" not in ticket.description


def test_resources_and_alerts_past_the_sample_are_counted_not_listed() -> None:
    # The incident carries its first SAMPLE_SIZE alerts; the ticket lists those and counts
    # the rest, however many there are.
    texts = TicketTexts("en", "Europe/Madrid")
    ticket = new_ticket("TKT-7", "builtin", _incident(alerts=60), PAGE, T0, TicketRules(), texts)
    assert "Affected resources (60):" in ticket.description
    assert f"- mail-{SAMPLE_SIZE:02d}\n" in ticket.description
    assert f"mail-{SAMPLE_SIZE + 1}" not in ticket.description
    assert ticket.description.count(f"... and {60 - SAMPLE_SIZE} more") == 2


def test_an_incident_without_runbook_or_service_says_so() -> None:
    texts = TicketTexts("es", "Europe/Madrid")
    bare = _incident().model_copy(
        update={"runbook": "", "runbook_steps": (), "service": "", "users_affected": 0}
    )
    ticket = new_ticket("TKT-7", "builtin", bare, IncidentPage(url=PAGE.url, service_name=""),
                        T0, TicketRules(), texts)  # fmt: skip
    assert "Aún no hay un runbook para este incidente." in ticket.description
    assert "Servicio de negocio: desconocido\n" in ticket.description
    assert ticket.runbook_url == ""
