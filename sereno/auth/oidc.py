"""Single sign-on with OpenID Connect: the authorization code flow with PKCE, the ID token
checked by joserfc against the provider's published keys (signature, issuer, audience,
expiry, nonce), and the role taken from a claim.

GET /login/oidc sends the browser to the provider; GET /login/oidc/callback takes it back,
signs the person in and sends them on. The flow's state lives in this process for ten
minutes and is bound to the browser by a cookie, so another site cannot finish a sign-in
into someone else's browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from urllib.parse import quote_plus, urlencode

import aiohttp
from aiohttp import web
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from core.config import OidcSettings
from sereno.auth.login import see_other, set_session_cookie
from sereno.auth.login_form import safe_next
from sereno.auth.middleware import AUDIT_ACTOR_KEY
from sereno.auth.principal import Principal, Role
from sereno.auth.records import NAME_PATTERN, Outcome
from sereno.auth.service import AUTH

log = logging.getLogger(__name__)

FLOW_COOKIE = "sereno_oidc"
FLOW_TTL_S = 600.0
MAX_FLOWS = 10_000
CALLBACK_PATH = "/login/oidc/callback"
CLOCK_LEEWAY_S = 60


class OidcError(Exception):
    """The sign-in cannot finish; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Flow:
    nonce: str
    verifier: str
    redirect_uri: str
    next: str
    started: float


@dataclass(frozen=True, slots=True)
class Provider:
    authorization_endpoint: str
    token_endpoint: str
    keys: KeySet


def map_roles(
    config: OidcSettings, claims: dict[str, object]
) -> tuple[Role | None, dict[str, Role]]:
    """The role everywhere and the roles per group that the role claim's values map to."""
    raw = claims.get(config.role_claim, [])
    values = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
    everywhere: Role | None = Role(config.default_role) if config.default_role else None
    groups: dict[str, Role] = {}
    for value in values:
        mapped = config.roles.get(str(value))
        if mapped is None:
            continue
        role_name, _, group = mapped.partition(":")
        role = Role(role_name)
        if group:
            groups[group] = max(role, groups.get(group, role), key=lambda r: r.rank)
        elif everywhere is None or role > everywhere:
            everywhere = role
    return everywhere, groups


class OidcClient:
    """One provider: its discovery document and keys, fetched once, and the flows under way."""

    def __init__(self, config: OidcSettings) -> None:
        self.config = config
        self._provider: Provider | None = None
        self._flows: OrderedDict[str, Flow] = OrderedDict()

    async def _get_json(self, session: aiohttp.ClientSession, url: str) -> dict[str, object]:
        async with session.get(url) as response:
            if response.status != 200:
                raise OidcError(f"the identity provider answered {response.status} for {url}")
            body = await response.json(content_type=None)
        if not isinstance(body, dict):
            raise OidcError(f"the identity provider sent no JSON object at {url}")
        return body

    async def provider(self, session: aiohttp.ClientSession) -> Provider:
        if self._provider is None:
            issuer = self.config.issuer.rstrip("/")
            meta = await self._get_json(session, f"{issuer}/.well-known/openid-configuration")
            if str(meta.get("issuer", "")).rstrip("/") != issuer:
                raise OidcError("the provider's discovery document names another issuer")
            jwks = await self._get_json(session, str(meta["jwks_uri"]))
            self._provider = Provider(
                authorization_endpoint=str(meta["authorization_endpoint"]),
                token_endpoint=str(meta["token_endpoint"]),
                keys=KeySet.import_key_set(jwks),  # type: ignore[arg-type]
            )
        return self._provider

    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.config.timeout_s))

    async def start(self, redirect_uri: str, next_path: str) -> tuple[str, str]:
        """The provider's URL to send the browser to, and the flow's state."""
        async with self._session() as session:
            provider = await self.provider(session)
        state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
        self._forget_old()
        self._flows[state] = Flow(nonce, verifier, redirect_uri, next_path, time.monotonic())
        if len(self._flows) > MAX_FLOWS:
            self._flows.popitem(last=False)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode({
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": redirect_uri, "scope": " ".join(self.config.scopes),
            "state": state, "nonce": nonce,
            "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256",
        })  # fmt: skip
        return f"{provider.authorization_endpoint}?{query}", state

    def _forget_old(self) -> None:
        now = time.monotonic()
        while self._flows and now - next(iter(self._flows.values())).started > FLOW_TTL_S:
            self._flows.popitem(last=False)

    async def finish(self, state: str, code: str) -> tuple[dict[str, object], str]:
        """The ID token's checked claims, and where to send the person on."""
        self._forget_old()
        flow = self._flows.pop(state, None)
        if flow is None:
            raise OidcError("this sign-in has expired or was already used; start again")
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": flow.redirect_uri, "code_verifier": flow.verifier}  # fmt: skip
        headers = {}
        if self.config.client_secret is not None:
            # client_secret_basic: each part form-encoded first (RFC 6749, section 2.3.1).
            pair = f"{quote_plus(self.config.client_id)}:" + quote_plus(
                self.config.client_secret.reveal().decode()
            )
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = self.config.client_id
        async with self._session() as session:
            provider = await self.provider(session)
            async with session.post(
                provider.token_endpoint, data=form, headers=headers
            ) as response:
                text = await response.text()
        try:
            body = json.loads(text) if response.status == 200 else None
        except ValueError:
            body = None
        if not isinstance(body, dict):
            log.warning("token endpoint refused the code: %s %s", response.status, text[:300])
            raise OidcError("the identity provider refused the sign-in")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("the identity provider sent no ID token")
        return self._check(id_token, provider.keys, flow.nonce), flow.next

    def _check(self, id_token: str, keys: KeySet, nonce: str) -> dict[str, object]:
        try:
            token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
            registry = jwt.JWTClaimsRegistry(
                leeway=CLOCK_LEEWAY_S,
                iss={"essential": True, "value": self.config.issuer.rstrip("/")},
                aud={"essential": True, "value": self.config.client_id},
                exp={"essential": True},
                sub={"essential": True},
                nonce={"essential": True, "value": nonce},
            )
            registry.validate(token.claims)
        except (JoseError, ValueError) as e:
            log.warning("ID token refused: %s", e)
            raise OidcError("the ID token did not check out") from e
        return dict(token.claims)


