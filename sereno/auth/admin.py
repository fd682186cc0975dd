"""Users, API tokens, the audit log and "who am I", by API."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from core.rules import Duration
from sereno.auth.bodies import json_error, read_body
from sereno.auth.passwords import hash_password, password_problem
from sereno.auth.principal import Role, csrf_token, principal_of
from sereno.auth.records import ApiToken
from sereno.auth.service import AUTH
from sereno.auth.tokens import digest, new_token, new_token_id
from sereno.auth.users import UserError, add_user

MAX_AUDIT = 10_000


class UserRequest(BaseModel):
    """A user to create."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128)
    role: Role
    groups: dict[str, Role] = Field(default_factory=dict, description="group -> role there")
    password: str = Field(default="", max_length=1024, description="Empty: sign-in by SSO only")


class UserChange(BaseModel):
    """What to change of a user; what is left out stays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: Role | None = None
    groups: dict[str, Role] | None = None
    password: str | None = Field(default=None, max_length=1024)
    disabled: bool | None = None


class TokenRequest(BaseModel):
    """An API token to make; its secret is in the answer, once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=128, description="What it is for")
    role: Role
    groups: dict[str, Role] = Field(default_factory=dict)
    owner: str = Field(default="", max_length=128, description="Default: whoever makes it")
    expires_in: Duration = Field(default=timedelta(days=90), description="e.g. 90d, 12h")


async def me(request: web.Request) -> web.Response:
    principal = principal_of(request)
    return web.json_response(
        {
            "name": principal.name,
            "kind": principal.kind,
            "role": principal.role,
            "groups": dict(principal.groups),
            "csrf_token": csrf_token(request),
        }
    )


async def list_users(request: web.Request) -> web.Response:
    users = await request.app[AUTH].store.list_users()
    shown = [u.model_dump(mode="json", exclude={"password_hash"}) for u in users]
    return web.json_response({"users": shown, "count": len(shown)})


def _signed_in_admin(request: web.Request) -> None:
    """Users and tokens are made by a signed-in admin, never by the open API's anonymous:
    the first admin comes from the command line."""
    if not principal_of(request).authenticated:
        raise json_error(
            web.HTTPForbidden, "create the first admin with `sereno users add NAME --role admin`",
            [("(role)", "users and tokens are made by a signed-in admin")],
        )  # fmt: skip


async def create_user(request: web.Request) -> web.Response:
    _signed_in_admin(request)
    auth = request.app[AUTH]
    asked = await read_body(request, UserRequest)
    try:
        user = await add_user(
            auth.store, asked.name, asked.role, asked.password, auth.clock.now(),
            asked.groups, by=principal_of(request).name,
        )  # fmt: skip
    except UserError as e:
        kind = web.HTTPConflict if "exists" in e.problem else web.HTTPUnprocessableEntity
        raise json_error(kind, str(e), [(e.field, e.problem)]) from None
    return web.json_response(user.model_dump(mode="json", exclude={"password_hash"}), status=201)


async def update_user(request: web.Request) -> web.Response:
    _signed_in_admin(request)
    auth = request.app[AUTH]
    name = request.match_info["name"]
    change = await read_body(request, UserChange)
    user = await auth.store.get_user(name)
    if user is None:
        raise json_error(web.HTTPNotFound, f"no user {name}", [("name", "no such user")])
    update: dict[str, object] = change.model_dump(exclude_none=True, exclude={"password"})
    if change.password is not None:
        if problem := password_problem(change.password):
            raise json_error(web.HTTPUnprocessableEntity, f"password: {problem}",
                             [("password", problem)])  # fmt: skip
        update |= {"password_hash": hash_password(change.password), "locked_until": None,
                   "failures": 0}  # fmt: skip
    user = user.model_copy(update=update)
    await auth.store.put_user(user)
    return web.json_response(user.model_dump(mode="json", exclude={"password_hash"}))


async def list_tokens(request: web.Request) -> web.Response:
    tokens = await request.app[AUTH].store.list_tokens()
    return web.json_response({"tokens": [t.public() for t in tokens], "count": len(tokens)})


async def create_token(request: web.Request) -> web.Response:
    _signed_in_admin(request)
    auth = request.app[AUTH]
    asked = await read_body(request, TokenRequest)
    longest = auth.settings.auth.token_max_ttl
    if not timedelta(0) < asked.expires_in <= longest:
        raise json_error(web.HTTPUnprocessableEntity, "expires_in out of range",
                         [("expires_in", f"from 1s to {longest.days} days")])  # fmt: skip
    secret, now = new_token(), auth.clock.now()
    token = ApiToken(
        id=new_token_id(), name=asked.name, owner=asked.owner or principal_of(request).name,
        role=asked.role, groups=asked.groups, digest=digest(secret), created_at=now,
        expires_at=now + asked.expires_in,
    )  # fmt: skip
    await auth.store.add_token(token)
    return web.json_response(token.public() | {"token": secret}, status=201)


async def revoke_token(request: web.Request) -> web.Response:
    auth = request.app[AUTH]
    token_id = request.match_info["id"]
    token = await auth.store.get_token(token_id)
    if token is None:
        raise json_error(web.HTTPNotFound, f"no token {token_id}", [("id", "no such token")])
    if token.revoked_at is None:
        token = token.model_copy(update={"revoked_at": auth.clock.now()})
        await auth.store.put_token(token)
    return web.json_response(token.public())


async def list_audit(request: web.Request) -> web.Response:
    value = request.query.get("limit", "500")
    if not value.isdigit() or not 0 < int(value) <= MAX_AUDIT:
        raise json_error(web.HTTPBadRequest, "bad query parameter 'limit'",
                         [("limit", f"write a whole number from 1 to {MAX_AUDIT}")])  # fmt: skip
    entries = await request.app[AUTH].store.list_audit(int(value))
    return web.json_response(
        {"entries": [e.model_dump(mode="json") for e in entries], "count": len(entries)}
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/me", me)
    app.router.add_get("/api/v1/users", list_users)
    app.router.add_post("/api/v1/users", create_user)
    app.router.add_patch("/api/v1/users/{name}", update_user)
    app.router.add_get("/api/v1/tokens", list_tokens)
    app.router.add_post("/api/v1/tokens", create_token)
    app.router.add_delete("/api/v1/tokens/{id}", revoke_token)
    app.router.add_get("/api/v1/audit", list_audit)
