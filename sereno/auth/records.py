"""What the auth store keeps: users, API tokens, sign-in sessions and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.models import AwareDatetime
from sereno.auth.principal import PrincipalKind, Role

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$"


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class User(Record):
    """A local user. `password_hash` is an argon2 hash; empty for one who signs in only
    through single sign-on or the trusted proxy."""

    name: str = Field(pattern=NAME_PATTERN)
    role: Role
    groups: dict[str, Role] = Field(default_factory=dict)
    password_hash: str = ""
    created_at: AwareDatetime
    created_by: str = ""
    disabled: bool = False
    failures: int = Field(default=0, ge=0, description="Wrong passwords in a row")
    locked_until: AwareDatetime | None = None


class ApiToken(Record):
    """An API token: the secret itself is shown once and only its sha256 is kept."""

    id: str
    name: str = Field(min_length=1, max_length=128)
    owner: str
    role: Role
    groups: dict[str, Role] = Field(default_factory=dict)
    digest: str = Field(description="hex sha256 of the token")
    created_at: AwareDatetime
    expires_at: AwareDatetime
    revoked_at: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None
    last_used_from: str = ""

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at

    def public(self) -> dict[str, object]:
        """The token as an answer shows it: everything but its digest."""
        return self.model_dump(mode="json", exclude={"digest"})


class Session(Record):
    """A browser's sign-in; the cookie holds a secret whose sha256 is `digest`."""

    digest: str
    name: str
    kind: PrincipalKind
    role: Role | None
    groups: dict[str, Role] = Field(default_factory=dict)
    csrf: str
    created_at: AwareDatetime
    expires_at: AwareDatetime


Outcome = Literal["allowed", "denied", "failed"]


class AuditEntry(Record):
    """One attempt to change something, or to reach what one may not: who, what, when,
    from where, and how it ended."""

    at: AwareDatetime
    actor: str
    actor_kind: PrincipalKind
    action: str = Field(description="e.g. incident.acknowledge, silence.create, login")
    target: str = ""
    source: str = Field(default="", description="The client's address")
    outcome: Outcome
    status: int
    detail: str = ""
