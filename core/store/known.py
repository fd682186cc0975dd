"""Incidents and tickets the process has already parsed or serialised, so neither is done twice.

An incident of a storm holds thousands of alerts, and correlate reads it and the store writes
it once for every alert that joins it; its ticket lists every affected resource. Parsing and
serialising them again each time made a day's replay grow with the square of the storm.
Both are frozen, so the object parsed from a text can stand for that text for as long as the
store holds exactly that text, and the text of an object never changes. A hit needs the very
same text (for a parse) or the very same object (for a text), so a memory can never be
wrong, only missing. Only the latest version of each is kept, which bounds the memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from core.models import Incident, Ticket

M = TypeVar("M", Incident, Ticket)


class Known(Generic[M]):
    """The latest text and object of up to `keep` items of one model, by id."""

    def __init__(self, model: type[M], keep: int = 1024) -> None:
        self._model: type[M] = model
        self._keep = keep
        self._items: OrderedDict[str, tuple[str, M]] = OrderedDict()

    def _remember(self, key: str, item: M, text: str) -> None:
        self._items[key] = (text, item)
        self._items.move_to_end(key)
        if len(self._items) > self._keep:
            self._items.popitem(last=False)

    def parse(self, text: str) -> M:
        """`model.model_validate_json(text)`, reusing the object already parsed from it."""
        # The id is the first field of the text; comparing the whole text decides.
        if text.startswith('{"id":"'):
            known = self._items.get(text[7 : text.find('"', 7)])
            if known is not None and known[0] == text:
                self._items.move_to_end(known[1].id)
                return known[1]
        item = self._model.model_validate_json(text)
        self._remember(item.id, item, text)
        return item

    def text(self, item: M) -> str:
        """`item.model_dump_json()`, reusing the text already made for this very object."""
        known = self._items.get(item.id)
        if known is not None and known[1] is item:
            return known[0]
        text = item.model_dump_json()
        self._remember(item.id, item, text)
        return text


INCIDENTS: Known[Incident] = Known(Incident)
TICKETS: Known[Ticket] = Known(Ticket)


def parse_incident(text: str) -> Incident:
    return INCIDENTS.parse(text)


def incident_text(incident: Incident) -> str:
    return INCIDENTS.text(incident)
