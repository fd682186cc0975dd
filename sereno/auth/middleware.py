"""The access middleware: finds the route's rule, names the principal, checks CSRF and the
role, records writes and refusals in the audit log, and sets security headers."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from aiohttp import web

from sereno.auth.principal import (
    CSRF_KEY,
    NOBODY,
    PRINCIPAL_KEY,
    Principal,
    Role,
    can,
    principal_of,
)
from sereno.auth.records import Outcome
from sereno.auth.routes import Gate, RouteRule, rule_for
from sereno.auth.service import AUTH, SESSION_COOKIE, AuthService, DeniedError, Identity

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
AUDIT_ACTOR_KEY = web.RequestKey("sereno.audit_actor", Principal)
"""A handler that learns who acted (the sign-in) names them here for the audit entry."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)


def _error(status: int, message: str, field: str, problem: str) -> web.Response:
    body = {"error": message, "detail": [{"field": field, "problem": problem}]}
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def _cross_site(request: web.Request) -> bool:
    """Whether a browser says the request comes from another site's page."""
    if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
        return True
    origin = request.headers.get("Origin")
    if origin is None:
        return False
    # Behind a proxy that does not pass the Host on, the page's origin is public_url's.
    public = urlsplit(request.app[AUTH].settings.public_url).netloc
    return origin == "null" or urlsplit(origin).netloc not in (request.host, public)


def check_write(request: web.Request, identity: Identity) -> None:
    """A write must not be one a page of another site can make a browser send: no
    cross-site origin, a JSON body when there is one (never a form or text/plain, which a
    browser sends without asking), and under a sign-in cookie the session's CSRF token."""
    if _cross_site(request):
        raise DeniedError(403, "cross-site request refused", "Origin", "another site")
    # An empty body says nothing, whatever its type; any other must be JSON.
    empty = request.content_length == 0 or not request.body_exists
    if not empty and request.content_type != "application/json":
        raise DeniedError(
            415, "send the body as JSON (Content-Type: application/json)",
            "Content-Type", f"{request.content_type}: use application/json",
        )  # fmt: skip
    if identity.session is not None:
        presented = request.headers.get("X-CSRF-Token", "")
        if not hmac.compare_digest(presented.encode(), identity.session.csrf.encode()):
            raise DeniedError(
                403, "missing or wrong X-CSRF-Token for this sign-in", "X-CSRF-Token", "wrong"
            )


def check_role(request: web.Request, rule: RouteRule, principal: Principal) -> None:
    """The principal holds the rule's role, or, for an incident route, holds it in some
    group (the handler then checks the incident's group)."""
    access = rule.access
    if access is Gate.PUBLIC or (access is Gate.LOCAL and _loopback(request)):
        return
    needed = access if not isinstance(access, Gate) else Role.VIEWER
    strongest = principal.max_role()
    if can(principal, needed) or (
        rule.group_scoped and strongest is not None and strongest >= needed
    ):
        return
    if not principal.authenticated and principal.role is None:
        raise DeniedError(401, "sign in, or send an API token: Authorization: Bearer srn_...",
                          "Authorization", "missing")  # fmt: skip
    raise DeniedError(403, f"this needs the {needed} role", "(role)",
                      f"{principal.name} is {principal.role or 'no role'}")  # fmt: skip


def _needs_nobody(request: web.Request, rule: RouteRule) -> bool:
    """Whether anyone at all may use the route from where the request comes."""
    return rule.access is Gate.PUBLIC or (rule.access is Gate.LOCAL and _loopback(request))


def _carries_credential(request: web.Request, auth: AuthService) -> bool:
    header = auth.settings.auth.trusted_header.header
    return any(h in request.headers for h in ("Authorization", header)) or bool(
        request.cookies.get(SESSION_COOKIE)
    )


def _outcome(status: int) -> Outcome:
    if status < 400:
        return "allowed"
    return "denied" if status in (401, 403, 429) else "failed"


def _wants_page(request: web.Request) -> bool:
    return (
        request.method == "GET"
        and not request.path.startswith("/api/")
        and "text/html" in request.headers.get("Accept", "")
    )


async def _refuse(
    request: web.Request, auth: AuthService, rule: RouteRule, principal: Principal, e: DeniedError
) -> web.StreamResponse:
    # A refused write, or a credential that did not do: an attempt worth recording. A read
    # with no credential at all is only someone not signed in yet (a browser on its way
    # to the sign-in page), and recording each would let anyone fill the log.
    if request.method not in SAFE_METHODS or _carries_credential(request, auth):
        await auth.audit(request, principal, rule.action, "denied", e.status, e.message)
    if e.status == 401 and _wants_page(request):
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='')}")
    return _error(e.status, e.message, e.field, e.problem)


@web.middleware
async def access(request: web.Request, handler: Handler) -> web.StreamResponse:
    route = request.match_info.route
    if route.resource is None:
        return await handler(request)  # no such route or method: the handler says so
    rule = rule_for(request.method, route.resource.canonical)
    auth = request.app[AUTH]
    if rule is None:
        log.error("refused %s %s: the route has no access rule", request.method, request.path)
        return _error(403, "this route has no access rule", "(route)", "not in the table")
    if rule.access is Gate.SOURCE:
        return await handler(request)  # the source's own credential, checked by its handler
    principal = NOBODY
    try:
        if _needs_nobody(request, rule) and not _carries_credential(request, auth):
            # Health, readiness and metrics answer even while the store is away.
            identity = Identity(NOBODY)
        else:
            identity = await auth.identify(request) or Identity(NOBODY)
        principal = identity.principal
        if request.method not in SAFE_METHODS and rule.access is not Gate.PUBLIC:
            check_write(request, identity)
        check_role(request, rule, principal)
    except DeniedError as e:
        return await _refuse(request, auth, rule, principal, e)
    request[PRINCIPAL_KEY] = principal
    request[CSRF_KEY] = identity.session.csrf if identity.session else auth.open_csrf
    if request.method in SAFE_METHODS:
        return await handler(request)
    status, detail = 500, "internal error"
    try:
        response = await handler(request)
        status, detail = response.status, ""
    except web.HTTPException as e:
        status, detail = e.status, e.reason
        raise
    finally:
        who = request.get(AUDIT_ACTOR_KEY) or principal_of(request)
        await auth.audit(request, who, rule.action, _outcome(status), status, detail)
    return response


async def security_headers(_: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer is never sniffed; every page also gets a strict
    Content-Security-Policy and may not be framed."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
