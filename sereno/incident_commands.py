"""Acknowledging and resolving incidents by hand: POST /api/v1/incidents/{id}/ack and
.../resolve.

Incidents belong to correlate, so the route does not change one itself: it checks the
incident exists and is not resolved, then publishes the command on the `alerts` stream,
where correlate applies it in order with the alerts, leaves a timeline entry and emits
the usual incident event (acknowledged, resolved), which the ticket follows.
"""

from __future__ import annotations

import json

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.bus import Stream
from core.models import CommandAction, IncidentCommand, IncidentStatus
from sereno.keys import PIPELINE


class CommandRequest(BaseModel):
    """The optional body of an acknowledge or resolve: who, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    by: str = Field(default="", max_length=256)
    note: str = Field(default="", max_length=4096)


def _json_error(
    kind: type[web.HTTPException], message: str, problems: list[tuple[str, str]]
) -> web.HTTPException:
    body = {"error": message, "detail": [{"field": f, "problem": p} for f, p in problems]}
    return kind(text=json.dumps(body), content_type="application/json")


async def _read(request: web.Request) -> CommandRequest:
    raw = await request.read()
    if not raw.strip():
        return CommandRequest()
    try:
        return CommandRequest.model_validate_json(raw)
    except ValidationError as e:
        problems = [(".".join(map(str, err["loc"])) or "(body)", err["msg"]) for err in e.errors()]
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        raise _json_error(web.HTTPBadRequest, f"bad request body: {fields}", problems) from None


async def submit(
    request: web.Request,
    incident_id: str,
    action: CommandAction,
    body: CommandRequest,
    origin: str = "api",
) -> web.Response:
    """Check `incident_id` may take `action`, publish the command, answer 202."""
    pipeline = request.app[PIPELINE]
    incident = await pipeline.storage.store.get_incident(incident_id)
    if incident is None:
        raise _json_error(
            web.HTTPNotFound, f"no incident {incident_id}", [("id", "no such incident")]
        )
    if incident.status is IncidentStatus.RESOLVED:
        when = incident.resolved_at.isoformat() if incident.resolved_at else "earlier"
        raise _json_error(
            web.HTTPConflict, f"incident {incident_id} is already resolved",
            [("id", f"resolved at {when}; nothing to acknowledge or resolve")],
        )  # fmt: skip
    command = IncidentCommand(
        action=action, incident_id=incident_id, at=pipeline.clock.now(), by=body.by,
        note=body.note, origin=origin,
    )  # fmt: skip
    await pipeline.storage.bus.publish(Stream.ALERTS, [command.model_dump_json()])
    return web.json_response(
        {"incident": incident_id, "action": action.value, "accepted": True}, status=202
    )


async def acknowledge(request: web.Request) -> web.Response:
    body = await _read(request)
    return await submit(request, request.match_info["id"], CommandAction.ACKNOWLEDGE, body)


async def resolve(request: web.Request) -> web.Response:
    body = await _read(request)
    return await submit(request, request.match_info["id"], CommandAction.RESOLVE, body)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/incidents/{id}/ack", acknowledge)
    app.router.add_post("/api/v1/incidents/{id}/resolve", resolve)
