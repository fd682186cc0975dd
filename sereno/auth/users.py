"""Making and changing users, for the API and the `sereno users` command alike."""

from __future__ import annotations

from datetime import datetime

from sereno.auth.passwords import hash_password, password_problem
from sereno.auth.principal import Role
from sereno.auth.records import User
from sereno.auth.store import AuthStore


class UserError(ValueError):
    """A user that cannot be made as asked; `field` names why."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


async def add_user(
    store: AuthStore,
    name: str,
    role: Role,
    password: str,
    now: datetime,
    groups: dict[str, Role] | None = None,
    by: str = "",
) -> User:
    """A new local user; UserError if the name is taken or the password too weak.
    An empty password makes a user who signs in only through single sign-on or a proxy."""
    if password and (problem := password_problem(password)):
        raise UserError("password", problem)
    try:
        user = User(
            name=name, role=role, groups=groups or {}, created_at=now, created_by=by,
            password_hash=hash_password(password) if password else "",
        )  # fmt: skip
    except ValueError as e:
        raise UserError("name", "letters, digits and . _ @ - only, up to 128") from e
    if not await store.add_user(user):
        raise UserError("name", f"a user named {name} already exists")
    return user
