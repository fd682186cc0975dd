"""Microsoft Teams incoming webhook (Workflows "post to a channel when a webhook request is
received"): a message carrying one Adaptive Card, as Microsoft documents it
(https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using)."""

from __future__ import annotations

from core.models import JsonDict, Notification
from notify.channels.escape import markdown_text


def teams_payload(message: Notification) -> JsonDict:
    """The message as an Adaptive Card. TextBlocks read Markdown, so the text (which carries
    alert titles and summaries) is escaped: a `[link](url)` in an alert stays text."""
    subject, _, body = markdown_text(message.text).partition("\n")
    blocks: list[JsonDict] = [
        {"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium", "wrap": True}
    ]
    blocks += [
        {"type": "TextBlock", "text": paragraph, "wrap": True}
        for paragraph in body.strip().split("\n\n")
        if paragraph.strip()
    ]
    card: JsonDict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": blocks,
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }
