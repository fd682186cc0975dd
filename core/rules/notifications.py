"""Who is told what: notification channels, which group notifies which of them, escalation
policies, and the crisis committee's channels and update cadence.

Addresses that are secrets (a chat's incoming-webhook URL, an SMTP password) are never
written in the rules: a `SecretRef` names the environment variable or file holding them,
read when a message is delivered.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, StringConstraints, model_validator

from core.rules.base import Duration, Section
from core.secrets import read_secret

EmailAddress = Annotated[str, StringConstraints(pattern=r"^[^@\s<>]+@[^@\s<>]+$")]
"""An address such as ops@example.org."""


class SecretRef(Section):
    """A secret named in the rules, `{env: VARIABLE}` or `{file: PATH}`, read when used."""

    env: str | None = Field(default=None, min_length=1)
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.env is None) == (self.file is None):
            raise ValueError("write exactly one of {env: VARIABLE} or {file: PATH}")
        return self

    def reveal(self) -> str:
        """The secret's text; ValueError saying what is missing when it cannot be read."""
        return read_secret(self.env, self.file)


class ChannelType(enum.StrEnum):
    WEBHOOK = "webhook"
    """Generic JSON POST of the whole message."""
    SLACK = "slack"
    """Slack or Mattermost incoming webhook."""
    TEAMS = "teams"
    """Microsoft Teams incoming webhook (Workflows), with an Adaptive Card."""
    EMAIL = "email"
    """Email over SMTP, with a text and an HTML part."""


class Channel(Section):
    """Where messages go. Webhook-like channels need `url`; email needs `to`."""

    type: ChannelType
    url: SecretRef | None = Field(default=None, description="Webhook URL, from env or file")
    to: list[EmailAddress] = Field(default_factory=list, description="Email recipients")
    language: Literal["en", "es"] | None = Field(
        default=None, description="Language of its messages; the settings' language if unset"
    )

    @model_validator(mode="after")
    def _address(self) -> Self:
        if self.type is ChannelType.EMAIL and not self.to:
            raise ValueError("an email channel needs 'to': a list of addresses")
        if self.type is not ChannelType.EMAIL and self.url is None:
            raise ValueError(
                f"a {self.type.value} channel needs 'url': {{env: VARIABLE}} or {{file: PATH}}"
            )
        return self


class Smtp(Section):
    """The mail server email channels send through."""

    host: str = Field(min_length=1)
    port: int = Field(default=587, gt=0, lt=65536)
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls", description="STARTTLS after connecting, TLS from the start, or none"
    )
    username: str = ""
    password: SecretRef | None = None
    sender: EmailAddress = Field(description="The From address")
    timeout: Duration = timedelta(seconds=15)


class EscalationLevel(Section):
    channels: list[str] = Field(min_length=1)
    wait: Duration = Field(gt=timedelta(0), description="How long to wait for an acknowledgement")


class EscalationPolicy(Section):
    """Notify the first level, wait for an acknowledgement, then the next level; after the
    last, run the levels again `repeat` times. Acknowledgement or resolution stops it."""

    levels: list[EscalationLevel] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=20)


class GroupNotifications(Section):
    """How one support group hears of its incidents: its channels, or an escalation policy
    (whose first level is then its channels)."""

    channels: list[str] = Field(default_factory=list)
    escalation: str = ""

    @model_validator(mode="after")
    def _one(self) -> Self:
        if bool(self.channels) == bool(self.escalation):
            raise ValueError("give the group either 'channels' or 'escalation', one of the two")
        return self


class CrisisCommittee(Section):
    """Told once when an incident becomes a crisis, every `update_every` while it lasts,
    and once when it ends."""

    channels: list[str] = Field(default_factory=list)
    update_every: Duration = Field(default=timedelta(minutes=30), gt=timedelta(0))


class NotificationRules(Section):
    channels: dict[str, Channel] = Field(default_factory=dict)
    smtp: Smtp | None = None
    groups: dict[str, GroupNotifications] = Field(
        default_factory=dict, description="Support group: how it is notified"
    )
    default: GroupNotifications | None = Field(
        default=None, description="For incidents of a group not listed in 'groups'"
    )
    escalation: dict[str, EscalationPolicy] = Field(default_factory=dict)
    crisis_committee: CrisisCommittee = CrisisCommittee()

    def for_group(self, group: str) -> GroupNotifications | None:
        return self.groups.get(group, self.default)

    def levels(self, group: str) -> list[EscalationLevel]:
        """The group's escalation levels; one level without a wait when it has none."""
        found = self.for_group(group)
        if found is None:
            return []
        if found.escalation:
            policy = self.escalation.get(found.escalation)
            return list(policy.levels) if policy else []
        # One level that never waits: nothing to escalate to.
        return [EscalationLevel.model_construct(channels=found.channels, wait=timedelta(0))]

    def repeats(self, group: str) -> int:
        found = self.for_group(group)
        policy = self.escalation.get(found.escalation) if found and found.escalation else None
        return policy.repeat if policy else 0

    def cross_problems(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Names that refer to nothing, and email channels without a mail server."""
        problems: list[tuple[tuple[str | int, ...], str]] = []
        known = {"channel": sorted(self.channels), "escalation": sorted(self.escalation)}
        for loc, kind, name in self.references():
            if name not in known[kind]:
                choices = ", ".join(known[kind]) or f"(no {kind} defined yet)"
                problems.append((loc, f"unknown {kind} '{name}'; write one of: {choices}"))
        problems += [
            (("channels", name, "type"), "an email channel needs 'smtp:' (the mail server)")
            for name, channel in self.channels.items()
            if channel.type is ChannelType.EMAIL and self.smtp is None
        ]
        return problems

    def references(self) -> list[tuple[tuple[str | int, ...], str, str]]:
        """Every (location, kind, name) that names a channel or a policy, for cross-checks."""
        found: list[tuple[tuple[str | int, ...], str, str]] = []
        named: list[tuple[tuple[str | int, ...], GroupNotifications]] = [
            (("groups", g), n) for g, n in self.groups.items()
        ]
        if self.default is not None:
            named.append((("default",), self.default))
        for where, group in named:
            found += [((*where, "channels", i), "channel", c) for i, c in enumerate(group.channels)]
            if group.escalation:
                found.append(((*where, "escalation"), "escalation", group.escalation))
        for name, policy in self.escalation.items():
            found += [
                (("escalation", name, "levels", i, "channels", j), "channel", c)
                for i, level in enumerate(policy.levels)
                for j, c in enumerate(level.channels)
            ]
        found += [
            (("crisis_committee", "channels", i), "channel", c)
            for i, c in enumerate(self.crisis_committee.channels)
        ]
        return found
