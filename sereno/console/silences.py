"""The silences page: the list, a form to make one, and a live preview of what it would
hold back among the alerts firing now."""

from __future__ import annotations

from aiohttp import web
from pydantic import ValidationError

from core.matchers import AlertMatch
from core.models import Severity
from sereno.console import data
from sereno.console.page import fragment, html
from sereno.keys import PIPELINE

MATCH_FIELDS = ("names", "resources", "services", "sources")


def _form(request: web.Request) -> dict[str, object]:
    query = request.query
    form: dict[str, object] = {f: query.get(f, "")[:1024] for f in MATCH_FIELDS}
    form["severities"] = query.getall("severities", [])
    form["duration"] = query.get("duration", "2h")
    form["comment"] = query.get("comment", "")[:4096]
    return form


def _patterns(value: object) -> list[str]:
    return [p.strip() for p in str(value).split(",") if p.strip()]


async def _preview(
    request: web.Request, form: dict[str, object]
) -> tuple[list[data.Member] | None, str]:
    """The firing alerts the form's match would hold back (None: nothing asked yet), or
    why the match cannot be used."""
    fields: dict[str, object] = {f: _patterns(form[f]) for f in MATCH_FIELDS}
    fields["severities"] = form["severities"]
    try:
        match = AlertMatch.model_validate(fields)
    except ValidationError as e:
        return [], "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()
        )
    if match == AlertMatch():
        return None, ""
    firing = await data.firing_members(request.app[PIPELINE].storage.store)
    return data.matching(match, firing), ""


async def silences_page(request: web.Request) -> web.Response:
    """GET /silences: every silence; `?names=...` fills in the form and shows its preview."""
    form = _form(request)
    preview, error = await _preview(request, form)
    return html(
        request, "silences.html.j2", section="silences", form=form, preview=preview,
        preview_error=error, severities=list(Severity),
        silences=await data.silences(request.app[PIPELINE].storage.store),
    )  # fmt: skip


async def preview_live(request: web.Request) -> web.Response:
    preview, error = await _preview(request, _form(request))
    return fragment(request, "_live_preview.html.j2", preview=preview, preview_error=error)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/silences", silences_page)
    app.router.add_get("/_live/silence-preview", preview_live)
