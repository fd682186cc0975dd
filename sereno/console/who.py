"""Who is looking at the console, and the token their writes carry.

Sign-in lives elsewhere; this module is the console's only view of it. Until a request
names its principal, the console is what an open Sereno on loopback is: an anonymous
operator who may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiohttp import web

ConsoleRole = Literal["viewer", "operator", "admin"]
_RANK = {"viewer": 0, "operator": 1, "admin": 2}
ACTOR_IN_BODY = True
"""The write API takes the actor from the body (`by`, `created_by`). Once sign-in names
the principal on every request, the API takes it from there and this is False."""


@dataclass(frozen=True, slots=True)
class ConsolePrincipal:
    """Whoever the page is for: `groups` are the support groups they belong to."""

    name: str
    role: ConsoleRole
    groups: tuple[str, ...] = ()
    kind: str = "anonymous"

    def may(self, role: ConsoleRole) -> bool:
        return _RANK[self.role] >= _RANK[role]


ANONYMOUS = ConsolePrincipal(name="anonymous", role="operator")


PRINCIPAL = web.RequestKey("principal", ConsolePrincipal)
"""Where sign-in leaves the principal of a request."""


def current(request: web.Request) -> ConsolePrincipal:
    """The principal of `request`, or the anonymous operator of an open Sereno."""
    return request[PRINCIPAL] if PRINCIPAL in request else ANONYMOUS  # noqa: SIM401 - .get is untyped


CSRF = web.RequestKey("csrf_token", str)
"""Where sign-in leaves the token of the page's writes."""


def csrf(request: web.Request) -> str:
    """The token the page sends back in the X-CSRF-Token header of its writes; empty
    while nobody signs in (an open Sereno checks none)."""
    return request[CSRF] if CSRF in request else ""  # noqa: SIM401 - .get is untyped
