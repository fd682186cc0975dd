"""The webhook backend's way back: POST /api/v1/tickets/{id}/callback.

The ticket system acknowledges or resolves a ticket; Sereno acknowledges or resolves the
ticket's incident through the same command as the hand-made routes. The body is signed
like the outgoing webhook: `sha256=<hex HMAC-SHA256 of the body>` in the webhook's header
(X-Sereno-Signature by default), under the webhook's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import CommandAction
from sereno.incident_commands import submit
from sereno.keys import PIPELINE

ORIGIN = "webhook"
HOW_TO_SIGN = "sign the exact body: sha256=<hex HMAC-SHA256> under the webhook secret"


class CallbackRequest(BaseModel):
    """What the ticket system did, and who did it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["acknowledge", "resolve"]
    by: str = Field(default="", max_length=256)
    note: str = Field(default="", max_length=4096)


def _error(
    kind: type[web.HTTPException], message: str, field: str, problem: str
) -> web.HTTPException:
    body = {"error": message, "detail": [{"field": field, "problem": problem}]}
    return kind(text=json.dumps(body), content_type="application/json")


def signature_matches(secret: bytes, body: bytes, header: str) -> bool:
    """Whether `header` is the `sha256=<hex>` HMAC of `body` under `secret`."""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


async def callback(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    webhook = pipeline.settings.ticket_backends.webhook
    if webhook is None:
        raise _error(web.HTTPNotFound, "no webhook ticket backend is configured",
                     "ticket_backends.webhook", "configure it to take callbacks")  # fmt: skip
    raw = await request.read()
    given = request.headers.get(webhook.header, "")
    if not given or not signature_matches(webhook.secret.reveal(), raw, given):
        problem = "bad signature" if given else "missing"
        raise _error(
            web.HTTPUnauthorized, f"{webhook.header}: {problem}", webhook.header, HOW_TO_SIGN
        )
    try:
        asked = CallbackRequest.model_validate_json(raw)
    except ValidationError as e:
        problems = [(".".join(map(str, err["loc"])) or "(body)", err["msg"]) for err in e.errors()]
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        body = {"error": f"bad request body: {fields}",
                "detail": [{"field": f, "problem": p} for f, p in problems]}  # fmt: skip
        raise web.HTTPBadRequest(text=json.dumps(body), content_type="application/json") from None
    ticket_id = request.match_info["id"]
    ticket = await pipeline.storage.store.get_ticket(ticket_id)
    if ticket is None:
        raise _error(web.HTTPNotFound, f"no ticket {ticket_id}", "id", "no such ticket")
    # The webhook's signature is the credential; the ticket system names its own user.
    return await submit(
        request, ticket.incident_id, CommandAction(asked.action), {"note": asked.note},
        origin=ORIGIN, by=asked.by or "ticket system",
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_post("/api/v1/tickets/{id}/callback", callback)
