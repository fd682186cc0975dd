"""Jira's way back: what people do in Jira becomes commands on Sereno's incidents.

An issue's changelog (`expand=changelog`: histories, each with its author and items) and
its comments are read from the last history and comment Sereno has taken, kept per issue
as the store marker `jira-issue:<key>` and committed with the commands they make:

| in Jira | command |
| --- | --- |
| assignee set | assign (unassigned: released) |
| status into a resolved one (rules: `tickets.systems.jira.statuses`) | resolve |
| status from resolved to a reopened one | reopen |
| status into a taken one | acknowledge |
| priority changed | comment naming the change |
| comment | comment, with its text |

Sereno's own account (`account_id`) is not read back, nor a comment carrying a delivery
key (Sereno's own, whatever the account). Polling reads, by JQL, the project's issues
updated since the last poll (less a margin); Jira's webhooks (`jira:issue_updated`,
`comment_created`, to `/api/v1/callbacks/jira`) name one issue to read at once.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from core.bus import Stream
from core.clock import Clock
from core.config import JiraBackend
from core.models import IncidentCommand
from core.rules import RulesRef
from core.store import Changes, Store
from ticketer.backends.jira import DELIVERY_MARK, JiraTicketBackend
from ticketer.backends.watch import Watcher

ORIGIN = "jira"
MARKER = "jira-issue:"
POLLED = "jira-polled"
MARGIN = timedelta(minutes=2)
FIRST = timedelta(days=1)
"""How far back the first poll reads."""


class JiraWatcher(Watcher):
    name = "jira"

    def __init__(self, backend: JiraTicketBackend, settings: JiraBackend, store: Store,
                 clock: Clock, rules: RulesRef) -> None:  # fmt: skip
        super().__init__()
        self._rules = rules
        self._jira = backend
        self._settings = settings
        self.poll_s = settings.poll_s
        self._store = store
        self._clock = clock

    async def close(self) -> None:
        await self._jira.close()

    async def poll(self) -> int:
        started = self._clock.now()
        polled = await self._store.marker(POLLED)
        back = started - datetime.fromisoformat(polled) + MARGIN if polled else FIRST
        # Relative to Jira's own clock and zone, which an absolute date would not be.
        minutes = math.ceil(back.total_seconds() / 60)
        jql = (
            f'project = "{self._settings.project}" AND updated >= "-{minutes}m" '
            "ORDER BY updated ASC"
        )
        found = await self._jira.call(
            "GET", self._settings.search_path, params={"jql": jql, "fields": "labels"}
        )
        published = 0
        for issue in found.get("issues") or []:
            labels = issue.get("fields", {}).get("labels") or []
            if any(str(label).startswith(self._settings.label_prefix) for label in labels):
                published += await self.read(str(issue["key"]))
        await self._store.commit(Changes(markers={POLLED: started.isoformat()}))
        return published

    async def read(self, ticket: str) -> int:
        issue = await self._jira.call(
            "GET", f"/rest/api/2/issue/{ticket}", params={"expand": "changelog", "fields": "labels"}
        )
        incident_id = self._incident(issue)
        if not incident_id:
            return 0
        seen = json.loads(await self._store.marker(MARKER + ticket) or "{}")
        histories = [h for h in (issue.get("changelog") or {}).get("histories") or []
                     if int(h["id"]) > seen.get("history", 0)]  # fmt: skip
        page = await self._jira.call(
            "GET", f"/rest/api/2/issue/{ticket}/comment", params={"maxResults": "1000"}
        )
        comments = [c for c in page.get("comments") or [] if int(c["id"]) > seen.get("comment", 0)]
        if not histories and not comments:
            return 0
        commands = [c for h in histories for c in self._changes(incident_id, h)]
        replies = (self._comment(incident_id, c) for c in comments)
        commands += [c for c in replies if c is not None]
        now = {
            "history": max([seen.get("history", 0), *(int(h["id"]) for h in histories)]),
            "comment": max([seen.get("comment", 0), *(int(c["id"]) for c in comments)]),
        }
        publish = [(Stream.ALERTS, c.model_dump_json()) for c in commands]
        markers = {MARKER + ticket: json.dumps(now, sort_keys=True)}
        await self._store.commit(Changes(markers=markers, publish=publish))
        return len(commands)

    def _incident(self, issue: dict[str, Any]) -> str:
        prefix = self._settings.label_prefix
        for label in issue.get("fields", {}).get("labels") or []:
            if str(label).startswith(prefix) and len(str(label)) > len(prefix):
                return str(label)[len(prefix) :]
        return ""

    def _own(self, author: object) -> bool:
        account = author.get("accountId", "") if isinstance(author, dict) else ""
        return bool(self._settings.account_id) and account == self._settings.account_id

    def _changes(self, incident_id: str, history: dict[str, Any]) -> list[IncidentCommand]:
        if self._own(history.get("author")):
            return []
        by = _name(history.get("author"))
        at = _when(history.get("created"), self._clock.now())
        statuses = self._rules.current.tickets.systems.jira.statuses
        said: list[dict[str, str]] = []
        for item in history.get("items") or []:
            field = item.get("field")
            old, new = item.get("fromString") or "", item.get("toString") or ""
            if field == "assignee":
                said.append({"action": "assign", "assignee": new})
            elif field == "status" and statuses.action(old, new):
                said.append({"action": statuses.action(old, new), "note": f"status {new} in Jira"})
            elif field == "priority":
                said.append({"action": "comment", "note": f"Jira priority {old} -> {new}"})
        return [IncidentCommand.model_validate(
            {**s, "incident_id": incident_id, "at": at, "by": by, "origin": ORIGIN})
            for s in said]  # fmt: skip

    def _comment(self, incident_id: str, comment: dict[str, Any]) -> IncidentCommand | None:
        body = str(comment.get("body", ""))
        if self._own(comment.get("author")) or DELIVERY_MARK in body:
            return None
        return IncidentCommand(
            action="comment", incident_id=incident_id, origin=ORIGIN,
            at=_when(comment.get("created"), self._clock.now()),
            by=_name(comment.get("author")), note=f"replied: {body.strip()}"[:4096],
        )  # fmt: skip


def _name(author: object) -> str:
    if not isinstance(author, dict):
        return ""
    return str(author.get("displayName") or author.get("accountId") or "")


def _when(value: object, default: datetime) -> datetime:
    """Jira's 2026-12-04T10:01:22.000+0000."""
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z")
    except ValueError:
        return default
