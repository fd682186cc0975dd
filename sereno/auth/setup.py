"""Puts auth into the application: its store, middleware, headers and routes, and the
start-up check that refuses an open Sereno beyond loopback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core.clock import Clock
from core.config import Settings
from sereno.auth import admin, login, oidc
from sereno.auth.middleware import access, security_headers
from sereno.auth.service import AUTH, AuthService, open_auth_store

log = logging.getLogger("sereno.auth")


class OpenBeyondLoopbackError(RuntimeError):
    """Listening beyond loopback with no user, and `auth.allow_open` not set."""


async def _auth_ctx(app: web.Application) -> AsyncIterator[None]:
    service = app[AUTH]
    settings = service.settings
    try:
        if await service.store.has_users():
            pass
        elif service.sign_in_configured:
            log.info("no local user yet; people sign in through %s",
                     "single sign-on" if settings.auth.oidc else "the trusted proxy")  # fmt: skip
        elif not settings.loopback and not settings.auth.allow_open:
            msg = (
                f"refusing to serve on {settings.listen} with no user: anyone who can "
                "reach it could do anything. Create the first admin with `sereno users "
                "add NAME --role admin`, listen on 127.0.0.1, or set auth.allow_open: true"
            )
            raise OpenBeyondLoopbackError(msg)
        else:
            log.warning(
                "the API is OPEN: no user exists, so anyone reaching %s may do anything. "
                "Create the first admin with `sereno users add NAME --role admin`.",
                settings.listen,
            )
        yield
    finally:
        await service.store.close()


def install(app: web.Application, settings: Settings, clock: Clock) -> None:
    """Add the access middleware (after any already there), the auth routes and store."""
    app[AUTH] = AuthService(settings, open_auth_store(settings), clock)
    app.middlewares.append(access)
    app.on_response_prepare.append(security_headers)
    app.cleanup_ctx.append(_auth_ctx)
    login.add_routes(app)
    admin.add_routes(app)
    oidc.add_routes(app, settings.auth.oidc)
