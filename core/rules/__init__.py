"""The operator's policy: typed schema and loader for rules/*.yaml.

Sections: the service catalogue and topology (`catalogue`), correlation, priority, routing,
crisis and heartbeats (`response`), maintenance windows (`windows`), and how each source
speaks (`sources`). `load_rules` reads a folder and explains every error with file and line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.rules.base import AlertMatch, Duration, FieldPath, Section
from core.rules.catalogue import Catalogue, Criticality, Service, Topology
from core.rules.correlation import CorrelationRule, CorrelationRules, FlappingRules
from core.rules.loader import RuleProblem, RulesError, load_rules
from core.rules.priority import Assessment, ImpactLevel, PriorityRules, Reach
from core.rules.response import CrisisRule, Heartbeat, Route, RoutingRules
from core.rules.schema import Rules
from core.rules.sources import FieldMapping, ResourceRules, SourceSeverity, StatusRule
from core.rules.windows import MaintenanceRules, MaintenanceWindow, Weekly

if TYPE_CHECKING:
    from core.runbooks import Runbooks

__all__ = [
    "AlertMatch",
    "Assessment",
    "Catalogue",
    "CorrelationRule",
    "CorrelationRules",
    "CrisisRule",
    "Criticality",
    "Duration",
    "FieldMapping",
    "FieldPath",
    "FlappingRules",
    "Heartbeat",
    "ImpactLevel",
    "MaintenanceRules",
    "MaintenanceWindow",
    "PriorityRules",
    "Reach",
    "ResourceRules",
    "Route",
    "RoutingRules",
    "RuleProblem",
    "Rules",
    "RulesError",
    "RulesRef",
    "Section",
    "Service",
    "SourceSeverity",
    "StatusRule",
    "Topology",
    "Weekly",
    "load_rules",
]


class RulesRef:
    """The rules (and runbooks) in force; swapped whole on reload so a reader never sees half
    of a change. Runbooks are typed by the stages that use them (`core.runbooks.Runbooks`)."""

    def __init__(self, rules: Rules, runbooks: Runbooks | None = None) -> None:
        self.current = rules
        self.runbooks = runbooks

    def replace(self, rules: Rules, runbooks: Runbooks | None = None) -> None:
        self.current = rules
        if runbooks is not None:
            self.runbooks = runbooks
