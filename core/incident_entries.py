"""Incident events as entries of the `incidents` stream, the incident's text made and read once.

Every change of a storm's incident is announced with the whole incident, and both the
ticketer and notify read it. Building the entry around the text the store has just made
for that incident, and reading the incident back through the same memory, keeps that at one
serialisation and, within one process, one parse per change, however many alerts it holds.
An entry written any other way is still read, by pydantic in full.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from core.models import IncidentEvent, IncidentsEntry
from core.store.known import INCIDENTS

_INCIDENT = ',"incident":'


def incident_event_text(event: IncidentEvent) -> str:
    """`event.model_dump_json()`, with the incident last and its text reused."""
    head = event.model_dump_json(exclude={"incident"})
    return f"{head[:-1]}{_INCIDENT}{INCIDENTS.text(event.incident)}}}"


def parse_incidents_entry(text: str) -> IncidentsEntry:
    """`IncidentsEntry.model_validate_json(text)`, the incident read through the memory."""
    # Inside a JSON string a quote is escaped, so the first `,"incident":` is the key itself.
    at = text.find(_INCIDENT)
    if at != -1 and text.endswith("}}"):
        try:
            head = json.loads(text[:at] + "}")
            incident = INCIDENTS.parse(text[at + len(_INCIDENT) : -1])
            return IncidentsEntry.model_validate({**head, "incident": incident})
        except (ValueError, ValidationError):
            pass  # not written by incident_event_text: read it in full below
    return IncidentsEntry.model_validate_json(text)
