"""GLPI's way back: what agents do in GLPI becomes commands on Sereno's incidents.

GLPI's REST API gives a ticket's current state, not a history of changes as RT's does, so
Sereno keeps what it last saw of each ticket (the store marker `glpi-ticket:<id>`: status,
assigned technician and group, priority, last followup read) and turns the difference into
commands, committed together with the new state:

| in GLPI | command |
| --- | --- |
| technician assigned (Ticket_User of type 2) | assign |
| group assigned (Group_Ticket of type 2) | assign to the group mapped to it (`groups`) |
| status into a resolved one (rules: `tickets.systems.glpi.statuses`) | resolve |
| status from resolved to a reopened one | reopen |
| status into a taken one | acknowledge |
| priority changed | comment naming the change |
| followup by someone other than the API user | comment, with its text |

Sereno's own changes come back as no-ops (resolving a resolved incident), and its own
followups are skipped. Two changes of one field between two reads show as the last one.
Polling reads every tagged ticket updated since the last poll (less a margin); GLPI's
webhook (`/api/v1/callbacks/glpi`) names one ticket to read at once.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from core.bus import Stream
from core.clock import Clock
from core.models import IncidentCommand
from core.rules import RulesRef
from core.store import Changes, Store
from ticketer.backends.glpi import NAME_SEARCH, incident_of
from ticketer.backends.glpi_client import GlpiClient
from ticketer.backends.watch import Watcher

ORIGIN = "glpi"
MARKER = "glpi-ticket:"
POLLED = "glpi-polled"
LAST_UPDATE = 19
"""GLPI's search option of a ticket's last update (date_mod)."""
MARGIN = timedelta(minutes=2)
ASSIGNED = 2
TAGS = re.compile(r"<[^>]+>")


def _text(content: str) -> str:
    """A followup's text: GLPI keeps rich text as (escaped) HTML."""
    return TAGS.sub(" ", html.unescape(html.unescape(content))).strip()


class GlpiWatcher(Watcher):
    name = "glpi"

    def __init__(self, client: GlpiClient, store: Store, clock: Clock, rules: RulesRef) -> None:
        super().__init__()
        self._client = client
        self._settings = client.settings
        self.poll_s = client.settings.poll_s
        self._store = store
        self._clock = clock
        self._rules = rules
        self._names: dict[int, str] = {}

    async def close(self) -> None:
        await self._client.close()

    async def poll(self) -> int:
        started = self._clock.now()
        criteria = [(NAME_SEARCH, "contains", f"[{self._settings.tag}:")]
        polled = await self._store.marker(POLLED)
        if polled:
            # GLPI compares its own local times; its API gives them without a zone.
            since = datetime.fromisoformat(polled).astimezone(UTC) - MARGIN
            criteria.append((LAST_UPDATE, "morethan", since.strftime("%Y-%m-%d %H:%M:%S")))
        published = 0
        for row in await self._client.search(criteria):
            published += await self.read(str(row["2"]))
        await self._store.commit(Changes(markers={POLLED: started.isoformat()}))
        return published

    async def read(self, ticket: str) -> int:
        fields = await self._client.call("GET", f"/Ticket/{ticket}")
        incident_id = incident_of(self._settings, str(fields.get("name", "")))
        if not incident_id:
            return 0  # not a ticket Sereno made
        before = json.loads(await self._store.marker(MARKER + ticket) or "{}")
        now, followups = await self._state(ticket, fields)
        if now == before:
            return 0
        commands = await self._commands(incident_id, before, now, fields)
        commands += await self._replies(incident_id, before, followups)
        publish = [(Stream.ALERTS, c.model_dump_json()) for c in commands]
        markers = {MARKER + ticket: json.dumps(now, sort_keys=True)}
        await self._store.commit(Changes(markers=markers, publish=publish))
        return len(commands)

    async def _state(
        self, ticket: str, fields: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        users = await self._client.call("GET", f"/Ticket/{ticket}/Ticket_User")
        groups = await self._client.call("GET", f"/Ticket/{ticket}/Group_Ticket")
        followups = await self._client.call("GET", f"/Ticket/{ticket}/ITILFollowup")
        assigned = [int(u["users_id"]) for u in users or [] if int(u["type"]) == ASSIGNED]
        held = [int(g["groups_id"]) for g in groups or [] if int(g["type"]) == ASSIGNED]
        followups = [f for f in followups or [] if isinstance(f, dict)]
        return {
            "status": int(fields.get("status", 0)),
            "priority": int(fields.get("priority", 0)),
            "assignee": assigned[-1] if assigned else 0,
            "group": held[-1] if held else 0,
            "followup": max((int(f["id"]) for f in followups), default=0),
        }, followups

    async def _commands(
        self, incident_id: str, before: dict[str, Any], now: dict[str, Any], fields: dict[str, Any]
    ) -> list[IncidentCommand]:
        at = self._clock.now()
        updater = int(fields.get("users_id_lastupdater") or 0)
        by = "" if updater == self._settings.user_id else await self._user(updater)
        said: list[dict[str, str]] = []
        if now["assignee"] != before.get("assignee", 0):
            said.append({"action": "assign", "assignee": await self._user(now["assignee"]),
                         "by": by or await self._user(now["assignee"])})  # fmt: skip
        mapping = self._rules.current.tickets.systems.glpi
        group = next((g for g, gid in mapping.groups.items() if gid == now["group"]), "")
        if now["group"] != before.get("group", 0) and group:
            said.append({"action": "assign", "group": group, "by": by})
        action = mapping.statuses.action(before.get("status", 1), now["status"])
        if action:
            said.append({"action": action, "note": f"status {now['status']} in GLPI", "by": by})
        if before and now["priority"] != before.get("priority"):
            note = f"GLPI priority {before.get('priority')} -> {now['priority']}"
            said.append({"action": "comment", "note": note, "by": by})
        return [_command(incident_id, at, s) for s in said]

    async def _replies(
        self, incident_id: str, before: dict[str, Any], followups: list[dict[str, Any]]
    ) -> list[IncidentCommand]:
        """Followups added since the last read, but Sereno's own."""
        at = self._clock.now()
        said: list[IncidentCommand] = []
        for followup in followups:
            author = int(followup.get("users_id") or 0)
            if int(followup["id"]) <= before.get("followup", 0) or author == self._settings.user_id:
                continue
            text = _text(str(followup.get("content", "")))
            note = {"action": "comment", "note": f"replied: {text}"[:4096],
                    "by": await self._user(author)}  # fmt: skip
            said.append(_command(incident_id, at, note))
        return said

    async def _user(self, user_id: int) -> str:
        """A GLPI user's login name ("" for none), kept once read."""
        if not user_id:
            return ""
        if user_id not in self._names:
            found = await self._client.call("GET", f"/User/{user_id}")
            self._names[user_id] = str(found.get("name") or user_id)
        return self._names[user_id]


def _command(incident_id: str, at: datetime, said: dict[str, str]) -> IncidentCommand:
    values = {**said, "incident_id": incident_id, "at": at, "origin": ORIGIN}
    return IncidentCommand.model_validate(values)
