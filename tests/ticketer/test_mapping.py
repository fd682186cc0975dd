"""The ticket systems' mapping in the rules: what a status change means, where a ticket
goes, and the mistakes `sereno rules check` names."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.rules.ticket_systems import GlpiMapping, RtMapping, Statuses, TicketSystems


def test_status_changes_mean_taken_resolved_reopened_or_nothing() -> None:
    rt = RtMapping().statuses
    assert rt.action("new", "open") == "acknowledge"
    assert rt.action("open", "resolved") == "resolve"
    assert rt.action("new", "rejected") == "resolve"
    assert rt.action("resolved", "open") == "reopen"
    assert rt.action("resolved", "rejected") == ""
    assert rt.action("open", "stalled") == ""
    glpi = GlpiMapping().statuses
    assert glpi.action(1, 2) == "acknowledge"
    assert glpi.action(2, 5) == "resolve"
    assert glpi.action(5, 2) == "reopen"
    assert glpi.action(5, 6) == ""


def test_a_service_queue_wins_over_the_group_queue() -> None:
    rt = RtMapping(queues={"redes": "Network"}, services={"vpn": "VPN"})
    assert rt.queue_for("redes", "vpn") == "VPN"
    assert rt.queue_for("redes", "dns") == "Network"
    assert rt.queue_for("sistemas", "dns") == "General"
    glpi = GlpiMapping(categories={"redes": 3}, services={"vpn": 9}, category=1)
    assert (glpi.category_for("redes", "vpn"), glpi.category_for("x", "y")) == (9, 1)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"rt": {"priorities": {"P1": 120}}}, "RT priorities run from 0 to 99"),
        ({"glpi": {"scales": {"P1": {"urgency": 6, "impact": 5, "priority": 6}}}},
         "less than or equal to 5"),
        ({"rt": {"statuses": {"taken": ["resolved"], "resolved": ["resolved"],
                              "reopened": ["open"], "resolve_to": "resolved",
                              "reopen_to": "open"}}}, "cannot be resolved and also taken"),
        ({"jira": {"statuses": {"resolved": ["Done"], "reopened": ["To Do"],
                                "resolve_to": "Closed", "reopen_to": "To Do"}}},
         "resolve_to 'Closed' must be one of resolved"),
        ({"rt": {"queues": {"redes": "Network"}, "colour": "red"}}, "Extra inputs"),
    ],
)  # fmt: skip
def test_mistakes_are_named(given: dict[str, object], said: str) -> None:
    with pytest.raises(ValidationError, match=said):
        TicketSystems.model_validate(given)


def test_statuses_keep_their_type() -> None:
    with pytest.raises(ValidationError):
        Statuses[int].model_validate(
            {"resolved": ["solved"], "reopened": [1], "resolve_to": "solved", "reopen_to": 1}
        )
