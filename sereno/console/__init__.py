"""The operations console at `/`: server-rendered pages in English and Spanish, readable
without JavaScript, refreshed in place, acting through the JSON API."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from sereno.console import incidents, page, silences, tickets
from sereno.console.render import Renderer
from sereno.keys import PIPELINE

STATIC = Path(__file__).with_name("static")


def add_routes(app: web.Application) -> None:
    """The console's pages, the parts they refresh, and their script and style."""
    app[page.RENDERER] = Renderer(app[PIPELINE].settings.timezone)
    incidents.add_routes(app)
    silences.add_routes(app)
    tickets.add_routes(app)
    app.router.add_get("/language/{lang}", page.choose_language)
    app.router.add_static("/static/console/", STATIC)
    app.on_response_prepare.append(page.static_headers)
