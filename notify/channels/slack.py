"""Slack or Mattermost incoming webhook: `{"text": ...}`, with the three characters Slack
reserves escaped (https://api.slack.com/reference/surfaces/formatting#escaping)."""

from __future__ import annotations

from core.models import JsonDict, Notification


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Notification) -> JsonDict:
    subject, _, body = message.text.partition("\n")
    return {"text": f"*{_escape(subject)}*\n{_escape(body.strip())}"}
