"""Remembered incidents: found only by the very write they were stored or read as."""

from __future__ import annotations

import json

from core.models import Incident, Priority, Severity
from core.store.known import REVISION_LENGTH, KnownIncidents, head_of, revision_of
from tests.conftest import T0


def _incident(title: str) -> Incident:
    return Incident(
        id="INC-900", key="k", title=title, severity=Severity.MAJOR, priority=Priority.P3,
        opened_at=T0,
    )  # fmt: skip


def test_every_write_of_an_incident_has_a_revision_of_its_own() -> None:
    incident = _incident("Disk full on db-1")
    first, second = KnownIncidents.new_record(incident), KnownIncidents.new_record(incident)
    assert revision_of(first) != revision_of(second)
    assert len(revision_of(first)) == REVISION_LENGTH
    assert head_of(first) == head_of(second)
    head = json.loads(head_of(first))
    assert head["title"] == "Disk full on db-1"
    assert "alerts" not in head
    assert "timeline" not in head


def test_an_incident_is_found_by_its_record_and_knows_its_record() -> None:
    known = KnownIncidents()
    incident = _incident("Host down: web-1")
    record = known.new_record(incident)
    assert known.find(record) is None
    known.remember(incident, record)
    assert known.find(record) is incident
    assert known.record_of(incident) == record
    # An equal incident is not the one that was stored: its record is unknown.
    assert known.record_of(incident.model_copy()) is None
    # The same head written again is another write, not found under the first.
    assert known.find(known.new_record(incident)) is None


def test_a_forgotten_incident_is_missing_never_wrong() -> None:
    known = KnownIncidents(keep=2)
    incidents = [_incident(f"Host down: web-{n}") for n in range(3)]
    records = [known.new_record(i) for i in incidents]
    for incident, record in zip(incidents, records, strict=True):
        known.remember(incident, record)
    assert known.find(records[0]) is None
    assert known.find(records[1]) is incidents[1]
    assert known.find(records[2]) is incidents[2]
    known.clear()
    assert known.find(records[2]) is None
    assert known.record_of(incidents[2]) is None
