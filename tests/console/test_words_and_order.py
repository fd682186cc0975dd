"""The console's words and orderings, without a server."""

from __future__ import annotations

import re
from datetime import timedelta

from core.models import Priority, SlaBreach, SlaTarget, Ticket
from sereno.console import data
from sereno.console.i18n import MESSAGES
from sereno.console.render import TEMPLATES, span
from tests.conftest import T0


def test_both_languages_have_the_same_words() -> None:
    assert MESSAGES["en"].keys() == MESSAGES["es"].keys()
    assert all(MESSAGES["es"][k] != "" for k in MESSAGES["es"])


def test_every_word_a_template_asks_for_exists() -> None:
    asked: set[str] = set()
    prefixes: set[str] = set()
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        asked |= set(re.findall(r"""\bt\(["']([a-z_]+)["'][,)]""", text))
        prefixes |= set(re.findall(r"""\bt\(["']([a-z_]+)["'] ~""", text))
    assert asked
    assert asked - MESSAGES["en"].keys() == set()
    for prefix in prefixes:
        assert any(k.startswith(prefix) for k in MESSAGES["en"]), prefix


def test_spans_read_at_a_glance() -> None:
    assert span(timedelta(seconds=40)) == "40 s"
    assert span(timedelta(minutes=12, seconds=5)) == "12 min"
    assert span(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert span(timedelta(hours=2)) == "2 h"
    assert span(timedelta(days=2, hours=4)) == "2 d 4 h"
    assert span(-timedelta(minutes=3)) == "3 min"


def _ticket(
    n: int, *, breached: bool = False, resolved: bool = False, priority: Priority = Priority.P3
) -> Ticket:
    at = T0 + timedelta(minutes=n)
    breaches = (SlaBreach(target=SlaTarget.RESPONSE, due_at=at, noticed_at=at),) if breached else ()
    return Ticket(
        id=f"TKT-{n}", incident_id=f"INC-{n}", backend="builtin", title=f"t{n}",
        priority=priority, created_at=at, updated_at=at,
        resolved_at=at if resolved else None, breaches=breaches,
    )  # fmt: skip


def test_tickets_come_breached_first_then_open_then_by_priority_and_newest() -> None:
    tickets = [
        _ticket(1),
        _ticket(2, resolved=True),
        _ticket(3, breached=True, resolved=True),
        _ticket(4),
        _ticket(5, breached=True),
        _ticket(6, priority=Priority.P1),
    ]
    ordered = sorted(tickets, key=data._breached_first)
    assert [t.id for t in ordered] == ["TKT-5", "TKT-3", "TKT-6", "TKT-4", "TKT-1", "TKT-2"]
