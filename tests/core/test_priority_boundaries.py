"""Impact at its thresholds: a level is reached at its threshold exactly, and one below it
leaves the lesser impact, for users and for resources, at both levels."""

from __future__ import annotations

import pytest

from core.models import Impact, Priority, Severity
from core.rules.catalogue import Criticality
from core.rules.priority import PriorityRules, Reach

RULES = PriorityRules()  # high: 5,000 users or 50 resources; medium: 100 users or 5 resources


def _impact(users: int = 0, resources: int = 1, criticality: Criticality | None = None) -> Impact:
    return RULES.assess(Severity.CRITICAL, Reach(users, criticality, resources)).impact


@pytest.mark.parametrize(
    ("users", "impact"),
    [(99, Impact.LOW), (100, Impact.MEDIUM), (4999, Impact.MEDIUM), (5000, Impact.HIGH)],
)
def test_users_reach_a_level_at_its_threshold(users: int, impact: Impact) -> None:
    assert _impact(users=users) is impact


@pytest.mark.parametrize(
    ("resources", "impact"),
    [(4, Impact.LOW), (5, Impact.MEDIUM), (49, Impact.MEDIUM), (50, Impact.HIGH)],
)
def test_resources_reach_a_level_at_their_threshold(resources: int, impact: Impact) -> None:
    assert _impact(resources=resources) is impact


def test_criticality_reaches_only_the_levels_that_name_it() -> None:
    rules = PriorityRules.model_validate(
        {"impact": {"high": {"criticality": ["critical"]}, "medium": {"criticality": ["high"]}}}
    )
    reach = Reach(0, Criticality("high"), 1)
    assert rules.assess(Severity.CRITICAL, reach).impact is Impact.MEDIUM
    reach = Reach(0, Criticality("critical"), 1)
    assert rules.assess(Severity.CRITICAL, reach).impact is Impact.HIGH
    assert rules.assess(Severity.CRITICAL, Reach(0, None, 1)).impact is Impact.LOW


def test_the_reason_names_the_threshold_reached() -> None:
    assessed = RULES.assess(Severity.CRITICAL, Reach(100, None, 1, "Payroll"))
    assert assessed.priority is Priority.P2
    assert "impact medium (Payroll: 100 users affected (≥ 100))" in assessed.reason
