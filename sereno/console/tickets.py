"""The tickets page (breached first) and the index of runbooks."""

from __future__ import annotations

from aiohttp import web

from sereno.console import data
from sereno.console.page import html
from sereno.keys import PIPELINE


async def tickets_page(request: web.Request) -> web.Response:
    """GET /tickets: every ticket with its SLA state, breached first."""
    found = await data.tickets(request.app[PIPELINE].storage.store)
    return html(request, "tickets.html.j2", section="tickets", tickets=found)


async def runbooks_page(request: web.Request) -> web.Response:
    """GET /runbooks: every runbook, each a link to its page."""
    runbooks = request.app[PIPELINE].rules.runbooks
    return html(
        request, "runbooks.html.j2", section="runbooks",
        runbooks=list(runbooks) if runbooks is not None else [],
    )  # fmt: skip


def add_routes(app: web.Application) -> None:
    app.router.add_get("/tickets", tickets_page)
    app.router.add_get("/runbooks", runbooks_page)
