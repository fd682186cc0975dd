"""Channels hand a message to people: webhook, Slack/Mattermost, Microsoft Teams, email.

Each `send` returns what the channel answered, or raises DeliveryError saying whether a
later try may succeed."""

from __future__ import annotations


class DeliveryError(Exception):
    """The channel did not take the message; `retryable` says whether to try again."""

    def __init__(self, detail: str, *, retryable: bool = True) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retryable = retryable
