"""Ticket systems calling back: POST /api/v1/tickets/{id}/callback (the generic webhook
backend), POST /api/v1/callbacks/rt (Request Tracker's scrip, contrib/rt/) and
POST /api/v1/callbacks/glpi and /api/v1/callbacks/jira (GLPI's and Jira's own webhooks,
signed in their own ways, below).

Every callback is signed as the outgoing webhook is: `sha256=<hex HMAC-SHA256 of the exact
body>` in X-Sereno-Signature (the webhook's `header`), under the backend's secret. What is
signed names the ticket, the time (`timestamp`, Unix seconds) and a `nonce` used once, so a
callback cannot be sent again: not to another ticket (the ticket is inside the signature),
not later (it must come within `WINDOW` of Sereno's clock), not twice (its nonce is
remembered for as long as its timestamp would be accepted, and a callback signed before
this process started remembering is refused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.bus import Stream
from core.models import CommandAction, IncidentCommand, IncidentStatus
from sereno.keys import PIPELINE

ORIGIN = "webhook"
HEADER = "X-Sereno-Signature"
WINDOW = timedelta(minutes=5)
HOW_TO_SIGN = (
    "sign the exact body: sha256=<hex HMAC-SHA256> under the shared secret; the body names "
    "the ticket, its timestamp (Unix seconds, within 5 minutes) and a nonce never used before"
)
NONCES_KEPT = 100_000
AFTER_RESOLVED = {"comment", "reopen"}
GLPI_SIGNATURE = "X-GLPI-signature"
GLPI_TIMESTAMP = "X-GLPI-timestamp"
JIRA_SIGNATURE = "X-Hub-Signature"


class Signed(BaseModel):
    """What every callback's signed body carries so it cannot be replayed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ticket: str = Field(min_length=1, max_length=128)
    timestamp: int = Field(description="Unix seconds when it was signed")
    nonce: str = Field(min_length=16, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")


class CallbackRequest(Signed):
    """What the ticket system did, and who did it."""

    action: Literal["acknowledge", "resolve", "assign", "comment", "reopen"]
    by: str = Field(default="", max_length=256)
    note: str = Field(default="", max_length=4096)
    assignee: str = Field(default="", max_length=256)


class RtCallback(Signed):
    """The RT scrip's nudge: this ticket has a new transaction."""

    system: Literal["rt"]
    transaction: str = Field(default="", max_length=32, pattern=r"^[0-9]*$")


class NonceMemory:
    """Nonces seen within the window, oldest first; one per app, bounded."""

    def __init__(self, since: datetime) -> None:
        self.since = since
        self._seen: OrderedDict[str, datetime] = OrderedDict()

    def first_use(self, nonce: str, signed_at: datetime, now: datetime) -> bool:
        """Remember `nonce`; False when it was seen before."""
        while self._seen and (
            len(self._seen) >= NONCES_KEPT or next(iter(self._seen.values())) < now - 2 * WINDOW
        ):
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return False
        self._seen[nonce] = signed_at
        return True


NONCES = web.AppKey("callback_nonces", NonceMemory)


def _error(
    kind: type[web.HTTPException], message: str, field: str, problem: str
) -> web.HTTPException:
    body = {"error": message, "detail": [{"field": field, "problem": problem}]}
    return kind(text=json.dumps(body), content_type="application/json")


def signature_matches(secret: bytes, body: bytes, header: str) -> bool:
    """Whether `header` is the `sha256=<hex>` HMAC of `body` under `secret`."""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.encode())


S = TypeVar("S", bound=Signed)


async def _verified(
    request: web.Request, secret: bytes, header: str, model: type[S], ticket: str | None = None
) -> S:
    """The callback's body, once its signature, ticket (when the route names one), time and
    nonce hold; the nonce is spent only by a callback that passes everything else."""
    raw = await request.read()
    given = request.headers.get(header, "")
    if not given or not signature_matches(secret, raw, given):
        problem = "bad signature" if given else "missing"
        raise _error(web.HTTPUnauthorized, f"{header}: {problem}", header, HOW_TO_SIGN)
    try:
        asked = model.model_validate_json(raw)
    except ValidationError as e:
        problems = [(".".join(map(str, err["loc"])) or "(body)", err["msg"]) for err in e.errors()]
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        body = {"error": f"bad request body: {fields}",
                "detail": [{"field": f, "problem": p} for f, p in problems]}  # fmt: skip
        raise web.HTTPBadRequest(text=json.dumps(body), content_type="application/json") from None
    if ticket is not None and asked.ticket != ticket:
        raise _error(web.HTTPBadRequest, "the signed ticket is another", "ticket",
                     f"signed for {asked.ticket}, sent to {ticket}")  # fmt: skip
    now = request.app[PIPELINE].clock.now()
    nonces = request.app[NONCES]
    signed_at = datetime.fromtimestamp(asked.timestamp, tz=now.tzinfo)
    if abs(now - signed_at) > WINDOW or signed_at < nonces.since - WINDOW:
        raise _error(web.HTTPUnauthorized, "timestamp outside the window", "timestamp",
                     f"signed at {signed_at.isoformat()}; Sereno's clock says "
                     f"{now.isoformat()}; sign each callback when sending it")  # fmt: skip
    if not nonces.first_use(asked.nonce, signed_at, now):
        raise _error(web.HTTPConflict, "callback already received", "nonce",
                     "this nonce was used before; a callback is taken once")  # fmt: skip
    return asked


