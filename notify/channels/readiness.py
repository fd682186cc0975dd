"""Whether a channel can deliver at all, told at start and checked before each message.

A webhook URL or SMTP password read from an environment variable that is not set can never
appear in the running process, and a mail server named after a documentation example
(RFC 2606: example.org, *.invalid, …) never answers: retrying such a message for minutes
only fills the log. Its messages are recorded as undeliverable once, with the reason.
"""

from __future__ import annotations

from core.rules import Channel, ChannelType, NotificationRules, Smtp
from notify.channels import DeliveryError

_PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid")


class ChannelUnusableError(DeliveryError):
    """The channel cannot deliver anything as configured; no later try can succeed until
    the configuration changes."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, retryable=False)


def _placeholder(host: str) -> bool:
    name = host.lower().rstrip(".")
    return any(name == d or name.endswith(f".{d}") for d in _PLACEHOLDER_DOMAINS)


def smtp_problem(smtp: Smtp | None) -> str | None:
    """Why mail cannot be sent through `smtp`, or None when it may be."""
    if smtp is None:
        return "no 'smtp:' (mail server) in the notification rules"
    if _placeholder(smtp.host):
        return f"the SMTP host {smtp.host} is an example name (RFC 2606); set smtp.host"
    if smtp.password is not None:
        try:
            smtp.password.reveal()
        except ValueError as e:
            return f"SMTP password: {e}"
    return None


def channel_problem(channel: Channel, smtp: Smtp | None) -> str | None:
    """Why `channel` cannot deliver anything, or None when it may."""
    if channel.type is ChannelType.EMAIL:
        return smtp_problem(smtp)
    if channel.url is None:
        return "no webhook URL"
    try:
        channel.url.reveal()
    except ValueError as e:
        return f"webhook URL: {e}"
    return None


def unusable_channels(rules: NotificationRules) -> dict[str, str]:
    """Every channel that cannot deliver as configured, with the reason, by name."""
    found = {name: channel_problem(c, rules.smtp) for name, c in rules.channels.items()}
    return {name: problem for name, problem in found.items() if problem is not None}


def check_channel(channel: Channel, smtp: Smtp | None) -> None:
    """ChannelUnusableError when `channel` cannot deliver as configured."""
    problem = channel_problem(channel, smtp)
    if problem is not None:
        raise ChannelUnusableError(problem)
