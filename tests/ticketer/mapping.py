"""The rules the ticket system tests run under: every priority gets its ticket at once,
and the ticket systems' mapping the tests expect (queues, categories, groups)."""

from __future__ import annotations

from datetime import timedelta

from core.models import Priority
from core.rules import Rules, RulesRef, TicketRules
from core.rules.ticket_systems import GlpiMapping, RtMapping, TicketSystems

SYSTEMS = TicketSystems(
    rt=RtMapping(queues={"network": "Network", "databases": "Databases"}),
    glpi=GlpiMapping(categories={"databases": 12}, groups={"databases": 4}),
)


def ticket_rules(rules: Rules) -> RulesRef:
    tickets = TicketRules(open=dict.fromkeys(Priority, timedelta(0)), systems=SYSTEMS)
    return RulesRef(rules.model_copy(update={"tickets": tickets}))


def mapped() -> RulesRef:
    """Only the mapping, for the backends' own tests."""
    return RulesRef(Rules().model_copy(update={"tickets": TicketRules(systems=SYSTEMS)}))