async def callback(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    webhook = pipeline.settings.ticket_backends.webhook
    if webhook is None:
        raise _error(web.HTTPNotFound, "no webhook ticket backend is configured",
                     "ticket_backends.webhook", "configure it to take callbacks")  # fmt: skip
    ticket_id = request.match_info["id"]
    asked = await _verified(
        request, webhook.secret.reveal(), webhook.header, CallbackRequest, ticket_id
    )
    ticket = await pipeline.storage.store.get_ticket(ticket_id)
    if ticket is None:
        raise _error(web.HTTPNotFound, f"no ticket {ticket_id}", "id", "no such ticket")
    incident = await pipeline.storage.store.get_incident(ticket.incident_id)
    if incident is None:
        raise _error(web.HTTPNotFound, f"no incident {ticket.incident_id}", "id",
                     "the ticket's incident is gone")  # fmt: skip
    if incident.status is IncidentStatus.RESOLVED and asked.action not in AFTER_RESOLVED:
        when = incident.resolved_at.isoformat() if incident.resolved_at else "earlier"
        raise _error(web.HTTPConflict, f"incident {incident.id} is already resolved", "id",
                     f"resolved at {when}; reopen it first")  # fmt: skip
    # Correlate ignores what no longer applies by the time it gets there.
    command = IncidentCommand(
        action=CommandAction(asked.action), incident_id=ticket.incident_id,
        at=pipeline.clock.now(), by=asked.by, note=asked.note, assignee=asked.assignee,
        origin=ORIGIN,
    )  # fmt: skip
    await pipeline.storage.bus.publish(Stream.ALERTS, [command.model_dump_json()])
    return web.json_response(
        {"incident": ticket.incident_id, "action": asked.action, "accepted": True}, status=202
    )


async def rt_callback(request: web.Request) -> web.Response:
    """RT says a ticket changed: its history is read now rather than at the next poll."""
    pipeline = request.app[PIPELINE]
    watcher = pipeline.watchers.get("rt")
    rt = pipeline.settings.ticket_backends.rt
    if watcher is None or rt is None or rt.callback_secret is None:
        raise _error(
            web.HTTPNotFound, "no RT callback is configured",
            "ticket_backends.rt.callback_secret", "configure it to take callbacks",
        )  # fmt: skip
    asked = await _verified(request, rt.callback_secret.reveal(), HEADER, RtCallback)
    # Read after answering: RT waits for this answer before it finishes the transaction.
    watcher.nudge(asked.ticket, int(asked.transaction or 0))
    return web.json_response({"ticket": asked.ticket, "accepted": True}, status=202)


async def glpi_callback(request: web.Request) -> web.Response:
    """GLPI's outgoing webhook (GLPI 10.0.7+, src/Webhook.php): `X-GLPI-signature` is the hex
    HMAC-SHA256 of the body followed by `X-GLPI-timestamp`, under the webhook's secret. The
    ticket is inside the signed body (`item.id`, or `item.items_id` / `parent_item.id` for a
    followup); GLPI sends no nonce, so the signature itself is the nonce: the same request
    twice is refused."""
    pipeline = request.app[PIPELINE]
    watcher = pipeline.watchers.get("glpi")
    glpi = pipeline.settings.ticket_backends.glpi
    if watcher is None or glpi is None or glpi.webhook_secret is None:
        raise _error(
            web.HTTPNotFound, "no GLPI webhook is configured",
            "ticket_backends.glpi.webhook_secret", "configure it to take GLPI's webhooks",
        )  # fmt: skip
    raw = await request.read()
    given = request.headers.get(GLPI_SIGNATURE, "")
    stamp = request.headers.get(GLPI_TIMESTAMP, "")
    signed = hmac.new(glpi.webhook_secret.reveal(), raw + stamp.encode(), hashlib.sha256)
    if not given or not stamp.isdigit() or not hmac.compare_digest(signed.hexdigest(), given):
        problem = "bad signature" if given and stamp else "missing"
        raise _error(web.HTTPUnauthorized, f"{GLPI_SIGNATURE}: {problem}", GLPI_SIGNATURE,
                     "GLPI signs the body followed by X-GLPI-timestamp with the webhook's "
                     "secret; set ticket_backends.glpi.webhook_secret to it")  # fmt: skip
    ticket = _glpi_ticket(raw)
    if not ticket:
        raise _error(web.HTTPBadRequest, "no ticket in the webhook", "item.id",
                     "send GLPI's default payload for Ticket or ITILFollowup events")  # fmt: skip
    now = pipeline.clock.now()
    signed_at = datetime.fromtimestamp(int(stamp), tz=now.tzinfo)
    nonces = request.app[NONCES]
    if abs(now - signed_at) > WINDOW or signed_at < nonces.since - WINDOW:
        raise _error(web.HTTPUnauthorized, "timestamp outside the window", GLPI_TIMESTAMP,
                     f"signed at {signed_at.isoformat()}; Sereno's clock says "
                     f"{now.isoformat()}")  # fmt: skip
    if not nonces.first_use("glpi:" + given, signed_at, now):
        raise _error(web.HTTPConflict, "webhook already received", GLPI_SIGNATURE,
                     "this very request was taken before")  # fmt: skip
    watcher.nudge(ticket)
    return web.json_response({"ticket": ticket, "accepted": True}, status=202)


def _glpi_ticket(raw: bytes) -> str:
    """The ticket a GLPI webhook's body is about; "" when it names none."""
    try:
        body = json.loads(raw)
    except ValueError:
        return ""
    item = body.get("item") if isinstance(body, dict) else None
    parent = body.get("parent_item") if isinstance(body, dict) else None
    if not isinstance(item, dict):
        return ""
    if item.get("itemtype") == "Ticket" and item.get("items_id"):
        return str(item["items_id"])  # a followup, solution or task of a ticket
    if isinstance(parent, dict) and parent.get("id"):
        return str(parent["id"])
    found = item.get("id")
    return str(found) if isinstance(found, int | str) and str(found).isdigit() else ""


async def jira_callback(request: web.Request) -> web.Response:
    """Jira's webhook (an admin webhook with a secret): `X-Hub-Signature: sha256=<hex
    HMAC-SHA256 of the body>`. The issue and the `timestamp` (milliseconds) are inside the
    signed body; Jira sends no nonce, so the signature is the nonce."""
    pipeline = request.app[PIPELINE]
    watcher = pipeline.watchers.get("jira")
    jira = pipeline.settings.ticket_backends.jira
    if watcher is None or jira is None or jira.webhook_secret is None:
        raise _error(
            web.HTTPNotFound, "no Jira webhook is configured",
            "ticket_backends.jira.webhook_secret", "configure it to take Jira's webhooks",
        )  # fmt: skip
    raw = await request.read()
    given = request.headers.get(JIRA_SIGNATURE, "")
    if not given or not signature_matches(jira.webhook_secret.reveal(), raw, given):
        problem = "bad signature" if given else "missing"
        raise _error(web.HTTPUnauthorized, f"{JIRA_SIGNATURE}: {problem}", JIRA_SIGNATURE,
                     "give the Jira webhook the secret of "
                     "ticket_backends.jira.webhook_secret")  # fmt: skip
    try:
        body = json.loads(raw)
        issue = str(body["issue"]["key"])
        stamp = int(body["timestamp"]) / 1000
    except (ValueError, KeyError, TypeError):
        raise _error(web.HTTPBadRequest, "not a Jira issue webhook", "issue.key",
                     "send the events jira:issue_updated and comment_created",
                     ) from None  # fmt: skip
    now = pipeline.clock.now()
    signed_at = datetime.fromtimestamp(stamp, tz=now.tzinfo)
    nonces = request.app[NONCES]
    if abs(now - signed_at) > WINDOW or signed_at < nonces.since - WINDOW:
        raise _error(web.HTTPUnauthorized, "timestamp outside the window", "timestamp",
                     f"sent at {signed_at.isoformat()}; Sereno's clock says "
                     f"{now.isoformat()}")  # fmt: skip
    if not nonces.first_use("jira:" + given, signed_at, now):
        raise _error(web.HTTPConflict, "webhook already received", JIRA_SIGNATURE,
                     "this very request was taken before")  # fmt: skip
    watcher.nudge(issue)
    return web.json_response({"ticket": issue, "accepted": True}, status=202)


def add_routes(app: web.Application) -> None:
    app[NONCES] = NonceMemory(app[PIPELINE].clock.now())
    app.router.add_post("/api/v1/tickets/{id}/callback", callback)
    app.router.add_post("/api/v1/callbacks/rt", rt_callback)
    app.router.add_post("/api/v1/callbacks/glpi", glpi_callback)
    app.router.add_post("/api/v1/callbacks/jira", jira_callback)
