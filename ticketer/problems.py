"""Problem records as pure functions: incidents of one service and alert that keep coming
back are linked under one problem ticket, so the cause is removed rather than the symptom
fixed again."""

from __future__ import annotations

from datetime import datetime

from core.models import (
    Incident,
    IncidentStatus,
    Priority,
    Ticket,
    TicketCategory,
    TicketChange,
    TicketStatus,
)
from core.rules import TicketRules
from ticketer.texts import TicketTexts


def recurrence_key(incident: Incident) -> str | None:
    """What makes two incidents the same problem: service and the first alert's name.
    None for an incident without a service or alerts (nothing to recognise it by)."""
    if not incident.service or not incident.title_name:
        return None
    return f"problem:{incident.service}/{incident.title_name}"


def recurrences(incident: Incident, recent: list[Incident]) -> list[Incident]:
    """Incidents of `recent` (and `incident` itself) with the same recurrence key, oldest
    first. Only incidents that had ended count as having recurred: incidents open at the
    same time are one storm (often merged into their root cause later), not a recurrence;
    merged duplicates were symptoms of another incident."""
    key = recurrence_key(incident)
    same = {
        i.id: i
        for i in recent
        if i.merged_into is None
        and i.status is IncidentStatus.RESOLVED
        and recurrence_key(i) == key
    }
    same[incident.id] = incident
    return sorted(same.values(), key=lambda i: (i.opened_at, i.id))


def describe_problem(key: str, incidents: list[Incident], url: str, texts: TicketTexts) -> str:
    service, _, name = key.removeprefix("problem:").partition("/")
    return texts.problem_description(service, name, incidents, url)


def problem_ticket(
    ticket_id: str,
    backend: str,
    key: str,
    incidents: list[Incident],
    url: str,
    now: datetime,
    texts: TicketTexts,
) -> Ticket:
    """A new problem record linking `incidents`."""
    service, _, name = key.removeprefix("problem:").partition("/")
    worst = min((i.priority for i in incidents), key=list(Priority).index)
    return Ticket(
        id=ticket_id,
        incident_id=key,
        backend=backend,
        category=TicketCategory.PROBLEM.value,
        title=texts.problem_title(service, name),
        priority=worst,
        service=service,
        description=describe_problem(key, incidents, url, texts),
        created_at=now,
        updated_at=now,
        announced_at=now,
        group=incidents[-1].group,
        incidents=tuple(i.id for i in incidents),
        history=(
            TicketChange(at=now, field="status", old=None, new=TicketStatus.OPEN.value,
                         note=texts.note("problem_opened", ids=[i.id for i in incidents])),
        ),
    )  # fmt: skip


def link(
    problem: Ticket, incidents: list[Incident], url: str, now: datetime, texts: TicketTexts
) -> Ticket | None:
    """`problem` with the incidents of `incidents` it does not link yet; None if none is new.
    A resolved problem that recurs is open again."""
    new = [i for i in incidents if i.id not in problem.incidents]
    if not new:
        return None
    changes = [
        TicketChange(at=now, field="incidents", old=str(len(problem.incidents)),
                     new=str(len(problem.incidents) + len(new)),
                     note=texts.note("problem_linked", ids=[i.id for i in new]))
    ]  # fmt: skip
    if problem.status is TicketStatus.RESOLVED:
        changes.append(
            TicketChange(at=now, field="status", old=TicketStatus.RESOLVED.value,
                         new=TicketStatus.OPEN.value, note=texts.note("problem_reopened"))
        )  # fmt: skip
    linked = (*problem.incidents, *(i.id for i in new))
    every = {i.id: i for i in incidents}
    return problem.model_copy(
        update={
            "incidents": linked,
            "status": TicketStatus.OPEN,
            "resolved_at": None,
            "updated_at": now,
            "announced_at": now,
            "description": describe_problem(
                problem.incident_id, [every[i] for i in linked if i in every], url, texts
            ),
            "history": (*problem.history, *changes),
        }
    )


def is_problem_due(recurred: list[Incident], rules: TicketRules) -> bool:
    wanted = rules.problems.recurrences
    return wanted is not None and len(recurred) >= wanted
