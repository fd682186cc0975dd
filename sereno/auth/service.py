"""Who a request comes from: an API token, a sign-in session, or a trusted proxy's header.

One AuthService per application, in `app[AUTH]`; it owns the auth store.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from aiohttp import web

from core.clock import Clock
from core.config import Settings
from core.storage import DATA_FILE
from ingest.guard import TokenBucket
from sereno.auth.principal import OPEN_ANONYMOUS, Principal, PrincipalKind, Role
from sereno.auth.records import NAME_PATTERN, AuditEntry, Outcome, Session, User
from sereno.auth.store import AuthStore
from sereno.auth.store_redis import RedisAuthStore
from sereno.auth.store_sqlite import SqliteAuthStore
from sereno.auth.tokens import CredentialError, digest, parse_bearer

log = logging.getLogger(__name__)

SESSION_COOKIE = "sereno_session"
TOKEN_TOUCH_EVERY = timedelta(minutes=1)
"""A token's last use is written at most this often, so reads stay reads."""
MAX_TRACKED_ADDRESSES = 10_000


def open_auth_store(settings: Settings) -> AuthStore:
    """The auth store beside the pipeline's data: the same Redis prefix, or the same file."""
    if settings.redis_url:
        return RedisAuthStore(settings.redis_url, settings.redis_prefix)
    return SqliteAuthStore(Path(settings.data_dir) / DATA_FILE)


