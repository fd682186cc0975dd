"""Who is looking at the console, and the token their writes carry.

Sign-in lives in `sereno.auth`; this module is the console's only view of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

from sereno.auth.principal import csrf_token, principal_of

ConsoleRole = Literal["viewer", "operator", "admin"]
_RANK = {"viewer": 0, "operator": 1, "admin": 2}
ACTOR_IN_BODY = False
"""The write API takes the actor from the signed-in principal, never from the body."""


@dataclass(frozen=True, slots=True)
class ConsolePrincipal:
    """Whoever the page is for: `groups` are the support groups they belong to."""

    name: str
    role: ConsoleRole
    groups: tuple[str, ...] = ()
    kind: str = "anonymous"

    def may(self, role: ConsoleRole) -> bool:
        return _RANK[self.role] >= _RANK[role]


def current(request: web.Request) -> ConsolePrincipal:
    """The principal of `request` as the console shows it: the role it holds at most, and
    the support groups it belongs to."""
    principal = principal_of(request)
    role = principal.max_role()
    return ConsolePrincipal(
        name=principal.name,
        role=role.value if role is not None else "viewer",
        groups=tuple(dict.fromkeys(group for group, _ in principal.groups)),
        kind=principal.kind,
    )


def csrf(request: web.Request) -> str:
    """The token the page sends back in the X-CSRF-Token header of its writes."""
    return csrf_token(request)
