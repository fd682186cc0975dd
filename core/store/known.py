"""Incidents and tickets the process has already read or written, so neither is done twice.

An incident of a storm holds thousands of alerts and a longer timeline. The stores keep its
head (every other field) as one record and its alerts and timeline entries as rows of their
own, so that a change writes only the rows it changed (`core.store.incident_rows`). Each
write of an incident gives its record a new revision, a random token at the start of the
record's text: the same stored record is the same write, and so the same alerts and
timeline. The incidents remembered here by revision answer a read without putting the rows
together again, give an incident event its incident back, and tell the store which rows a
change leaves as they were. A memory can be missing, never wrong.

Tickets are small and written whole: the latest text and object of each are remembered, and
a hit needs the very same text (for a parse) or the very same object (for a text).
"""

from __future__ import annotations

import secrets
import weakref
from collections import OrderedDict

from core.models import Incident, Ticket

REVISION_LENGTH = 32
"""Characters of the revision at the start of an incident's stored record."""
ROWS = {"alerts", "timeline"}
"""The fields of an incident stored as rows, not in its record."""


class KnownIncidents:
    """Incidents by the revision under which they were stored, up to `keep` of them, and
    the record of each incident object this process read or wrote, while it lives."""

    def __init__(self, keep: int = 1024) -> None:
        self._keep = keep
        self._by_revision: OrderedDict[str, Incident] = OrderedDict()
        self._records: dict[int, tuple[weakref.ref[Incident], str]] = {}

    def clear(self) -> None:
        """Forget every incident, as a process that has read nothing yet."""
        self._by_revision.clear()
        self._records.clear()

    @staticmethod
    def new_record(incident: Incident) -> str:
        """The record to store for `incident` in a new write: a new revision, then the
        incident without its rows as JSON."""
        return secrets.token_hex(REVISION_LENGTH // 2) + incident.model_dump_json(exclude=ROWS)

    def remember(self, incident: Incident, record: str) -> None:
        """`incident` is what the store holds under `record` (just read, or just committed)."""
        revision = record[:REVISION_LENGTH]
        self._by_revision[revision] = incident
        self._by_revision.move_to_end(revision)
        if len(self._by_revision) > self._keep:
            self._by_revision.popitem(last=False)
        key = id(incident)
        held = self._records.get(key)
        if held is not None and held[0]() is incident:
            self._records[key] = (held[0], record)
            return

        def forget(ref: weakref.ref[Incident], key: int = key) -> None:
            if (entry := self._records.get(key)) is not None and entry[0] is ref:
                del self._records[key]

        self._records[key] = (weakref.ref(incident, forget), record)

    def find(self, record: str) -> Incident | None:
        """The incident stored under `record`, if this process still remembers it."""
        found = self._by_revision.get(record[:REVISION_LENGTH])
        if found is not None:
            self._by_revision.move_to_end(record[:REVISION_LENGTH])
        return found

    def record_of(self, incident: Incident) -> str | None:
        """The stored record `incident` was read or written as, if it was."""
        held = self._records.get(id(incident))
        return held[1] if held is not None and held[0]() is incident else None


def revision_of(record: str) -> str:
    return record[:REVISION_LENGTH]


def head_of(record: str) -> str:
    """The JSON of the incident's fields without its rows."""
    return record[REVISION_LENGTH:]


class KnownTickets:
    """The latest text and object of up to `keep` tickets, by id."""

    def __init__(self, keep: int = 1024) -> None:
        self._keep = keep
        self._items: OrderedDict[str, tuple[str, Ticket]] = OrderedDict()

    def _remember(self, key: str, item: Ticket, text: str) -> None:
        self._items[key] = (text, item)
        self._items.move_to_end(key)
        if len(self._items) > self._keep:
            self._items.popitem(last=False)

    def parse(self, text: str) -> Ticket:
        """`Ticket.model_validate_json(text)`, reusing the object already parsed from it."""
        # The id is the first field of the text; comparing the whole text decides.
        if text.startswith('{"id":"'):
            known = self._items.get(text[7 : text.find('"', 7)])
            if known is not None and known[0] == text:
                self._items.move_to_end(known[1].id)
                return known[1]
        item = Ticket.model_validate_json(text)
        self._remember(item.id, item, text)
        return item

    def text(self, item: Ticket) -> str:
        """`item.model_dump_json()`, reusing the text already made for this very object."""
        known = self._items.get(item.id)
        if known is not None and known[1] is item:
            return known[0]
        text = item.model_dump_json()
        self._remember(item.id, item, text)
        return text


INCIDENTS = KnownIncidents()
TICKETS = KnownTickets()
