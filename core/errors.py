"""The small error vocabulary shared by every stage."""

from __future__ import annotations

import enum


class Retry(Exception):  # noqa: N818 - named for what the caller should do, as in arq
    """Transient trouble: try the same input again after `defer` seconds."""

    def __init__(self, reason: str, defer: float = 1.0) -> None:
        super().__init__(reason)
        self.defer = defer


class Reason(enum.StrEnum):
    """Why an input can never succeed; also a metrics label."""

    MALFORMED_ENTRY = "malformed_entry"
    UNSUPPORTED_SCHEMA = "unsupported_schema"
    HANDLER_FAILED = "handler_failed"
    """The stage raised on this entry alone, delivery after delivery."""
    TOO_MANY_DELIVERIES = "too_many_deliveries"
    """Delivered again and again without an answer: its consumer died each time."""
    GAVE_UP = "gave_up"
    """An external system stayed unavailable for as long as its retries are bounded."""


class PermanentError(Exception):
    """This input will never succeed; it goes to the dead letters with its reason."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class StorageUnavailableError(Exception):
    """The bus or store cannot be reached or written right now; the caller may retry."""
