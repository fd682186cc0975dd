"""The Jira backend (REST API v2): one issue per incident, a comment per change, a
transition when the incident resolves or reopens.

The issue carries the label `<label_prefix><incident id>`. Before creating one, Jira is
searched for that label, so a retry after a lost answer finds the issue the first try made
instead of creating a second. A comment carries its delivery key on its last line, and is
not posted again when the issue already has it. Jira's errors: 429 and 5xx are waited out
(Retry-After honoured); 400, 401, 403 and 404 are refusals, recorded and not retried.
"""

from __future__ import annotations

import base64
import logging
import re
from json import loads
from typing import Any

import aiohttp

from core.config import JiraBackend
from core.models import Ticket, TicketChange, TicketEvent, TicketEventKind
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after
from ticketer.texts import TicketTexts

NAME = "jira"
API = "/rest/api/2"
DELIVERY_MARK = "sereno-delivery: "
DONE = "done"
"""Jira's status category of finished work, whatever the workflow calls the status."""

log = logging.getLogger(__name__)


def label(prefix: str, incident_id: str) -> str:
    """The label naming an incident's issue; Jira labels may not hold spaces."""
    return prefix + re.sub(r"\s+", "_", incident_id)


def _errors(status: int, body: object) -> str:
    """Jira's own words: `errorMessages` and the per-field `errors`."""
    parts: list[str] = []
    if isinstance(body, dict):
        parts += [str(m) for m in body.get("errorMessages") or []]
        errors = body.get("errors") or {}
        if isinstance(errors, dict):
            parts += [f"{field}: {problem}" for field, problem in errors.items()]
    return f"HTTP {status}: " + ("; ".join(parts) or "no detail given")


def comment_text(event: TicketEvent, sent: Ticket | None, key: str, texts: TicketTexts) -> str:
    """What changed since the backend last took the ticket, one change a line, then the
    delivery key that makes a repeated comment recognisable."""
    ticket = event.ticket
    earlier = len(sent.history) if sent is not None else 0
    changes: tuple[TicketChange, ...] = ticket.history[earlier:] or ticket.history[-1:]
    return "\n".join([texts.comment(event, changes), "", DELIVERY_MARK + key])


class JiraTicketBackend:
    name = NAME

    def __init__(self, settings: JiraBackend, texts: TicketTexts) -> None:
        self._settings = settings
        self._texts = texts
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session, if one was opened; the owner calls this once, at the end."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def actions(self, event: TicketEvent) -> tuple[str, ...]:
        if event.kind is TicketEventKind.CREATED:
            return ("create",)
        if event.kind in {TicketEventKind.RESOLVED, TicketEventKind.REOPENED}:
            return ("comment", "transition")
        return ("comment",)

    async def deliver(self, event: TicketEvent, key: str, sent: Ticket | None) -> str:
        ticket = event.ticket
        issue = sent.external_ref if sent is not None and sent.external_ref else ""
        issue = issue or await self._find(ticket)
        if not issue:
            return await self._create(ticket)
        if event.kind is TicketEventKind.CREATED:
            return issue  # an earlier try created it; its answer was lost
        await self._comment(issue, comment_text(event, sent, key, self._texts), key)
        if event.kind is TicketEventKind.RESOLVED:
            await self._transition(issue, self._settings.resolve_transition, want_done=True)
        elif event.kind is TicketEventKind.REOPENED:
            await self._transition(issue, self._settings.reopen_transition, want_done=False)
        return issue

    async def _find(self, ticket: Ticket) -> str:
        """The key of the issue already labelled for this incident, or ""."""
        jql = (
            f'project = "{self._settings.project}" AND '
            f'labels = "{label(self._settings.label_prefix, ticket.incident_id)}"'
        )
        found = await self.call(
            "GET", self._settings.search_path, params={"jql": jql, "fields": "status"}
        )
        issues = found.get("issues") or []
        return str(issues[0]["key"]) if issues else ""

    async def _create(self, ticket: Ticket) -> str:
        fields: dict[str, Any] = {
            "project": {"key": self._settings.project},
            "issuetype": {"name": self._settings.issue_type},
            "summary": ticket.title[:255],
            "description": ticket.description,
            "labels": [label(self._settings.label_prefix, ticket.incident_id)],
        }
        priority = self._settings.priorities.get(ticket.priority)
        if priority:
            fields["priority"] = {"name": priority}
        created = await self.call("POST", f"{API}/issue", json={"fields": fields})
        log.info("jira: %s created for %s", created.get("key"), ticket.incident_id)
        return str(created["key"])

    async def _comment(self, issue: str, text: str, key: str) -> None:
        """Post `text` unless a comment with delivery `key` is already there."""
        path = f"{API}/issue/{issue}/comment"
        # A ticket's comments are few (updates are coalesced): one page holds them.
        existing = await self.call("GET", path, params={"maxResults": "1000"})
        mark = DELIVERY_MARK + key
        if any(mark in str(c.get("body", "")) for c in existing.get("comments") or []):
            return
        await self.call("POST", path, json={"body": text})

    async def _transition(self, issue: str, name: str, *, want_done: bool) -> None:
        """Move `issue` through the transition called `name`, unless it already stands where
        that transition leads (an earlier try made it and its answer was lost)."""
        status = await self.call("GET", f"{API}/issue/{issue}", params={"fields": "status"})
        category = (
            status.get("fields", {}).get("status", {}).get("statusCategory", {}).get("key", "")
        )
        if (category == DONE) == want_done:
            return
        path = f"{API}/issue/{issue}/transitions"
        offered = (await self.call("GET", path)).get("transitions") or []
        chosen = [t["id"] for t in offered if str(t.get("name", "")).casefold() == name.casefold()]
        if not chosen:
            names = ", ".join(str(t.get("name")) for t in offered) or "none"
            setting = "resolve_transition" if want_done else "reopen_transition"
            raise BackendRejectedError(
                f"{issue} offers no transition {name!r} (it offers: {names}); "
                f"set ticket_backends.jira.{setting}"
            )
        await self.call("POST", path, json={"transition": {"id": chosen[0]}})

    def _authorization(self) -> str:
        token = self._settings.token.reveal()
        if self._settings.auth == "bearer":
            return "Bearer " + token.decode()
        pair = self._settings.email.encode() + b":" + token
        return "Basic " + base64.b64encode(pair).decode()

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One request; Jira's answer as JSON ({} when it has no body), or the error."""
        url = self._settings.url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        if self._session is None:
            # Opened on first use, inside the running loop, by the stage that uses it.
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.request(
                method, url, params=params, json=json, timeout=timeout,
                headers={"Accept": "application/json", "Authorization": self._authorization()},
            ) as response:  # fmt: skip
                text = await response.text()
                body = _json(text)
                status = response.status
                wait = retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as e:
            raise BackendUnavailableError(f"{method} {path}: {type(e).__name__}: {e}") from e
        if status == 429 or status >= 500:
            raise BackendUnavailableError(f"{method} {path}: {_errors(status, body)}", wait)
        if status in {401, 403}:
            log.error(
                "jira: %s %s refused (HTTP %d): check ticket_backends.jira.token, .email and "
                ".auth, and that the account may work in project %s",
                method, path, status, self._settings.project,
            )  # fmt: skip
            raise BackendRejectedError(f"{method} {path}: {_errors(status, body)}")
        if status >= 400:
            raise BackendRejectedError(f"{method} {path}: {_errors(status, body)}")
        return body if isinstance(body, dict) else {}


def _json(text: str) -> object:
    try:
        return loads(text) if text.strip() else {}
    except ValueError:
        return {"errorMessages": [text[:300]]}
