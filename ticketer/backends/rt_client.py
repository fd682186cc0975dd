"""Request Tracker 5's REST2 API, as Sereno uses it: one authenticated JSON call at a time.

RT answers errors as `{"message": ...}`. 429 and 5xx, and a server that does not answer,
are waited out (BackendUnavailableError); other 4xx are refusals (BackendRejectedError).
"""

from __future__ import annotations

import logging
from json import loads
from typing import Any

import aiohttp

from core.config import RtBackend
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after

API = "/REST/2.0"
PAGE = 100
"""Items per page of a search or a history; RT's own upper limit."""

log = logging.getLogger(__name__)


def _message(status: int, body: object) -> str:
    said = body.get("message") if isinstance(body, dict) else body
    if isinstance(said, list):
        said = "; ".join(map(str, said))
    return f"HTTP {status}: {said or 'no detail given'}"


class RtClient:
    """REST2 calls under the API user's token; the session opens on first use."""

    def __init__(self, settings: RtBackend) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._names: dict[tuple[str, str], str] = {}

    @property
    def settings(self) -> RtBackend:
        return self._settings

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: object = None,
    ) -> Any:  # noqa: ANN401 - REST2 answers objects or lists, read field by field
        """One request; RT's answer as JSON ({} when it has no body), or the error."""
        url = self._settings.url.rstrip("/") + API + path
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        if self._session is None:
            # Opened on first use, inside the running loop, by the task that uses it.
            self._session = aiohttp.ClientSession()
        headers = {
            "Accept": "application/json",
            "Authorization": "token " + self._settings.token.reveal().decode(),
        }
        try:
            async with self._session.request(
                method, url, params=params, json=json, timeout=timeout, headers=headers
            ) as response:
                text = await response.text()
                status = response.status
                wait = retry_after(response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as e:
            raise BackendUnavailableError(f"{method} {path}: {type(e).__name__}: {e}") from e
        body = _json(text)
        if status == 429 or status >= 500:
            raise BackendUnavailableError(f"{method} {path}: {_message(status, body)}", wait)
        if status in {401, 403}:
            log.error(
                "rt: %s %s refused (HTTP %d): check ticket_backends.rt.token and the rights "
                "of user %s", method, path, status, self._settings.user,
            )  # fmt: skip
        if status >= 400:
            raise BackendRejectedError(f"{method} {path}: {_message(status, body)}")
        return body

    async def search(self, query: str, fields: str) -> list[dict[str, Any]]:
        """Every ticket TicketSQL `query` finds, oldest first, with `fields`."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"query": query, "fields": fields, "orderby": "id", "order": "ASC",
                      "per_page": str(PAGE), "page": str(page)}  # fmt: skip
            answer = await self.call("GET", "/tickets", params=params)
            items = answer.get("items") or []
            found += items
            if len(items) < PAGE:
                return found
            page += 1

    async def history(self, ticket: str, after: int) -> list[dict[str, Any]]:
        """The ticket's transactions with an id above `after`, oldest first."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {"fields": "Type,Field,OldValue,NewValue,Creator,Created,Data",
                      "per_page": str(PAGE), "page": str(page)}  # fmt: skip
            answer = await self.call("GET", f"/ticket/{ticket}/history", params=params)
            items = answer.get("items") or []
            found += [t for t in items if int(t["id"]) > after]
            if len(items) < PAGE:
                return sorted(found, key=lambda t: int(t["id"]))
            page += 1

    async def content(self, transaction: str) -> str:
        """The text of a reply or comment: its first text/plain attachment."""
        params = {"fields": "Content,ContentType"}
        answer = await self.call("GET", f"/transaction/{transaction}/attachments", params=params)
        for item in answer.get("items") or []:
            if str(item.get("ContentType", "")).startswith("text/plain") and item.get("Content"):
                return str(item["Content"])
        return ""

    async def name(self, kind: str, record_id: str) -> str:
        """A user's or a queue's name from its numeric id (history gives ids); kept, as
        names of ids do not change under Sereno's feet often enough to matter."""
        if not record_id.isdigit():
            return record_id
        key = (kind, record_id)
        if key not in self._names:
            answer = await self.call("GET", f"/{kind}/{record_id}")
            self._names[key] = str(answer.get("Name") or record_id)
        return self._names[key]


def _json(text: str) -> object:
    try:
        return loads(text) if text.strip() else {}
    except ValueError:
        return {"message": text[:300]}
