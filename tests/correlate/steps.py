"""Correlation's lifecycle steps as values, for tests: each step copies the incident's
draft and changes the copy, so a test can keep the incident before and after a step."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from core.models import (
    Alert,
    AlertRole,
    AlertStatus,
    Incident,
    IncidentAlert,
    TimelineEntry,
)
from core.rules import Rules
from correlate import lifecycle
from correlate.draft import Draft


class Built:
    """An incident kept in memory whole: its header, its alerts and its timeline."""

    def __init__(self, draft: Draft) -> None:
        self.draft = draft

    @property
    def incident(self) -> Incident:
        return self.draft.incident

    def __getattr__(self, name: str) -> Any:
        return getattr(self.draft.incident, name)

    @property
    def alerts(self) -> list[IncidentAlert]:
        return [self.draft.member(f) for f in self._fingerprints()]  # type: ignore[misc]

    def _fingerprints(self) -> list[str]:
        return list(dict.fromkeys([*self.draft._members, *self.draft.changed]))

    @property
    def timeline(self) -> list[TimelineEntry]:
        return list(self.draft.notes)

    @property
    def firing(self) -> list[IncidentAlert]:
        return [a for a in self.alerts if a.status is AlertStatus.FIRING]

    @property
    def members(self) -> list[IncidentAlert]:
        return [a for a in self.alerts if a.role is AlertRole.MEMBER]

    @property
    def symptoms(self) -> list[IncidentAlert]:
        return [a for a in self.alerts if a.role is AlertRole.SYMPTOM]

    @property
    def pair(self) -> tuple[Incident, list[IncidentAlert]]:
        return self.incident, self.alerts

    def renamed(self, incident_id: str) -> Built:
        after = self.copy()
        after.draft.update(id=incident_id)
        return after

    def copy(self) -> Built:
        return Built(copy.deepcopy(self.draft))


def open_incident(
    incident_id: str, origin: lifecycle.Origin, arrival: lifecycle.Arrival, rules: Rules,
    now: datetime,
) -> Built:  # fmt: skip
    return Built(lifecycle.open_incident(incident_id, origin, arrival, rules, now))


def _settled(built: Built, rules: Rules) -> Built:
    """As the batch leaves it: title and assessment follow its alerts."""
    if built.draft.settle_at is not None:
        lifecycle.settle(built.draft, rules, built.draft.settle_at)
    return built


def add_firing(built: Built, arrival: lifecycle.Arrival, rules: Rules, now: datetime) -> Built:
    after = built.copy()
    lifecycle.add_firing(after.draft, arrival, rules, now)
    return _settled(after, rules)


def add_resolution(
    built: Built, alert: Alert, rules: Rules, now: datetime, *, flapping: bool = False
) -> Built:
    after = built.copy()
    lifecycle.add_resolution(after.draft, alert, rules, now, flapping=flapping)
    return _settled(after, rules)


def reopen(
    built: Built, arrival: lifecycle.Arrival, rules: Rules, now: datetime, window: timedelta
) -> Built:
    after = built.copy()
    lifecycle.reopen(after.draft, arrival, rules, now, window)
    return _settled(after, rules)


def change_alert(built: Built, alert: Alert, rules: Rules, now: datetime) -> Built:
    after = built.copy()
    lifecycle.change_alert(after.draft, alert, now)
    return _settled(after, rules)


def merge(
    cause: Built, duplicate: Built, reasons: Mapping[str, str], rules: Rules, now: datetime
) -> tuple[Built, Built]:
    grown, merged = cause.copy(), duplicate.copy()
    lifecycle.merge(grown.draft, merged.draft, duplicate.alerts, reasons, now)
    return _settled(grown, rules), merged


def as_symptoms(built: Built, reasons: Mapping[str, str], rules: Rules, now: datetime) -> Built:
    after = built.copy()
    alerts = [a for a in built.alerts if a.fingerprint in reasons]
    lifecycle.as_symptoms(after.draft, alerts, reasons, now)
    return _settled(after, rules)


def declare_crisis(built: Built, rule: str, description: str, now: datetime) -> Built:
    after = built.copy()
    lifecycle.declare_crisis(after.draft, rule, description, now)
    return after


def repeat(built: Built, alert: Alert, rules: Rules, now: datetime) -> Built:
    """`alert` sent again as it was."""
    return change_alert(built, alert, rules, now)