OIDC = web.AppKey("oidc", OidcClient)


def _redirect_uri(request: web.Request) -> str:
    base = request.app[AUTH].settings.public_url.rstrip("/")
    return (base or f"{request.scheme}://{request.host}") + CALLBACK_PATH


def _client(request: web.Request) -> OidcClient:
    if OIDC not in request.app:
        raise web.HTTPNotFound(reason="single sign-on is not configured (auth.oidc)")
    return request.app[OIDC]


async def start_login(request: web.Request) -> web.StreamResponse:
    client = _client(request)
    try:
        url, state = await client.start(
            _redirect_uri(request), safe_next(request.query.get("next", "/"))
        )
    except (OidcError, aiohttp.ClientError, TimeoutError) as e:
        log.warning("single sign-on unavailable: %s", e)
        raise web.HTTPBadGateway(reason="the identity provider cannot be reached") from e
    response = see_other(url)
    auth = request.app[AUTH]
    response.set_cookie(FLOW_COOKIE, state, httponly=True, samesite="Lax", path="/login/oidc",
                        secure=auth.secure_cookies, max_age=int(FLOW_TTL_S))  # fmt: skip
    return response


def _refused(message: str) -> web.Response:
    return web.json_response(
        {"error": message, "detail": [{"field": "(sign-in)", "problem": message}]}, status=403
    )


async def finish_login(request: web.Request) -> web.StreamResponse:
    """The provider's answer; a GET, so it is audited here rather than by the middleware."""
    response = await _finish_login(request)
    who = request.get(AUDIT_ACTOR_KEY) or Principal("anonymous", None, kind="anonymous")
    outcome: Outcome = "allowed" if response.status < 400 else "denied"
    await request.app[AUTH].audit(request, who, "login.oidc", outcome, response.status)
    return response


async def _finish_login(request: web.Request) -> web.StreamResponse:
    client, auth = _client(request), request.app[AUTH]
    state, code = request.query.get("state", ""), request.query.get("code", "")
    bound = request.cookies.get(FLOW_COOKIE, "")
    if not state or not code or not bound or not hmac.compare_digest(state, bound):
        return _refused("this sign-in was not started from this browser; start again")
    try:
        claims, next_path = await client.finish(state, code)
    except OidcError as e:
        return _refused(str(e))
    except (aiohttp.ClientError, TimeoutError) as e:
        raise web.HTTPBadGateway(reason="the identity provider cannot be reached") from e
    name = str(claims.get(client.config.username_claim) or claims["sub"])
    request[AUDIT_ACTOR_KEY] = Principal(name, None, kind="sso")
    if not re.fullmatch(NAME_PATTERN, name):
        return _refused(f"the provider's {client.config.username_claim} is not a user name")
    role, groups = map_roles(client.config, claims)
    local = await auth.store.get_user(name)
    if local is not None and local.disabled:
        return _refused(f"user {name} is disabled")
    if role is None and not groups:
        return _refused(f"{name} has no role in Sereno: no {client.config.role_claim} maps one")
    principal = Principal(name, role, tuple(sorted(groups.items())), kind="sso")
    request[AUDIT_ACTOR_KEY] = principal
    secret, _ = await auth.start_session(principal)
    response = see_other(next_path)
    set_session_cookie(response, auth, secret)
    response.del_cookie(FLOW_COOKIE, path="/login/oidc")
    return response


def add_routes(app: web.Application, config: OidcSettings | None) -> None:
    if config is not None:
        app[OIDC] = OidcClient(config)
    app.router.add_get("/login/oidc", start_login)
    app.router.add_get(CALLBACK_PATH, finish_login)
