"""API tokens: made with 256 random bits, shown once, kept as their sha256.

A token reads `srn_` and 43 URL-safe characters, so a leaked one is easy to spot in a log
or a repository, and it is never mistaken for an ingest source's token: the access
middleware does not look at ingest routes, and ingest never looks up API tokens.
"""

from __future__ import annotations

import hashlib
import re
import secrets

PREFIX = "srn_"
_TOKEN = re.compile(r"srn_[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def new_token_id() -> str:
    return "tok_" + secrets.token_hex(6)


def digest(secret: str) -> str:
    """The hex sha256 kept in place of a token or a session secret; its 256 random bits
    make a slow hash unnecessary."""
    return hashlib.sha256(secret.encode()).hexdigest()


class CredentialError(ValueError):
    """An Authorization header that cannot be an API token."""


def parse_bearer(header: str) -> str:
    """The API token in an `Authorization: Bearer <token>` header value.

    Raises CredentialError, naming the problem, for any other scheme or shape."""
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise CredentialError("use the Bearer scheme: Authorization: Bearer srn_...")
    token = rest.strip()
    if not _TOKEN.fullmatch(token):
        raise CredentialError("not a Sereno API token (they start with srn_)")
    return token
