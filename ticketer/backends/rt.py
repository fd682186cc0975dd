"""The Request Tracker 5 backend (REST2): one ticket per incident, a comment per change, a
status change when the incident resolves or reopens.

The ticket carries the incident's id (after `reference_prefix`) in the custom field
`custom_field` ("Sereno incident").
Before creating one, RT is searched for that value, so a retry after a lost answer finds
the ticket the first try made instead of creating a second. A comment's subject is its
delivery key, and a comment is not posted again when the ticket's history already has that
subject. Queue, priority and statuses come from the rules (`tickets.systems.rt`): the queue
mapped to the incident's service, else to its support group, else the default one.
"""

from __future__ import annotations

import logging
from typing import Any

from core.config import RtBackend
from core.models import Ticket, TicketEvent, TicketEventKind
from core.rules import RulesRef
from core.rules.ticket_systems import RtMapping
from ticketer.backends.jira import comment_text
from ticketer.backends.rt_client import RtClient
from ticketer.texts import TicketTexts

NAME = "rt"
SUBJECT_MARK = "sereno-delivery: "

log = logging.getLogger(__name__)


def quoted(value: str) -> str:
    """A TicketSQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def reference(settings: RtBackend, incident_id: str) -> str:
    """The custom field's value naming `incident_id`."""
    return settings.reference_prefix + incident_id


def incident_of(settings: RtBackend, value: str) -> str:
    """The incident a custom field's value names; "" when it is another installation's."""
    prefix = settings.reference_prefix
    return value.removeprefix(prefix) if value.startswith(prefix) and value != prefix else ""


def incident_query(settings: RtBackend, incident_id: str) -> str:
    """TicketSQL finding the ticket of `incident_id`, whatever its queue or status."""
    return f"'CF.{{{settings.custom_field}}}' = {quoted(reference(settings, incident_id))}"


class RtTicketBackend:
    name = NAME

    def __init__(
        self, settings: RtBackend, texts: TicketTexts, rules: RulesRef,
        client: RtClient | None = None,
    ) -> None:  # fmt: skip
        self._settings = settings
        self._texts = texts
        self._rules = rules
        self._client = client or RtClient(settings)

    @property
    def _mapping(self) -> RtMapping:
        return self._rules.current.tickets.systems.rt

    @property
    def settings(self) -> RtBackend:
        return self._settings

    async def close(self) -> None:
        """Close the HTTP session, if one was opened; the owner calls this once, at the end."""
        await self._client.close()

    def actions(self, event: TicketEvent) -> tuple[str, ...]:
        if event.kind is TicketEventKind.CREATED:
            return ("create",)
        if event.kind in {TicketEventKind.RESOLVED, TicketEventKind.REOPENED}:
            return ("comment", "status")
        return ("comment",)

    async def deliver(self, event: TicketEvent, key: str, sent: Ticket | None) -> str:
        ticket = event.ticket
        number = sent.external_ref if sent is not None and sent.external_ref else ""
        number = number or await self.find(ticket.incident_id)
        if not number:
            return await self._create(ticket)
        if event.kind is TicketEventKind.CREATED:
            return number  # an earlier try created it; its answer was lost
        await self._comment(number, comment_text(event, sent, key, self._texts), key)
        statuses = self._mapping.statuses
        if event.kind is TicketEventKind.RESOLVED:
            await self._set_status(number, statuses.resolve_to, want_resolved=True)
        elif event.kind is TicketEventKind.REOPENED:
            await self._set_status(number, statuses.reopen_to, want_resolved=False)
        return number

    async def find(self, incident_id: str) -> str:
        """The id of the ticket already made for this incident, or ""."""
        found = await self._client.search(incident_query(self._settings, incident_id), "id")
        return str(found[0]["id"]) if found else ""

    async def _create(self, ticket: Ticket) -> str:
        body: dict[str, Any] = {
            "Queue": self._mapping.queue_for(ticket.group, ticket.service),
            "Subject": ticket.title[:200],
            "Content": ticket.description,
            "ContentType": "text/plain",
            "CustomFields": {
                self._settings.custom_field: reference(self._settings, ticket.incident_id)
            },
        }
        priority = self._mapping.priorities.get(ticket.priority)
        if priority is not None:
            body["Priority"] = priority
        created = await self._client.call("POST", "/ticket", json=body)
        log.info("rt: ticket %s created for %s", created.get("id"), ticket.incident_id)
        return str(created["id"])

    async def _comment(self, number: str, text: str, key: str) -> None:
        """Comment `text` unless a comment with delivery `key` is already on the ticket."""
        subject = SUBJECT_MARK + key
        for transaction in await self._client.history(number, after=0):
            if (
                transaction.get("Type") == "Comment"
                and str(transaction.get("Data", "")).strip() == subject
            ):
                return
        body = {"Subject": subject, "Content": text, "ContentType": "text/plain"}
        await self._client.call("POST", f"/ticket/{number}/comment", json=body)

    async def _set_status(self, number: str, status: str, *, want_resolved: bool) -> None:
        """Move the ticket to `status`, unless it already stands resolved (or active) as
        wanted: an earlier try made the change, or a person in RT did."""
        current = await self._client.call("GET", f"/ticket/{number}")
        resolved = str(current.get("Status", "")) in self._mapping.statuses.resolved
        if resolved == want_resolved:
            return
        await self._client.call("PUT", f"/ticket/{number}", json={"Status": status})
