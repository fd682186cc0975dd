"""Generic webhook: the whole message as JSON, for any system that takes a POST."""

from __future__ import annotations

from core.models import JsonDict, Notification


def webhook_payload(message: Notification) -> JsonDict:
    return {
        "id": message.id,
        "at": message.at.isoformat(),
        "kind": message.kind,
        "channel": message.channel,
        "incident_id": message.incident_id,
        "subject": message.subject,
        "text": message.text,
    }
