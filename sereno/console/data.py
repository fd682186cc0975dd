"""Everything the console reads from the store, in one place.

Pages see an incident as its header (the fields of `Incident` other than its alerts and
timeline), its members and its timeline entries, the latter two a page at a time, so
that a storm of thousands of alerts is never read whole into a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from core.matchers import AlertMatch, Silence, any_match
from core.models import (
    Incident,
    IncidentAlert,
    IncidentStatus,
    Notification,
    Priority,
    Ticket,
    TimelineEntry,
)
from core.store import IncidentFilter, Store
from sereno.silence_guard import firing_alerts

Header = Incident
"""An incident as pages may use it: its header fields only (see the module docstring)."""

Member = IncidentAlert
Entry = TimelineEntry
STATUSES = ("active", "open", "acknowledged", "resolved", "all")
SCAN_LIMIT = 2000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Filters:
    """What the incident list shows. `holders`/`unheld`/`groups` answer "mine", "my
    group's" and "nobody's"; the rest are the list's own filters."""

    status: str = "active"
    priority: Priority | None = None
    service: str = ""
    group: str = ""
    assignee: str = ""
    source: str = ""
    since: timedelta | None = None
    q: str = ""
    holders: tuple[str, ...] = ()
    unheld: bool = False
    groups: tuple[str, ...] = ()
    limit: int = 200


@dataclass(frozen=True, slots=True)
class Row:
    """One incident of a list: a storm is one row, its size in `alert_count`."""

    header: Header
    alert_count: int
    holder: str
    sources: tuple[str, ...] = field(default=())


def holder(header: Header) -> str:
    """Who holds the incident: the person it was assigned to, else who acknowledged it."""
    assigned = getattr(header, "assignee", "")
    return str(assigned or header.acknowledged_by)


def _keeps(row: Row, where: Filters, now: datetime) -> bool:
    header = row.header
    text = where.q.casefold()
    checks = (
        not where.group or header.group == where.group,
        not where.assignee or row.holder == where.assignee,
        not where.source or where.source in row.sources,
        where.since is None or header.opened_at >= now - where.since,
        not where.holders or row.holder in where.holders,
        not where.unheld or not row.holder,
        not where.groups or header.group in where.groups,
        not text
        or any(
            text in value.casefold()
            for value in (header.id, header.title, header.service, header.site, *header.services)
        ),
    )
    return all(checks)


def _order(row: Row) -> tuple[int, str, float]:
    """Unresolved first, then the most urgent priority, then the oldest."""
    header = row.header
    return (
        header.status is IncidentStatus.RESOLVED,
        header.priority.value,
        header.opened_at.timestamp(),
    )


async def list_incidents(store: Store, where: Filters, now: datetime) -> list[Row]:
    """The incidents `where` asks for, by priority then age, at most `where.limit`."""
    status = {s.value: s for s in IncidentStatus}.get(where.status)
    found = await store.list_incidents(
        IncidentFilter(
            status=status,
            priority=where.priority,
            service=where.service or None,
            open_only=where.status == "active",
            limit=SCAN_LIMIT,
        )
    )
    rows = [
        Row(i, i.alert_count, holder(i), tuple(sorted({a.source for a in i.sample})))
        for i in found
        if not i.merged_into
    ]
    kept = [r for r in rows if _keeps(r, where, now)]
    return sorted(kept, key=_order)[: where.limit]


async def get_header(store: Store, incident_id: str) -> tuple[Header, int] | None:
    """The incident's header and how many alerts it has, or None."""
    incident = await store.get_incident(incident_id)
    return None if incident is None else (incident, incident.alert_count)


def _cursor(cursor: str) -> int:
    return int(cursor) if cursor.isdigit() else 0


async def members_page(
    store: Store, incident_id: str, cursor: str, limit: int
) -> tuple[list[Member], str]:
    """Members in the order they joined, `limit` from `cursor`, grouped by resource and
    name within the page, and the next cursor ("" at the end): a storm is never read
    whole into a page."""
    page, after = await store.members_page(incident_id, _cursor(cursor), limit)
    ordered = sorted(page, key=lambda a: (a.resource, a.name, a.fingerprint))
    return ordered, "" if after is None else str(after)


async def timeline_page(
    store: Store, incident_id: str, cursor: str, limit: int
) -> tuple[list[Entry], str]:
    """Timeline entries oldest first, `limit` from `cursor`, and the next cursor."""
    page, after = await store.timeline_page(incident_id, _cursor(cursor), limit)
    return page, "" if after is None else str(after)


def _breached_first(ticket: Ticket) -> tuple[bool, bool, str, float]:
    return (
        not ticket.breached,
        ticket.resolved_at is not None,
        ticket.priority.value,
        -ticket.created_at.timestamp(),
    )


async def tickets(store: Store, incident_id: str | None = None, limit: int = 500) -> list[Ticket]:
    """Tickets (of one incident, if given): breached first, then open, then by priority,
    then newest."""
    found = await store.list_tickets(limit)
    if incident_id is not None:
        found = [t for t in found if incident_id == t.incident_id or incident_id in t.incidents]
    return sorted(found, key=_breached_first)


async def silences(store: Store) -> list[Silence]:
    """Every silence, newest first, expired ones included."""
    return await store.list_silences()


async def firing_members(store: Store) -> list[Member]:
    """The alerts firing now in incidents that are not resolved."""
    return await firing_alerts(store)


def matching(match: AlertMatch, members: Iterable[Member]) -> list[Member]:
    """The members a silence with `match` would hold back, judged as silences judge alerts."""

    def hit(member: Member) -> bool:
        checks = (
            (match.sources, member.source),
            (match.names, member.name),
            (match.resources, member.resource),
            (match.services, member.service),
        )
        if any(patterns and not any_match(patterns, value) for patterns, value in checks):
            return False
        if match.severities and member.severity not in match.severities:
            return False
        return all(
            name in member.labels and any_match(patterns, member.labels[name])
            for name, patterns in match.labels.items()
        )

    return [m for m in members if hit(m)]


async def crisis_updates(store: Store, incident_id: str) -> list[Notification]:
    """The crisis messages sent about the incident, oldest first."""
    sent = await store.list_notifications()
    return [n for n in sent if n.incident_id == incident_id and n.kind.startswith("crisis")]


async def next_crisis_update(store: Store, incident_id: str) -> datetime | None:
    """When the committee's next update is due, if one is planned."""
    state = await store.get_notify_state(incident_id)
    return None if state is None else state.crisis_update_at
