"""Incident events written around the incident's reused text read back as pydantic reads them."""

from __future__ import annotations

from core.incident_entries import incident_event_text, parse_incidents_entry
from core.models import (
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentEventKind,
    IncidentsEntry,
    Priority,
    Severity,
    Tick,
)
from tests.conftest import T0


def _event(reason: str = "") -> IncidentEvent:
    member = IncidentAlert(
        fingerprint="f", source="generic", source_id="f", name="HostDown", resource="web-1",
        service="mail", severity=Severity.MAJOR, status=AlertStatus.FIRING, first_seen=T0,
        last_seen=T0, summary='"incident": {"id": "INC-666"}',
    )  # fmt: skip
    incident = Incident(
        id="INC-41", key="k", title=',"incident":{}', severity=Severity.MAJOR,
        priority=Priority.P2, opened_at=T0, alerts=(member,),
    )  # fmt: skip
    return IncidentEvent(
        kind=IncidentEventKind.UPDATED, at=T0, incident=incident, reason=reason,
        priority_raised=True,
    )  # fmt: skip


def test_an_event_reads_back_equal_to_what_was_written() -> None:
    # Texts that look like the split point, in the reason and inside the incident.
    event = _event(reason=',"incident":{"id":"INC-1"}}')
    text = incident_event_text(event)
    assert parse_incidents_entry(text).root == event
    assert IncidentsEntry.model_validate_json(text).root == event


def test_entries_written_another_way_are_still_read() -> None:
    event = _event()
    assert parse_incidents_entry(event.model_dump_json()).root == event
    tick = Tick(at=T0)
    assert parse_incidents_entry(tick.model_dump_json()).root == tick
