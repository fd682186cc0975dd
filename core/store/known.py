"""Incidents the process has already parsed or serialised, so neither is done twice.

An incident of a storm holds thousands of alerts, and correlate reads it and the store writes
it once for every alert that joins it: parsing and serialising it again each time made a day's
replay grow with the square of the storm. Incidents are frozen, so the object parsed from a
text can stand for that text for as long as the store holds exactly that text, and the text
of an object never changes. Both stores share these memories: a hit needs the very same text
(for a parse) or the very same object (for a text), so a memory can never be wrong, only
missing. Only the latest version of each incident is kept, which bounds the memory.
"""

from __future__ import annotations

from collections import OrderedDict

from core.models import Incident

KEEP = 1024
"""Incidents remembered, one version each; the least recently used are forgotten first."""

_known: OrderedDict[str, tuple[str, Incident]] = OrderedDict()
"""incident id -> (the text last read or written for it, the incident that text holds)"""


def _remember(incident: Incident, text: str) -> None:
    _known[incident.id] = (text, incident)
    _known.move_to_end(incident.id)
    if len(_known) > KEEP:
        _known.popitem(last=False)


def parse_incident(text: str) -> Incident:
    """`Incident.model_validate_json(text)`, reusing the object already parsed from it."""
    # The id comes first in the text; comparing the whole text decides.
    start = text.find('"id":"')
    if start != -1:
        known = _known.get(text[start + 6 : text.find('"', start + 6)])
        if known is not None and known[0] == text:
            _known.move_to_end(known[1].id)
            return known[1]
    incident = Incident.model_validate_json(text)
    _remember(incident, text)
    return incident


def incident_text(incident: Incident) -> str:
    """`incident.model_dump_json()`, reusing the text already made for this very object."""
    known = _known.get(incident.id)
    if known is not None and known[1] is incident:
        return known[0]
    text = incident.model_dump_json()
    _remember(incident, text)
    return text