class DeniedError(Exception):
    """A request refused before its handler: 401 (who are you?), 403 (not you), 429."""

    def __init__(self, status: int, message: str, field: str, problem: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Identity:
    principal: Principal
    session: Session | None = None


def user_principal(user: User, kind: PrincipalKind = "user") -> Principal:
    return Principal(
        name=user.name, role=user.role, groups=tuple(sorted(user.groups.items())), kind=kind
    )


class AuthService:
    def __init__(self, settings: Settings, store: AuthStore, clock: Clock) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._has_users = False
        self._login_buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._proxies = [
            ipaddress.ip_network(p, strict=False) for p in settings.auth.trusted_header.proxies
        ]
        self.secure_cookies = (
            settings.auth.cookie_secure
            if settings.auth.cookie_secure is not None
            else settings.public_url.startswith("https://")
        )
        # Requests without a sign-in in open mode still get a CSRF token to echo.
        self.open_csrf = secrets.token_urlsafe(32)

    @property
    def sign_in_configured(self) -> bool:
        """Single sign-on or a trusted proxy: people come from elsewhere than local users."""
        auth = self.settings.auth
        return auth.oidc is not None or auth.trusted_header.enabled

    async def is_open(self) -> bool:
        """Open: anyone may do anything, because no user exists yet, no single sign-on is
        configured, and Sereno listens on loopback only (or `auth.allow_open` says so).
        Users are never deleted, so once one exists the answer stays no."""
        if self.sign_in_configured:
            return False
        if not self._has_users:
            self._has_users = await self.store.has_users()
        return not self._has_users and (self.settings.loopback or self.settings.auth.allow_open)

    async def identify(self, request: web.Request) -> Identity | None:
        """Whoever the request's credential names; None when it carries none.
        DeniedError when it carries one that is wrong, expired or revoked."""
        header = request.headers.get("Authorization")
        if header is not None:
            return Identity(await self._from_token(header, request.remote or ""))
        trusted = await self._from_trusted_header(request)
        if trusted is not None:
            return Identity(trusted)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            return await self._from_session(cookie)
        if await self.is_open():
            return Identity(OPEN_ANONYMOUS)
        return None

    async def _from_token(self, header: str, source: str) -> Principal:
        try:
            secret = parse_bearer(header)
        except CredentialError as e:
            raise DeniedError(401, f"bad credentials: {e}", "Authorization", str(e)) from None
        token = await self.store.find_token(digest(secret))
        now = self.clock.now()
        if token is None:
            raise DeniedError(401, "unknown API token", "Authorization", "unknown token")
        if token.revoked_at is not None:
            raise DeniedError(401, "this API token was revoked", "Authorization", "revoked")
        if now >= token.expires_at:
            raise DeniedError(401, "this API token has expired", "Authorization", "expired")
        if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_EVERY:
            await self.store.put_token(
                token.model_copy(update={"last_used_at": now, "last_used_from": source})
            )
        return Principal(
            name=token.owner,
            role=token.role,
            groups=tuple(sorted(token.groups.items())),
            kind="token",
        )

    async def _from_trusted_header(self, request: web.Request) -> Principal | None:
        config = self.settings.auth.trusted_header
        name = request.headers.get(config.header, "").strip()
        if not config.enabled or not name:
            return None
        try:
            peer = ipaddress.ip_address(request.remote or "")
        except ValueError:
            return None
        if not any(peer in network for network in self._proxies):
            log.warning("%s header from %s, which is not a trusted proxy: ignored",
                        config.header, peer)  # fmt: skip
            return None
        if not re.fullmatch(NAME_PATTERN, name):
            raise DeniedError(401, f"the proxy's {config.header} is not a user name",
                              config.header, "not a user name")  # fmt: skip
        user = await self.store.get_user(name)
        if user is not None:
            if user.disabled:
                raise DeniedError(403, f"user {name} is disabled", config.header, "disabled")
            return user_principal(user, kind="sso")
        return Principal(name=name, role=Role(config.default_role), kind="sso")

    async def _from_session(self, cookie: str) -> Identity | None:
        session = await self.store.get_session(digest(cookie), self.clock.now())
        if session is None:
            return None  # expired or signed out: as if no cookie had come
        if session.kind == "user":
            # Roles are read afresh, so a user disabled or demoted loses power at once.
            user = await self.store.get_user(session.name)
            if user is None or user.disabled:
                return None
            return Identity(user_principal(user), session)
        principal = Principal(
            name=session.name,
            role=session.role,
            groups=tuple(sorted(session.groups.items())),
            kind=session.kind,
        )
        return Identity(principal, session)

    async def start_session(self, principal: Principal) -> tuple[str, Session]:
        """A new sign-in for `principal`: the cookie's secret, and the session kept."""
        secret = secrets.token_urlsafe(32)
        now = self.clock.now()
        session = Session(
            digest=digest(secret),
            name=principal.name,
            kind=principal.kind,
            role=principal.role,
            groups=dict(principal.groups),
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + self.settings.auth.session_ttl,
        )
        await self.store.add_session(session)
        return secret, session

    def login_allowed(self, address: str) -> float:
        """Take one sign-in attempt from `address`; 0 when allowed, else seconds to wait."""
        bucket = self._login_buckets.get(address)
        if bucket is None:
            per_s = self.settings.auth.login_rate_per_minute / 60
            bucket = TokenBucket(per_s, max(1.0, self.settings.auth.login_rate_per_minute))
            self._login_buckets[address] = bucket
            if len(self._login_buckets) > MAX_TRACKED_ADDRESSES:
                self._login_buckets.popitem(last=False)
        self._login_buckets.move_to_end(address)
        # The buckets run on the monotonic clock, not the pipeline's (which may be virtual).
        return bucket.take(time.monotonic())

    async def audit(
        self,
        request: web.Request,
        principal: Principal,
        action: str,
        outcome: Outcome,
        status: int,
        detail: str = "",
    ) -> None:
        target = "/".join(f"{k}={v}" for k, v in request.match_info.items())
        await self.store.append_audit(
            AuditEntry(
                at=self.clock.now(),
                actor=principal.name,
                actor_kind=principal.kind,
                action=action,
                target=target,
                source=request.remote or "",
                outcome=outcome,
                status=status,
                detail=detail[:1024],
            )
        )


AUTH = web.AppKey("auth", AuthService)
