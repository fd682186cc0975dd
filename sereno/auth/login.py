"""The sign-in page: GET and POST /login, POST /logout.

The form carries a token that must equal a cookie set with the page (a double submit),
so another site cannot sign a browser in under its own account; a failed sign-in counts
toward the user's lockout and the address's rate limit.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Literal

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sereno.auth.login_form import LoginFormError, parse_login_form, safe_next
from sereno.auth.middleware import AUDIT_ACTOR_KEY
from sereno.auth.passwords import verify_password
from sereno.auth.principal import Principal, csrf_token
from sereno.auth.service import AUTH, SESSION_COOKIE, AuthService, user_principal
from sereno.auth.tokens import digest

FORM_COOKIE = "sereno_login"

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Sign in",
        "name": "User name",
        "password": "Password",
        "submit": "Sign in",
        "wrong": "Wrong user name or password, or the account is locked for a while.",
        "bad_form": "The form had expired; please try again.",
        "slow_down": "Too many attempts from here; wait a minute and try again.",
        "missing": "Write your user name and password.",
    },
    "es": {
        "title": "Iniciar sesión",
        "name": "Usuario",
        "password": "Contraseña",
        "submit": "Entrar",
        "wrong": "Usuario o contraseña incorrectos, o la cuenta está bloqueada un rato.",
        "bad_form": "El formulario había caducado; inténtelo de nuevo.",
        "slow_down": "Demasiados intentos desde aquí; espere un minuto y vuelva a intentarlo.",
        "missing": "Escriba su usuario y su contraseña.",
    },
}

_env = Environment(
    loader=PackageLoader("sereno.auth", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    undefined=StrictUndefined,
    auto_reload=False,
)


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def set_session_cookie(response: web.StreamResponse, auth: AuthService, secret: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, secret, httponly=True, samesite="Lax", path="/",
        secure=auth.secure_cookies, max_age=int(auth.settings.auth.session_ttl.total_seconds()),
    )  # fmt: skip


def login_page(
    request: web.Request,
    error: Literal["", "wrong", "bad_form", "slow_down", "missing"] = "",
    status: int = 200,
    name: str = "",
    next_path: str = "/",
) -> web.Response:
    auth = request.app[AUTH]
    language = auth.settings.language
    texts = TEXTS[language]
    form_token = secrets.token_urlsafe(32)
    oidc = auth.settings.auth.oidc
    html = _env.get_template("login.html.j2").render(
        language=language, t=texts, error=texts[error] if error else "", name=name,
        next=next_path, form_token=form_token, sso_label=oidc.label if oidc else "",
    )  # fmt: skip
    response = web.Response(text=html, status=status, content_type="text/html")
    response.set_cookie(
        FORM_COOKIE, form_token, httponly=True, samesite="Strict", path="/login",
        secure=auth.secure_cookies, max_age=3600,
    )  # fmt: skip
    return response


async def get_login(request: web.Request) -> web.Response:
    return login_page(request, next_path=safe_next(request.query.get("next", "/")))


async def post_login(request: web.Request) -> web.StreamResponse:
    auth = request.app[AUTH]
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    next_path = safe_next(form.get("next", "/"))
    cookie = request.cookies.get(FORM_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, form.get("csrf_token", "")):
        return login_page(request, "bad_form", 403, next_path=next_path)
    if auth.login_allowed(request.remote or "") > 0:
        return login_page(request, "slow_down", 429, next_path=next_path)
    try:
        parsed = parse_login_form(form)
    except LoginFormError:
        return login_page(request, "missing", 400, next_path=next_path)
    request[AUDIT_ACTOR_KEY] = Principal(parsed.name, None, kind="user")
    user = await auth.store.get_user(parsed.name)
    now = auth.clock.now()
    locked = user is not None and user.locked_until is not None and now < user.locked_until
    matches = verify_password(user.password_hash if user else "", parsed.password)
    if user is None or user.disabled or locked or not matches:
        if user is not None and not locked and not matches:
            failures = user.failures + 1
            if failures >= auth.settings.auth.login_attempts:
                user = user.model_copy(
                    update={"failures": 0, "locked_until": now + auth.settings.auth.lockout}
                )
            else:
                user = user.model_copy(update={"failures": failures})
            await auth.store.put_user(user)
        return login_page(request, "wrong", 401, name=parsed.name, next_path=parsed.next)
    if user.failures or user.locked_until:
        await auth.store.put_user(user.model_copy(update={"failures": 0, "locked_until": None}))
    principal = user_principal(user)
    secret, _ = await auth.start_session(principal)
    response = see_other(parsed.next)
    set_session_cookie(response, auth, secret)
    response.del_cookie(FORM_COOKIE, path="/login")
    request[AUDIT_ACTOR_KEY] = principal
    return response


async def post_logout(request: web.Request) -> web.StreamResponse:
    """Ends the sign-in; the form (or an X-CSRF-Token header) carries the session's CSRF
    token, so another site cannot sign anyone out."""
    auth = request.app[AUTH]
    cookie = request.cookies.get(SESSION_COOKIE, "")
    presented = request.headers.get("X-CSRF-Token", "")
    if not presented and request.content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get("csrf_token", "")
        presented = value if isinstance(value, str) else ""
    expected = csrf_token(request)
    if cookie and (not expected or not hmac.compare_digest(presented, expected)):
        return web.json_response(
            {"error": "missing or wrong CSRF token", "detail": [
                {"field": "csrf_token", "problem": "wrong"}]},
            status=403,
        )  # fmt: skip
    if cookie:
        await auth.store.delete_session(digest(cookie))
    response = see_other("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    return response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/login", get_login)
    app.router.add_post("/login", post_login)
    app.router.add_post("/logout", post_logout)
