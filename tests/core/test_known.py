"""Remembered incidents: reused only for the very same text or the very same object."""

from __future__ import annotations

from core.models import Incident, Priority, Severity
from core.store.known import incident_text, parse_incident
from tests.conftest import T0


def _incident(title: str) -> Incident:
    return Incident(
        id="INC-900", key="k", title=title, severity=Severity.MAJOR, priority=Priority.P3,
        opened_at=T0,
    )  # fmt: skip


def test_the_same_text_gives_the_same_incident_and_another_text_a_new_one() -> None:
    text = _incident("Disk full on db-1").model_dump_json()
    first = parse_incident(text)
    assert parse_incident(text) is first
    changed = parse_incident(text.replace("Disk full", "Disk nearly full"))
    assert changed is not first
    assert changed.title == "Disk nearly full on db-1"
    # The newer text replaced the older one: reading the old text again parses it afresh.
    again = parse_incident(text)
    assert again is not first
    assert again == first


def test_the_text_of_an_incident_is_its_own_even_after_a_copy() -> None:
    incident = _incident("Host down: web-1")
    text = incident_text(incident)
    assert text == incident.model_dump_json()
    copy = incident.model_copy(update={"title": "Host down: web-2"})
    copy_text = incident_text(copy)
    assert copy_text == copy.model_dump_json() != text
    # What was last written for INC-900 is the copy: reading that text gives the copy back.
    assert parse_incident(copy_text) is copy
