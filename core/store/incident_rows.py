"""An incident as the stores keep it: its record, and its alerts and timeline as rows.

Every alert that joins a storm's incident changes it, and the incident holds thousands of
alerts. Writing it whole each time made a day's work grow with the square of its storms.
Kept as rows by position, a change writes its record and the rows it changed: the alert
that joined and the timeline entry that says so. Which rows those are is told by the
incident the change was made from, when the store is known to hold exactly that one (the
commit expects the record it was read as); otherwise every row is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from core.models import Incident
from core.store import Changes
from core.store.known import INCIDENTS, head_of


@dataclass(frozen=True, slots=True)
class Rows:
    """Rows to write for one list of an incident: (position, JSON) of each changed row, and
    how many rows the list now has (rows at or after `count` are deleted)."""

    changed: list[tuple[int, str]]
    count: int


@dataclass(frozen=True, slots=True)
class IncidentWrite:
    incident: Incident
    record: str
    alerts: Rows
    timeline: Rows
    failing_changed: bool
    """Whether its failing resources (the store's topology index) changed."""


_CHUNK = 64


def _rows(before: tuple[BaseModel, ...], after: tuple[BaseModel, ...]) -> Rows:
    """The rows of `after` that are not the row at the same position of `before`."""
    kept = min(len(before), len(after))
    changed = list(range(kept, len(after)))
    # Tuples compare item by item in C, the very same object at once: a chunk of a storm's
    # alerts that a change left alone costs next to nothing. Only a chunk that differs is
    # looked at row by row.
    for start in range(0, kept, _CHUNK):
        end = min(start + _CHUNK, kept)
        if after[start:end] != before[start:end]:
            changed += [at for at in range(start, end) if after[at] != before[at]]
    changed.sort()
    return Rows([(at, after[at].model_dump_json()) for at in changed], len(after))


def writes_of(changes: Changes) -> list[IncidentWrite]:
    """What to write for each incident of `changes`."""
    return [
        write_of(i, changes.incident_record(i), changes.incident_base(i.id))
        for i in changes.incidents
    ]


def committed(writes: list[IncidentWrite]) -> None:
    """The commit of `writes` went through: remember each incident under its record."""
    for write in writes:
        INCIDENTS.remember(write.incident, write.record)


def write_of(incident: Incident, record: str, base: Incident | None) -> IncidentWrite:
    """What to write for `incident` stored as `record`, over `base` if the store holds it."""
    alerts = base.alerts if base is not None else ()
    timeline = base.timeline if base is not None else ()
    return IncidentWrite(
        incident,
        record,
        _rows(alerts, incident.alerts),
        _rows(timeline, incident.timeline),
        base is None or base.failing_resources != incident.failing_resources,
    )


def assemble(record: str, alerts: Sequence[str], timeline: Sequence[str]) -> Incident:
    """The incident stored as `record` with these rows (JSON, in position order), remembered
    under that record."""
    head = head_of(record)
    text = f'{head[:-1]},"alerts":[{",".join(alerts)}],"timeline":[{",".join(timeline)}]}}'
    incident = Incident.model_validate_json(text)
    INCIDENTS.remember(incident, record)
    return incident
