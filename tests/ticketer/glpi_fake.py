"""A local GLPI for tests: GLPI (PHP and a database) cannot run here, so this aiohttp server
answers the part of GLPI's REST API (apirest.php, documented in GLPI's apirest.md) that
Sereno uses, field for field, and sends GLPI's outgoing webhooks as GLPI's src/Webhook.php
does. The requests and answers it follows are in glpi_examples.md beside it.

- `GET /initSession` with `Authorization: user_token <token>` and `App-Token`: 200
  `{"session_token": ...}`; a wrong user token is 401 `["ERROR_GLPI_LOGIN_USER_TOKEN", ...]`,
  a wrong App-Token 400 `["ERROR_WRONG_APP_TOKEN_PARAMETER", ...]`.
- Every other call needs `Session-Token` (401 `["ERROR_SESSION_TOKEN_INVALID", ...]`).
- `POST /Ticket` `{"input": {...}}`: 201 `{"id": N, "message": ""}` and `Location`.
- `GET /Ticket/N`: the ticket's fields; `PUT /Ticket/N` `{"input": {...}}`: 200
  `[{"N": true, "message": ""}]`; an unknown id is 404 `["ERROR_ITEM_NOT_FOUND", ...]`.
- `GET /Ticket/N/ITILFollowup`, `/Ticket_User`, `/Group_Ticket`: the sub items (a list).
- `POST /ITILFollowup`, `POST /ITILSolution` `{"input": {"itemtype": "Ticket", "items_id": N,
  "content": ...}}`: 201; a solution moves the ticket to status 5 (solved).
- `GET /search/Ticket?criteria[0][field]=1&criteria[0][searchtype]=contains&...`: 200
  `{"totalcount", "count", "data": [{"2": id, "1": name, "19": date_mod}]}`.
- `GET /getActiveProfile`, `GET /ITILCategory/N`, `GET /Group/N`: what `--online` reads.
- Webhooks: POST `{"event": "update", "item": {...the ticket...}}` with `X-GLPI-signature`
  (hex HMAC-SHA256 of the body followed by the timestamp) and `X-GLPI-timestamp`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

APP_TOKEN = "f7g3csp8mgatg5ebc5elnazakw20i9fyev1qopya7"  # noqa: S105 - a test token
USER_TOKEN = "sereno-remote-access-key"  # noqa: S105 - a test token
API_USER = 7
AGENT = 9
USERS = {API_USER: "sereno", AGENT: "agent1"}
ASSIGNED = 2
DROPDOWNS = {"ITILCategory": {12: "Databases"}, "Group": {4: "DBA"}}
"""Ticket_User and Group_Ticket `type` of the technician assigned (1 requester, 3 observer)."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response([code, message], status=status)


