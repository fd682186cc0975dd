"""Request Tracker's way back: what agents do in RT becomes commands on Sereno's incidents.

A ticket's history (REST2 transactions) is read from the last transaction Sereno has
taken from it, kept per ticket as the store marker `rt-transaction:<ticket>`. Each change
made by someone other than Sereno's API user becomes an `IncidentCommand` on the `alerts`
stream, committed together with the new marker, so a change is taken once even when the
process stops half-way:

| in RT | command |
| --- | --- |
| owner set (take, steal, give) | assign (Nobody: released) |
| queue moved | assign to the queue's group (the rules' `queues` read backwards) |
| status into a resolved one | resolve |
| status from resolved to a reopened one | reopen |
| status into a taken one | acknowledge |
| reply or comment | comment, with its text |
| priority changed | comment naming the change (Sereno's priority comes from its rules) |

Two ways lead here: polling every `poll_s` (tickets updated since the last poll, less a
margin), which catches everything, and the scrip's callback (contrib/rt/), which names one
ticket at once; both run in the one loop of `Watcher.run`, so nothing is read twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from core.bus import Stream
from core.clock import Clock
from core.models import IncidentCommand
from core.rules import RulesRef
from core.rules.ticket_systems import Statuses
from core.store import Changes, Store
from ticketer.backends.rt import incident_of, quoted
from ticketer.backends.rt_client import RtClient
from ticketer.backends.watch import Watcher

ORIGIN = "rt"
MARKER = "rt-transaction:"
POLLED = "rt-polled"
MARGIN = timedelta(minutes=2)
"""Read back this much before the last poll: RT's LastUpdated counts whole seconds, and
the two clocks may differ."""
NOBODY = "Nobody"

log = logging.getLogger(__name__)


def _value(field: object) -> str:
    """A REST2 reference's id ({"id": "agent1", ...}) or a plain value."""
    if isinstance(field, dict):
        return str(field.get("id", ""))
    return "" if field is None else str(field)


class RtWatcher(Watcher):
    """Turns RT's changes into incident commands: `run` polls and reads what `nudge` names."""

    name = "rt"

    def __init__(self, client: RtClient, store: Store, clock: Clock, rules: RulesRef) -> None:
        super().__init__()
        self._client = client
        self._settings = client.settings
        self.poll_s = client.settings.poll_s
        self._store = store
        self._clock = clock
        self._rules = rules

    async def close(self) -> None:
        await self._client.close()

    async def caught_up(self, ticket: str, change: int) -> bool:
        """Whether the transaction the scrip named has been read (RT calls back from inside
        the transaction, before it is committed)."""
        return change <= int(await self._store.marker(MARKER + ticket) or 0)

    async def poll(self) -> int:
        """Read every ticket updated since the last poll; returns the commands published."""
        started = self._clock.now()
        polled = await self._store.marker(POLLED)
        prefix = quoted(self._settings.reference_prefix + "%")
        query = f"'CF.{{{self._settings.custom_field}}}' LIKE {prefix}"
        if polled:
            since = datetime.fromisoformat(polled).astimezone(UTC) - MARGIN
            # RT reads a bare date in its own time zone; this one says UTC.
            query += f" AND LastUpdated > {quoted(since.strftime('%Y-%m-%d %H:%M:%S UTC'))}"
        found = await self._client.search(query, "id,CustomFields")
        published = 0
        for item in found:
            published += await self.read(
                str(item["id"]), _reference(item, self._settings.custom_field)
            )
        await self._store.commit(Changes(markers={POLLED: started.isoformat()}))
        return published

    async def read(self, ticket: str, reference: str | None = None) -> int:
        """Read what changed on RT ticket `ticket`; returns the commands published."""
        if reference is None:
            answer = await self._client.call("GET", f"/ticket/{ticket}")
            reference = _reference(answer, self._settings.custom_field)
        incident_id = incident_of(self._settings, reference)
        if not incident_id:
            return 0  # not a ticket of this installation
        seen = await self._store.marker(MARKER + ticket)
        after = int(seen) if seen else 0
        transactions = await self._client.history(ticket, after)
        if not transactions:
            return 0
        commands = [c for t in transactions for c in await self._commands(incident_id, t)]
        last = str(max(int(t["id"]) for t in transactions))
        publish = [(Stream.ALERTS, c.model_dump_json()) for c in commands]
        await self._store.commit(Changes(markers={MARKER + ticket: last}, publish=publish))
        return len(commands)

    async def _commands(
        self, incident_id: str, transaction: dict[str, Any]
    ) -> list[IncidentCommand]:
        by = _value(transaction.get("Creator"))
        if by == self._settings.user:
            return []  # Sereno's own change, coming back
        kind = str(transaction.get("Type", ""))
        field = str(transaction.get("Field", ""))
        new = _value(transaction.get("NewValue"))
        said: dict[str, str] | None
        if field == "Owner" and kind != "SetWatcher":
            name = await self._client.name("user", new)
            said = {"action": "assign", "assignee": "" if name == NOBODY else name}
        elif field == "Queue":
            queue = await self._client.name("queue", new)
            mapping = self._rules.current.tickets.systems.rt
            group = next((g for g, q in mapping.queues.items() if q == queue), "")
            said = {"action": "assign", "group": group} if group else {
                "action": "comment", "note": f"moved to RT queue {queue}"}  # fmt: skip
        elif kind in {"Correspond", "Comment"}:
            text = (await self._client.content(str(transaction["id"]))).strip()
            verb = "replied" if kind == "Correspond" else "commented"
            said = {"action": "comment", "note": f"{verb}: {text}"[:4096]}
        else:
            said = meaning(kind, field, _value(transaction.get("OldValue")), new,
                           self._rules.current.tickets.systems.rt.statuses)  # fmt: skip
        if said is None:
            return []
        at = _created(transaction, self._clock.now())
        values = {**said, "incident_id": incident_id, "at": at, "by": by, "origin": ORIGIN}
        return [IncidentCommand.model_validate(values)]


def meaning(
    kind: str, field: str, old: str, new: str, statuses: Statuses[str]
) -> dict[str, str] | None:
    """What a status or priority change in RT asks of the incident, if anything."""
    if kind == "Status":
        action = statuses.action(old, new)
        return {"action": action, "note": f"status {new} in RT"} if action else None
    if field == "Priority":
        return {"action": "comment", "note": f"RT priority {old} -> {new}"}
    return None


def _reference(item: dict[str, Any], name: str) -> str:
    """The incident reference: custom field `name` of a REST2 ticket."""
    for field in item.get("CustomFields") or []:
        values = field.get("values") or []
        if field.get("name") == name and values:
            return str(values[0])
    return ""


def _created(transaction: dict[str, Any], default: datetime) -> datetime:
    created = str(transaction.get("Created", ""))
    try:
        return datetime.fromisoformat(created)
    except ValueError:
        return default
