"""The one place the rest of Sereno asks "who is this, and may they?".

`principal_of(request)` names whoever the request comes from, as the access middleware
established it; `can(principal, role, group)` says whether they hold at least `role`,
everywhere or in the support group `group`; `csrf_token(request)` is the token a page
puts in the `X-CSRF-Token` header of its writes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal

from aiohttp import web

PrincipalKind = Literal["user", "token", "anonymous", "sso"]


class Role(enum.StrEnum):
    """What a person may do; each role includes the ones below it.

    viewer reads; operator also acknowledges, resolves, assigns, comments and silences;
    admin also manages users, tokens, the rules and settings."""

    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    # Ordered by power, not alphabetically as their names would be.
    def __lt__(self, other: str) -> bool:
        return self.rank < Role(other).rank

    def __le__(self, other: str) -> bool:
        return self.rank <= Role(other).rank

    def __gt__(self, other: str) -> bool:
        return self.rank > Role(other).rank

    def __ge__(self, other: str) -> bool:
        return self.rank >= Role(other).rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever a request comes from.

    `role` holds everywhere (None: no role at all, e.g. nobody signed in); `groups` adds
    a role within a support group, e.g. (("redes", Role.OPERATOR),)."""

    name: str
    role: Role | None
    groups: tuple[tuple[str, Role], ...] = ()
    kind: PrincipalKind = "user"

    @property
    def authenticated(self) -> bool:
        return self.kind != "anonymous"

    def role_in(self, group: str | None) -> Role | None:
        """The strongest role this principal holds for `group` (or everywhere)."""
        held = [self.role] if self.role is not None else []
        held += [r for g, r in self.groups if group is not None and g == group]
        return max(held, default=None, key=lambda r: r.rank)

    def max_role(self) -> Role | None:
        """The strongest role held anywhere, in some group or everywhere."""
        held = [r for _, r in self.groups] + ([self.role] if self.role is not None else [])
        return max(held, default=None, key=lambda r: r.rank)


NOBODY = Principal(name="anonymous", role=None, kind="anonymous")
"""No credential, on a Sereno that requires one."""

OPEN_ANONYMOUS = Principal(name="anonymous", role=Role.ADMIN, kind="anonymous")
"""No credential, on a Sereno left open (loopback, no users yet): may do everything."""


PRINCIPAL_KEY = web.RequestKey("sereno.principal", Principal)
CSRF_KEY = web.RequestKey("sereno.csrf", str)
"""Request keys the access middleware fills in."""


def can(principal: Principal, role: Role, group: str | None = None) -> bool:
    """Whether `principal` holds at least `role`, everywhere or in support group `group`."""
    held = principal.role_in(group)
    return held is not None and held >= role


def principal_of(request: web.Request) -> Principal:
    """Who `request` comes from; NOBODY when the access middleware has not said."""
    return request[PRINCIPAL_KEY] if PRINCIPAL_KEY in request else NOBODY  # noqa: SIM401 - .get is untyped


def csrf_token(request: web.Request) -> str:
    """The token a page sends back in the X-CSRF-Token header (or `csrf_token` form field
    of /logout) with every write made under its sign-in cookie."""
    return request[CSRF_KEY] if CSRF_KEY in request else ""  # noqa: SIM401 - .get is untyped
