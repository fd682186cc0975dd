"""The operator's policy: typed schema and loader for rules/*.yaml.

Sections: the service catalogue and topology (`catalogue`), correlation, priority, routing,
crisis and heartbeats (`response`), maintenance windows (`windows`), and how each source
speaks (`sources`). `load_rules` reads a folder and explains every error with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from core.rules.base import AlertMatch, Duration, FieldPath, Section
from core.rules.catalogue import Catalogue, Criticality, Service, Topology
from core.rules.correlation import CorrelationRule, CorrelationRules, FlappingRules
from core.rules.loader import LoadedRules, RuleProblem, RulesError, load_rules, read_rules
from core.rules.notifications import (
    Channel,
    ChannelType,
    CrisisCommittee,
    EscalationLevel,
    EscalationPolicy,
    GroupNotifications,
    NotificationRules,
    SecretRef,
    Smtp,
)
from core.rules.priority import Assessment, ImpactLevel, PriorityRules, Reach
from core.rules.response import CrisisRule, Heartbeat, Route, RoutingRules
from core.rules.schema import CrossProblem, Rules
from core.rules.sources import FieldMapping, ResourceRules, SourceSeverity, StatusRule
from core.rules.windows import MaintenanceRules, MaintenanceWindow, Weekly

if TYPE_CHECKING:
    from core.runbooks import Runbooks

__all__ = [
    "AlertMatch",
    "Assessment",
    "Catalogue",
    "Channel",
    "ChannelType",
    "CorrelationRule",
    "CorrelationRules",
    "CrisisCommittee",
    "CrisisRule",
    "Criticality",
    "CrossProblem",
    "Duration",
    "EscalationLevel",
    "EscalationPolicy",
    "FieldMapping",
    "FieldPath",
    "FlappingRules",
    "GroupNotifications",
    "Heartbeat",
    "ImpactLevel",
    "LoadedRules",
    "MaintenanceRules",
    "MaintenanceWindow",
    "NotificationRules",
    "PriorityRules",
    "Reach",
    "ResourceRules",
    "Route",
    "RoutingRules",
    "RuleProblem",
    "Rules",
    "RulesError",
    "RulesRef",
    "RulesVersion",
    "SecretRef",
    "Section",
    "Service",
    "Smtp",
    "SourceSeverity",
    "StatusRule",
    "Topology",
    "Weekly",
    "load_rules",
    "read_rules",
]


@dataclass(frozen=True, slots=True)
class RulesVersion:
    """Which rules are in force: a digest of their files' text, and when they were loaded."""

    digest: str
    loaded_at: datetime


class RulesRef:
    """The rules (and runbooks) in force; swapped whole on reload so a reader never sees half
    of a change. `version` is None when the rules were not read from files (tests build them
    directly). Runbooks are typed by the stages that use them (`core.runbooks.Runbooks`)."""

    def __init__(
        self, rules: Rules, version: RulesVersion | None = None, runbooks: Runbooks | None = None
    ) -> None:
        self.current = rules
        self.version = version
        self.runbooks = runbooks

    def replace(
        self, rules: Rules, version: RulesVersion | None = None, runbooks: Runbooks | None = None
    ) -> None:
        """Put `rules` in force; the stages read them from their next batch on."""
        self.current = rules
        self.version = version
        if runbooks is not None:
            self.runbooks = runbooks
