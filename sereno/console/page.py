"""What every console page shares: its language, its reader, its security headers."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from sereno.console import who
from sereno.console.i18n import LANGUAGES, Language
from sereno.console.render import Renderer
from sereno.keys import PIPELINE

RENDERER = web.AppKey("console_renderer", Renderer)
LANGUAGE_COOKIE = "sereno_lang"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
COMMANDS = ("ack", "resolve", "assign", "comment", "reopen")


def language(request: web.Request) -> Language:
    """The reader's choice (a cookie), else the configured language."""
    chosen = request.cookies.get(LANGUAGE_COOKIE, "")
    for known in LANGUAGES:
        if chosen == known:
            return known
    return request.app[PIPELINE].settings.language


def supported_commands(app: web.Application) -> frozenset[str]:
    """The incident commands this Sereno's API offers (POST /api/v1/incidents/{id}/...)."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        head, _, last = path.rpartition("/")
        if route.method == "POST" and head == "/api/v1/incidents/{id}" and last in COMMANDS:
            found.add("acknowledge" if last == "ack" else last)
    return frozenset(found)


def html(
    request: web.Request,
    template: str,
    context: Mapping[str, object] | None = None,
    *,
    section: str = "",
    status: int = 200,
    **more: object,
) -> web.Response:
    """`template` rendered for the reader of `request` with `context` and `more`, with the
    console's headers."""
    lang = language(request)
    text = request.app[RENDERER].render(
        lang,
        template,
        lang=lang,
        other_lang="es" if lang == "en" else "en",
        me=who.current(request),
        csrf=who.csrf(request),
        actor_in_body=who.ACTOR_IN_BODY,
        section=section,
        here=request.path_qs,
        now=request.app[PIPELINE].clock.now(),
        **(context or {}),
        **more,
    )
    return web.Response(
        text=text, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


def fragment(
    request: web.Request, template: str, context: Mapping[str, object] | None = None, **more: object
) -> web.Response:
    """Part of a page, for the page's script to put in place: no header, no footer."""
    lang = language(request)
    text = request.app[RENDERER].render(
        lang, template, me=who.current(request), now=request.app[PIPELINE].clock.now(),
        actor_in_body=who.ACTOR_IN_BODY, **(context or {}), **more,
    )  # fmt: skip
    return web.Response(text=text, content_type="text/html", headers=SECURITY_HEADERS)


async def choose_language(request: web.Request) -> web.Response:
    """GET /language/{lang}?next=/path: remember the reader's language, go back."""
    chosen = request.match_info["lang"]
    if chosen not in LANGUAGES:
        raise web.HTTPNotFound(reason=f"no language {chosen}; write en or es")
    target = request.query.get("next", "/")
    # Only a path of this site: never an open redirect to another one.
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        target = "/"
    response = web.HTTPSeeOther(target)
    response.set_cookie(
        LANGUAGE_COOKIE, chosen, max_age=365 * 86400, samesite="Lax", httponly=True, path="/"
    )
    raise response


async def static_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The console's own files are never taken for something they are not."""
    if request.path.startswith("/static/console/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