@dataclass
class GlpiTicket:
    fields: dict[str, Any]
    followups: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    solutions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FakeGlpi:
    """The fake server's state; `down` makes every call answer 503 as a stopped web server
    behind a proxy would."""

    webhook_url: str = ""
    webhook_secret: str = ""
    tickets: dict[int, GlpiTicket] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    down: bool = False
    refused: Counter[int] = field(default_factory=Counter)
    server: TestServer | None = None
    _ids: int = 0

    def _next(self) -> int:
        self._ids += 1
        return self._ids

    async def start(self) -> None:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/apirest.php/initSession", self._init_session)
        app.router.add_get("/apirest.php/killSession", self._kill_session)
        app.router.add_post("/apirest.php/Ticket", self._add_ticket)
        app.router.add_get("/apirest.php/Ticket/{id}", self._get_ticket)
        app.router.add_put("/apirest.php/Ticket/{id}", self._update_ticket)
        app.router.add_get("/apirest.php/Ticket/{id}/{sub}", self._sub_items)
        app.router.add_post("/apirest.php/ITILFollowup", self._add_followup)
        app.router.add_post("/apirest.php/ITILSolution", self._add_solution)
        app.router.add_get("/apirest.php/search/Ticket", self._search)
        app.router.add_get("/apirest.php/User/{id}", self._get_user)
        app.router.add_get("/apirest.php/getActiveProfile", self._active_profile)
        app.router.add_get("/apirest.php/ITILCategory/{id}", self._dropdown)
        app.router.add_get("/apirest.php/Group/{id}", self._dropdown)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/apirest.php"))

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.down:
            self.refused[503] += 1
            return web.Response(status=503, text="Service Unavailable")
        if request.headers.get("App-Token") != APP_TOKEN:
            return _error(400, "ERROR_WRONG_APP_TOKEN_PARAMETER", "parameter app_token seems wrong")
        if request.path.endswith("/initSession"):
            return await handler(request)  # type: ignore[no-any-return]
        if request.headers.get("Session-Token") not in self.sessions:
            return _error(401, "ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid")
        return await handler(request)  # type: ignore[no-any-return]

    async def _init_session(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"user_token {USER_TOKEN}":
            return _error(401, "ERROR_GLPI_LOGIN_USER_TOKEN", "parameter user_token seems invalid")
        token = uuid4().hex
        self.sessions.add(token)
        return web.json_response({"session_token": token})

    async def _kill_session(self, request: web.Request) -> web.Response:
        self.sessions.discard(request.headers.get("Session-Token", ""))
        return web.json_response({})

    async def _add_ticket(self, request: web.Request) -> web.Response:
        given = (await request.json())["input"]
        ticket_id = self._next()
        fields = {
            "id": ticket_id, "entities_id": 0, "name": "", "date": _now(), "date_mod": _now(),
            "users_id_lastupdater": API_USER, "status": 1, "users_id_recipient": API_USER,
            "content": "", "urgency": 3, "impact": 3, "priority": 3, "itilcategories_id": 0,
            "type": 1, "solvedate": None, "closedate": None, "is_deleted": 0,
        }  # fmt: skip
        fields |= {k: v for k, v in given.items() if not k.startswith("_")}
        ticket = GlpiTicket(fields)
        if given.get("_groups_id_assign"):
            group = given["_groups_id_assign"]
            ticket.groups.append(
                {"id": self._next(), "tickets_id": ticket_id, "groups_id": group, "type": ASSIGNED}
            )
        self.tickets[ticket_id] = ticket
        location = f"{self.url}/Ticket/{ticket_id}"
        return web.json_response({"id": ticket_id, "message": ""}, status=201,
                                 headers={"Location": location})  # fmt: skip

    def _ticket(self, request: web.Request) -> GlpiTicket | None:
        raw = request.match_info["id"]
        return self.tickets.get(int(raw)) if raw.isdigit() else None

    async def _get_ticket(self, request: web.Request) -> web.Response:
        ticket = self._ticket(request)
        if ticket is None:
            return _error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
        return web.json_response(ticket.fields)

    async def _update_ticket(self, request: web.Request) -> web.Response:
        ticket = self._ticket(request)
        if ticket is None:
            return _error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
        given = (await request.json())["input"]
        self.change(ticket, API_USER, given)
        return web.json_response([{str(ticket.fields["id"]): True, "message": ""}])

    async def _sub_items(self, request: web.Request) -> web.Response:
        ticket = self._ticket(request)
        if ticket is None:
            return _error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
        items = {"ITILFollowup": ticket.followups, "Ticket_User": ticket.users,
                 "Group_Ticket": ticket.groups, "ITILSolution": ticket.solutions}  # fmt: skip
        sub = request.match_info["sub"]
        if sub not in items:
            return _error(400, "ERROR_ITEMTYPE_NOT_FOUND_NOR_COMMONDBTM", f"{sub} not found")
        return web.json_response(items[sub])

    async def _add_followup(self, request: web.Request) -> web.Response:
        given = (await request.json())["input"]
        ticket = self.tickets.get(int(given["items_id"]))
        if ticket is None or given.get("itemtype") != "Ticket":
            return _error(
                400, "ERROR_GLPI_ADD", "You don't have permission to perform this action."
            )
        made = self.followup(ticket, API_USER, str(given["content"]))
        return web.json_response({"id": made, "message": ""}, status=201)

    async def _add_solution(self, request: web.Request) -> web.Response:
        given = (await request.json())["input"]
        ticket = self.tickets.get(int(given["items_id"]))
        if ticket is None:
            return _error(400, "ERROR_GLPI_ADD", "Item not found")
        made = self.solve(ticket, API_USER, str(given.get("content", "")))
        return web.json_response({"id": made, "message": ""}, status=201)

    async def _get_user(self, request: web.Request) -> web.Response:
        raw = request.match_info["id"]
        name = USERS.get(int(raw)) if raw.isdigit() else None
        if name is None:
            return _error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
        return web.json_response({"id": int(raw), "name": name, "realname": "", "firstname": ""})

    async def _active_profile(self, _: web.Request) -> web.Response:
        return web.json_response({"active_profile": {"id": 4, "name": "Super-Admin"}})

    async def _dropdown(self, request: web.Request) -> web.Response:
        kind = request.path.split("/")[-2]
        raw = request.match_info["id"]
        if not raw.isdigit() or int(raw) not in DROPDOWNS[kind]:
            return _error(404, "ERROR_ITEM_NOT_FOUND", "Item not found")
        return web.json_response({"id": int(raw), "name": DROPDOWNS[kind][int(raw)]})

    async def _search(self, request: web.Request) -> web.Response:
        query = request.query
        found = list(self.tickets.values())
        n = 0
        while f"criteria[{n}][field]" in query:
            column = query[f"criteria[{n}][field]"]
            how = query.get(f"criteria[{n}][searchtype]", "contains")
            value = query.get(f"criteria[{n}][value]", "")
            name = {"1": "name", "19": "date_mod"}[column]
            if how == "contains":
                found = [t for t in found if value.lower() in str(t.fields[name]).lower()]
            elif how == "morethan":
                found = [t for t in found if str(t.fields[name]) > value]
            n += 1
        rows = [{"2": t.fields["id"], "1": t.fields["name"], "19": t.fields["date_mod"]}
                for t in found]  # fmt: skip
        return web.json_response({"totalcount": len(rows), "count": len(rows), "data": rows})

    # What agents do in GLPI's interface: each change is GLPI's, then its webhook fires.

    def change(self, ticket: GlpiTicket, user: int, values: dict[str, Any]) -> None:
        ticket.fields |= values | {"date_mod": _now(), "users_id_lastupdater": user}

    def followup(self, ticket: GlpiTicket, user: int, content: str) -> int:
        made = self._next()
        ticket.followups.append({
            "id": made, "itemtype": "Ticket", "items_id": ticket.fields["id"], "date": _now(),
            "users_id": user, "content": content, "is_private": 0, "date_mod": _now(),
        })  # fmt: skip
        self.change(ticket, user, {})
        return made

    def solve(self, ticket: GlpiTicket, user: int, content: str) -> int:
        made = self._next()
        ticket.solutions.append({"id": made, "itemtype": "Ticket", "items_id": ticket.fields["id"],
                                 "content": content, "users_id": user, "status": 2})  # fmt: skip
        self.change(ticket, user, {"status": 5, "solvedate": _now()})
        return made

    def take(self, ticket: GlpiTicket, user: int) -> None:
        ticket.users = [u for u in ticket.users if u["type"] != ASSIGNED]
        ticket.users.append({"id": self._next(), "tickets_id": ticket.fields["id"],
                             "users_id": user, "type": ASSIGNED})  # fmt: skip
        self.change(ticket, user, {"status": 2})

    def webhook_body(
        self, ticket: GlpiTicket, event: str = "update", item: dict[str, Any] | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """GLPI's default payload (the item; for a followup, the ticket as `parent_item`)
        and its two signature headers."""
        payload = {"event": event, "item": ticket.fields if item is None else item}
        if item is not None:
            payload["parent_item"] = ticket.fields
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(self.webhook_secret.encode(), body + timestamp.encode(),
                             hashlib.sha256).hexdigest()  # fmt: skip
        return body, {"Content-Type": "application/json", "X-GLPI-signature": signature,
                      "X-GLPI-timestamp": timestamp}  # fmt: skip

    async def send_webhook(
        self, ticket: GlpiTicket, event: str = "update", item: dict[str, Any] | None = None
    ) -> int:
        """POST the webhook now (GLPI queues it and its cron sends it); the answer's status."""
        body, headers = self.webhook_body(ticket, event, item)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook_url, data=body, headers=headers) as response,
        ):
            return response.status
