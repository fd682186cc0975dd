"""The HTTP read API: incidents and tickets as JSON."""

from __future__ import annotations

import enum
import json
from typing import TypeVar

from aiohttp import web

from core.holders import holdings
from core.models import Incident, IncidentStatus, Priority, TicketCategory, TicketStatus
from core.store import IncidentFilter
from sereno.keys import PIPELINE

E = TypeVar("E", bound=enum.Enum)
MAX_LIMIT = 100_000


class QueryError(web.HTTPBadRequest):
    """A query parameter that cannot be used; answered as a JSON error naming it."""

    def __init__(self, name: str, problem: str) -> None:
        body = {
            "error": f"bad query parameter '{name}': {problem}",
            "detail": [{"field": name, "problem": problem}],
        }
        super().__init__(text=json.dumps(body), content_type="application/json")


def _enum_param(request: web.Request, name: str, kind: type[E]) -> E | None:
    value = request.query.get(name)
    if value is None:
        return None
    try:
        return kind(value)
    except ValueError:
        raise QueryError(name, "write one of: " + ", ".join(str(k.value) for k in kind)) from None


def _limit(request: web.Request, default: int = 500) -> int:
    value = request.query.get("limit", str(default))
    if not value.isdigit() or not 0 < int(value) <= MAX_LIMIT:
        raise QueryError("limit", f"write a whole number from 1 to {MAX_LIMIT}")
    return int(value)


async def list_incidents(request: web.Request) -> web.Response:
    where = IncidentFilter(
        status=_enum_param(request, "status", IncidentStatus),
        priority=_enum_param(request, "priority", Priority),
        service=request.query.get("service"),
        limit=_limit(request),
    )
    incidents = await request.app[PIPELINE].storage.store.list_incidents(where)
    return web.json_response(
        {
            "incidents": [i.model_dump(mode="json") for i in incidents],
            "count": len(incidents),
        }
    )


PAGE = 100
MAX_PAGE = 1000


def _cursor(request: web.Request) -> int:
    value = request.query.get("cursor", "0")
    if not value.isdigit():
        raise QueryError("cursor", "use the next_cursor of the previous page")
    return int(value)


async def _header(request: web.Request) -> Incident:
    incident_id = request.match_info["id"]
    incident = await request.app[PIPELINE].storage.store.get_incident(incident_id)
    if incident is None:
        raise web.HTTPNotFound(reason=f"no incident {incident_id}")
    return incident


async def get_incident(request: web.Request) -> web.Response:
    """The incident's header, the first page of its alerts and of its timeline; the rest
    comes page by page from `.../alerts` and `.../timeline`."""
    incident = await _header(request)
    store = request.app[PIPELINE].storage.store
    alerts, alerts_next = await store.members_page(incident.id, 0, PAGE)
    timeline, timeline_next = await store.timeline_page(incident.id, 0, PAGE)
    body = incident.model_dump(mode="json", exclude={"sample"})
    body["alerts"] = [a.model_dump(mode="json") for a in alerts]
    body["alerts_next_cursor"] = alerts_next
    body["timeline"] = [e.model_dump(mode="json") for e in timeline]
    body["timeline_next_cursor"] = timeline_next
    return web.json_response(body)


async def incident_alerts(request: web.Request) -> web.Response:
    """One page of an incident's alerts, in the order they joined."""
    incident = await _header(request)
    store = request.app[PIPELINE].storage.store
    page, after = await store.members_page(incident.id, _cursor(request), _page_size(request))
    return web.json_response(
        {"alerts": [a.model_dump(mode="json") for a in page], "next_cursor": after}
    )


async def incident_timeline(request: web.Request) -> web.Response:
    """One page of an incident's timeline, in order."""
    incident = await _header(request)
    store = request.app[PIPELINE].storage.store
    page, after = await store.timeline_page(incident.id, _cursor(request), _page_size(request))
    return web.json_response(
        {"timeline": [e.model_dump(mode="json") for e in page], "next_cursor": after}
    )


def _page_size(request: web.Request) -> int:
    value = request.query.get("limit", str(PAGE))
    if not value.isdigit() or not 0 < int(value) <= MAX_PAGE:
        raise QueryError("limit", f"write a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _flag(request: web.Request, name: str) -> bool | None:
    value = request.query.get(name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise QueryError(name, "write true or false")
    return value == "true"


async def list_tickets(request: web.Request) -> web.Response:
    """Tickets newest first; `?breached=true|false` keeps those with (without) an SLA
    breach, `?category=`, `?status=` and `?backend=` filter as they say."""
    breached = _flag(request, "breached")
    status = _enum_param(request, "status", TicketStatus)
    category = _enum_param(request, "category", TicketCategory)
    backend = request.query.get("backend")
    tickets = [
        t
        for t in await request.app[PIPELINE].storage.store.list_tickets(_limit(request))
        if (breached is None or t.breached == breached)
        and (status is None or t.status is status)
        and (category is None or t.category == category.value)
        and (backend is None or t.backend == backend)
    ]
    return web.json_response(
        {"tickets": [t.model_dump(mode="json") for t in tickets], "count": len(tickets)}
    )


async def get_ticket(request: web.Request) -> web.Response:
    ticket_id = request.match_info["id"]
    ticket = await request.app[PIPELINE].storage.store.get_ticket(ticket_id)
    if ticket is None:
        raise web.HTTPNotFound(reason=f"no ticket {ticket_id}")
    now = request.app[PIPELINE].clock.now()
    held = [h.as_json(now) for h in holdings(ticket)]
    return web.json_response(ticket.model_dump(mode="json") | {"holders": held})


async def list_suppressed(request: web.Request) -> web.Response:
    """Alerts that opened nothing, and the silence or maintenance window that held them."""
    suppressed = await request.app[PIPELINE].storage.store.list_suppressions(_limit(request))
    return web.json_response(
        {"suppressed": [s.model_dump(mode="json") for s in suppressed], "count": len(suppressed)}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/incidents", list_incidents)
    app.router.add_get("/api/v1/incidents/{id}", get_incident)
    app.router.add_get("/api/v1/incidents/{id}/alerts", incident_alerts)
    app.router.add_get("/api/v1/incidents/{id}/timeline", incident_timeline)
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_get("/api/v1/tickets/{id}", get_ticket)
    app.router.add_get("/api/v1/suppressed", list_suppressed)
