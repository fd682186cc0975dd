"""Users and API tokens put straight into a running app's auth store, for tests that act
as someone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from sereno.auth.principal import Role
from sereno.auth.records import ApiToken
from sereno.auth.service import AUTH, AuthService
from sereno.auth.tokens import digest, new_token, new_token_id
from sereno.auth.users import add_user

Client = TestClient[Any, Any]
PASSWORD = "correct horse battery staple"  # noqa: S105 - a test user's, on purpose


async def token_for(
    client: Client,
    name: str,
    role: Role,
    groups: dict[str, Role] | None = None,
    *,
    new_user: bool = True,
    expires_in: timedelta = timedelta(days=1),
) -> dict[str, str]:
    """Headers that act as `name` (a new user, with a password, unless `new_user` is
    False) through an API token of `role`."""
    return await issue(client.app[AUTH], name, role, groups, new_user=new_user,
                       expires_in=expires_in)  # fmt: skip


async def issue(
    auth: AuthService,
    name: str,
    role: Role,
    groups: dict[str, Role] | None = None,
    *,
    new_user: bool = True,
    expires_in: timedelta = timedelta(days=1),
) -> dict[str, str]:
    """`token_for`, on the auth service of an application started otherwise."""
    now = datetime.now(UTC)
    if new_user:
        await add_user(auth.store, name, role, PASSWORD, now, groups)
    secret = new_token()
    await auth.store.add_token(
        ApiToken(
            id=new_token_id(), name=f"{name}'s test token", owner=name, role=role,
            groups=groups or {}, digest=digest(secret), created_at=now,
            expires_at=now + expires_in,
        )
    )  # fmt: skip
    return {"Authorization": f"Bearer {secret}"}
