"""A person's commands on an incident: POST /api/v1/incidents/{id}/ack, .../resolve,
.../reopen, .../assign and .../comment.

Incidents belong to correlate, so the route does not change one itself: it checks the
incident exists and may take the command, then publishes the command on the `alerts`
stream, where correlate applies it in order with the alerts, leaves a timeline entry and
emits the usual incident event, which the ticket follows. The actor is whoever signed
in or holds the API token, never a field of the body.
"""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.bus import Stream
from core.models import CommandAction, IncidentCommand, IncidentStatus
from sereno.auth.bodies import json_error, read_body
from sereno.auth.principal import Role, can, principal_of
from sereno.keys import PIPELINE


class CommandRequest(BaseModel):
    """The optional body of an acknowledge, resolve or reopen: why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    note: str = Field(default="", max_length=4096)


class AssignRequest(BaseModel):
    """To whom (a user name), and optionally to which support group, the incident goes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str = Field(min_length=1, max_length=256)
    group: str = Field(default="", max_length=256)
    note: str = Field(default="", max_length=4096)


class CommentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: str = Field(min_length=1, max_length=4096)


async def submit(
    request: web.Request,
    incident_id: str,
    action: CommandAction,
    command_fields: dict[str, str],
    origin: str = "api",
    by: str | None = None,
) -> web.Response:
    """Check `incident_id` may take `action`, publish the command, answer 202. The actor
    is the request's principal; `by` is for a ticket system's signed callback only."""
    pipeline = request.app[PIPELINE]
    incident = await pipeline.storage.store.get_incident(incident_id)
    if incident is None:
        raise json_error(
            web.HTTPNotFound, f"no incident {incident_id}", [("id", "no such incident")]
        )
    principal = principal_of(request)
    if by is None and not can(principal, Role.OPERATOR, incident.group or None):
        raise json_error(
            web.HTTPForbidden, f"this needs the operator role for group '{incident.group}'",
            [("(role)", f"{principal.name} is not an operator of {incident.group or 'all'}")],
        )  # fmt: skip
    resolved = incident.status is IncidentStatus.RESOLVED
    if resolved != (action is CommandAction.REOPEN):
        when = incident.resolved_at.isoformat() if incident.resolved_at else "earlier"
        problem = f"resolved at {when}" if resolved else "not resolved; nothing to reopen"
        raise json_error(
            web.HTTPConflict, f"incident {incident_id} cannot be {action}ed now",
            [("id", problem)],
        )  # fmt: skip
    command = IncidentCommand(
        action=action, incident_id=incident_id, at=pipeline.clock.now(),
        by=principal.name if by is None else by, origin=origin, source=request.remote or "",
        **command_fields,
    )  # fmt: skip
    await pipeline.storage.bus.publish(Stream.ALERTS, [command.model_dump_json()])
    return web.json_response(
        {"incident": incident_id, "action": action.value, "by": command.by, "accepted": True},
        status=202,
    )


async def acknowledge(request: web.Request) -> web.Response:
    body = await read_body(request, CommandRequest, empty_ok=True)
    return await submit(request, request.match_info["id"], CommandAction.ACKNOWLEDGE,
                        {"note": body.note})  # fmt: skip


async def resolve(request: web.Request) -> web.Response:
    body = await read_body(request, CommandRequest, empty_ok=True)
    return await submit(request, request.match_info["id"], CommandAction.RESOLVE,
                        {"note": body.note})  # fmt: skip


async def reopen(request: web.Request) -> web.Response:
    body = await read_body(request, CommandRequest, empty_ok=True)
    return await submit(request, request.match_info["id"], CommandAction.REOPEN,
                        {"note": body.note})  # fmt: skip


async def assign(request: web.Request) -> web.Response:
    body = await read_body(request, AssignRequest)
    return await submit(request, request.match_info["id"], CommandAction.ASSIGN,
                        {"assignee": body.to, "group": body.group, "note": body.note})  # fmt: skip


async def comment(request: web.Request) -> web.Response:
    body = await read_body(request, CommentRequest)
    return await submit(request, request.match_info["id"], CommandAction.COMMENT,
                        {"text": body.text})  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/ack", acknowledge)
    app.router.add_post("/api/v1/incidents/{id}/resolve", resolve)
    app.router.add_post("/api/v1/incidents/{id}/reopen", reopen)
    app.router.add_post("/api/v1/incidents/{id}/assign", assign)
    app.router.add_post("/api/v1/incidents/{id}/comment", comment)
