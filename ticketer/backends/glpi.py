"""The GLPI backend (REST API, apirest.php): one ticket per incident, a followup
(ITILFollowup) per change, a solution (ITILSolution) when the incident resolves, a status
change when it reopens.

The ticket's title ends with `[<tag>:<incident id>]`. Before creating one, GLPI is searched
for that tag, so a retry after a lost answer finds the ticket the first try made instead of
creating a second. A followup ends with its delivery key and is not added again when the
ticket already has it. From the rules (`tickets.systems.glpi`): the ticket's urgency, impact
and priority for Sereno's P1-P5, its category by service or support group, its assigned
group, and the statuses.
"""

from __future__ import annotations

import logging
from typing import Any

from core.config import GlpiBackend
from core.models import Ticket, TicketEvent, TicketEventKind
from core.rules import RulesRef
from core.rules.ticket_systems import GlpiMapping
from ticketer.backends.glpi_client import GlpiClient
from ticketer.backends.jira import DELIVERY_MARK, comment_text
from ticketer.texts import TicketTexts

NAME = "glpi"
NAME_SEARCH = 1
INCIDENT = 1
"""GLPI's ticket type: 1 incident, 2 request."""

log = logging.getLogger(__name__)


def tag(settings: GlpiBackend, incident_id: str) -> str:
    """What ends the title of `incident_id`'s ticket."""
    return f"[{settings.tag}:{incident_id}]"


def incident_of(settings: GlpiBackend, name: str) -> str:
    """The incident a ticket's title names; "" when it names none."""
    start = name.rfind(f"[{settings.tag}:")
    if start < 0 or not name.endswith("]"):
        return ""
    return name[start + len(settings.tag) + 2 : -1]


class GlpiTicketBackend:
    name = NAME

    def __init__(
        self, settings: GlpiBackend, texts: TicketTexts, rules: RulesRef,
        client: GlpiClient | None = None,
    ) -> None:  # fmt: skip
        self._settings = settings
        self._texts = texts
        self._rules = rules
        self._client = client or GlpiClient(settings)

    @property
    def _mapping(self) -> GlpiMapping:
        return self._rules.current.tickets.systems.glpi

    @property
    def settings(self) -> GlpiBackend:
        return self._settings

    async def close(self) -> None:
        """Close the HTTP session, if one was opened; the owner calls this once, at the end."""
        await self._client.close()

    def actions(self, event: TicketEvent) -> tuple[str, ...]:
        if event.kind is TicketEventKind.CREATED:
            return ("create",)
        if event.kind is TicketEventKind.RESOLVED:
            return ("followup", "solution")
        if event.kind is TicketEventKind.REOPENED:
            return ("followup", "status")
        return ("followup",)

    async def deliver(self, event: TicketEvent, key: str, sent: Ticket | None) -> str:
        ticket = event.ticket
        number = sent.external_ref if sent is not None and sent.external_ref else ""
        number = number or await self.find(ticket.incident_id)
        if not number:
            return await self._create(ticket)
        if event.kind is TicketEventKind.CREATED:
            return number  # an earlier try created it; its answer was lost
        text = comment_text(event, sent, key, self._texts)
        await self._followup(number, text, key)
        if event.kind is TicketEventKind.RESOLVED and not await self._solved(number):
            body = {"input": {"itemtype": "Ticket", "items_id": int(number), "content": text}}
            await self._client.call("POST", "/ITILSolution", json=body)
        elif event.kind is TicketEventKind.REOPENED and await self._solved(number):
            body = {"input": {"status": self._mapping.statuses.reopen_to}}
            await self._client.call("PUT", f"/Ticket/{number}", json=body)
        return number

    async def find(self, incident_id: str) -> str:
        """The id of the ticket already made for this incident, or ""."""
        wanted = tag(self._settings, incident_id)
        rows = await self._client.search([(NAME_SEARCH, "contains", wanted)])
        # "contains" also finds a longer tag's ticket ([sereno:INC-4] in [sereno:INC-42]).
        found = [str(r["2"]) for r in rows if str(r.get("1", "")).endswith(wanted)]
        return min(found, key=int) if found else ""

    async def _create(self, ticket: Ticket) -> str:
        mapping = self._mapping
        scale = mapping.scales.get(ticket.priority)
        fields: dict[str, Any] = {
            "name": f"{ticket.title[:200]} {tag(self._settings, ticket.incident_id)}",
            "content": ticket.description,
            "entities_id": self._settings.entity_id,
            "type": INCIDENT,
            "itilcategories_id": mapping.category_for(ticket.group, ticket.service),
        }
        if scale is not None:
            fields |= scale.model_dump()
        group = mapping.groups.get(ticket.group)
        if group:
            fields["_groups_id_assign"] = group
        created = await self._client.call("POST", "/Ticket", json={"input": fields})
        log.info("glpi: ticket %s created for %s", created.get("id"), ticket.incident_id)
        return str(created["id"])

    async def _followup(self, number: str, text: str, key: str) -> None:
        """Add `text` unless a followup with delivery `key` is already on the ticket."""
        mark = DELIVERY_MARK + key
        existing = await self._client.call("GET", f"/Ticket/{number}/ITILFollowup")
        if any(mark in str(f.get("content", "")) for f in existing or []):
            return
        body = {"input": {"itemtype": "Ticket", "items_id": int(number), "content": text}}
        await self._client.call("POST", "/ITILFollowup", json=body)

    async def _solved(self, number: str) -> bool:
        current = await self._client.call("GET", f"/Ticket/{number}")
        return int(current.get("status", 0)) in self._mapping.statuses.resolved
