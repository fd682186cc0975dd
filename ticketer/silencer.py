"""Alertmanager's silences, through its API v2: the way an acknowledgement in Sereno is
sent back, so Alertmanager stops notifying about alerts a person has already taken.

https://prometheus.io/docs/alerting/latest/clients/ (API v2: /api/v2/silences)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.config import AlertmanagerAckBack
from core.models import AlertStatus, IncidentAlert
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after

SOURCE = "alertmanager"


class Matcher(BaseModel):
    """One matcher of a silence, as Alertmanager writes it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    name: str
    value: str
    isRegex: bool = False  # noqa: N815 - Alertmanager's field names
    isEqual: bool = True  # noqa: N815


class SilenceStatus(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    state: str


class AmSilence(BaseModel):
    """A silence as GET /api/v2/silences answers it; only what Sereno looks at."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str
    status: SilenceStatus
    matchers: tuple[Matcher, ...]
    createdBy: str = ""  # noqa: N815
    comment: str = ""


class _Created(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    silenceID: str = Field(min_length=1)  # noqa: N815


def matchers_for(labels: Mapping[str, str]) -> tuple[Matcher, ...] | None:
    """Equality matchers on every label of an alert, sorted by name: Alertmanager's
    fingerprint is its whole label set, so these match that alert and no other. None
    without an alertname, which every Alertmanager alert has. Empty values are left out:
    Alertmanager treats them as absent labels."""
    if not labels.get("alertname"):
        return None
    return tuple(Matcher(name=name, value=value) for name, value in sorted(labels.items()) if value)


def wanted_silences(alerts: Iterable[IncidentAlert]) -> list[tuple[Matcher, ...]]:
    """One matcher set per firing Alertmanager alert among an incident's `alerts` whose
    labels are known, each set once."""
    found: dict[tuple[Matcher, ...], None] = {}
    for alert in alerts:
        if alert.source != SOURCE or alert.status is not AlertStatus.FIRING:
            continue
        matchers = matchers_for(alert.labels)
        if matchers is not None:
            found[matchers] = None
    return list(found)


def same_matchers(a: tuple[Matcher, ...], b: tuple[Matcher, ...]) -> bool:
    return sorted(a, key=lambda m: m.name) == sorted(b, key=lambda m: m.name)


@dataclass(frozen=True, slots=True)
class NewSilence:
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str

    def body(self) -> dict[str, Any]:
        return {
            "matchers": [m.model_dump() for m in self.matchers],
            "startsAt": self.starts_at.isoformat(),
            "endsAt": self.ends_at.isoformat(),
            "createdBy": self.created_by,
            "comment": self.comment,
        }


class AlertmanagerSilencer:
    """Lists, creates and expires silences on one Alertmanager. Unavailable (connection
    refused, timeout, 5xx, 429) raises BackendUnavailableError, to be tried again; any other
    refusal BackendRejectedError."""

    name = SOURCE

    def __init__(self, settings: AlertmanagerAckBack) -> None:
        self.settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session, if one was opened; the owner calls this once, at the end."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _call(self, method: str, path: str, body: object = None) -> Any:  # noqa: ANN401 - Alertmanager's JSON
        headers = {"Accept": "application/json"}
        if self.settings.auth is not None:
            headers[self.settings.auth_header] = self.settings.auth.reveal().decode()
        if self._session is None:
            # Opened on first use, inside the running loop, by the stage that uses it.
            self._session = aiohttp.ClientSession()
        url = self.settings.url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self.settings.timeout_s)
        try:
            async with self._session.request(
                method, url, json=body, headers=headers, timeout=timeout
            ) as response:
                text = await response.text()
                if response.status == 429 or response.status >= 500:
                    raise BackendUnavailableError(
                        f"{method} {path}: HTTP {response.status}: {text[:300]}",
                        retry_after(response.headers.get("Retry-After")),
                    )
                if response.status >= 400:
                    raise BackendRejectedError(
                        f"{method} {path}: HTTP {response.status}: {text[:300]}"
                    )
                return await response.json(content_type=None) if text.strip() else None
        except (aiohttp.ClientError, TimeoutError) as e:
            raise BackendUnavailableError(f"{method} {path}: {type(e).__name__}: {e}") from e

    async def silences(self) -> list[AmSilence]:
        """Every silence Alertmanager holds, expired ones included."""
        answer = await self._call("GET", "/api/v2/silences")
        try:
            return [AmSilence.model_validate(s) for s in answer or []]
        except ValidationError as e:
            raise BackendRejectedError(f"GET /api/v2/silences: unexpected answer: {e}") from e

    async def create(self, silence: NewSilence) -> str:
        """Create `silence`; its id."""
        answer = await self._call("POST", "/api/v2/silences", silence.body())
        try:
            return _Created.model_validate(answer).silenceID
        except ValidationError as e:
            raise BackendRejectedError(f"POST /api/v2/silences: unexpected answer: {e}") from e

    async def expire(self, silence_id: str) -> None:
        """Expire silence `silence_id` (Alertmanager keeps it, expired, for a while)."""
        await self._call("DELETE", f"/api/v2/silence/{silence_id}")
