"""GLPI's REST API (apirest.php), as Sereno uses it: a session opened with the App-Token and
the API user's token, then one JSON call at a time under its Session-Token.

GLPI answers errors as `["ERROR_CODE", "message"]`. An expired session (401
ERROR_SESSION_TOKEN_INVALID) is opened again once. 429 and 5xx, and a server that does not
answer, are waited out (BackendUnavailableError); other 4xx are refusals.
"""

from __future__ import annotations

import logging
from json import loads
from typing import Any

import aiohttp

from core.config import GlpiBackend
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after

EXPIRED = "ERROR_SESSION_TOKEN_INVALID"

log = logging.getLogger(__name__)


def _message(status: int, body: object) -> str:
    if isinstance(body, list):
        said = ": ".join(map(str, body))
    elif isinstance(body, dict):
        said = str(body.get("message") or body)
    else:
        said = str(body)
    return f"HTTP {status}: {said or 'no detail given'}"


class GlpiClient:
    def __init__(self, settings: GlpiBackend) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None
        self._token = ""

    @property
    def settings(self) -> GlpiBackend:
        return self._settings

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._settings.app_token is not None:
            headers["App-Token"] = self._settings.app_token.reveal().decode()
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        json: object = None,
    ) -> tuple[int, object, float | None]:
        url = self._settings.url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        if self._session is None:
            # Opened on first use, inside the running loop, by the task that uses it.
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.request(
                method, url, headers=headers, timeout=timeout, params=params, json=json
            ) as response:
                text = await response.text()
                wait = retry_after(response.headers.get("Retry-After"))
                return response.status, _json(text), wait
        except (aiohttp.ClientError, TimeoutError) as e:
            raise BackendUnavailableError(f"{method} {path}: {type(e).__name__}: {e}") from e

    async def _open(self) -> None:
        headers = self._headers() | {
            "Authorization": "user_token " + self._settings.user_token.reveal().decode()
        }
        status, body, wait = await self._request("GET", "/initSession", headers)
        if status == 429 or status >= 500:
            raise BackendUnavailableError(f"initSession: {_message(status, body)}", wait)
        if status >= 400 or not isinstance(body, dict) or "session_token" not in body:
            log.error("glpi: initSession refused (HTTP %d): check ticket_backends.glpi.user_token "
                      "and .app_token", status)  # fmt: skip
            raise BackendRejectedError(f"initSession: {_message(status, body)}")
        self._token = str(body["session_token"])

    async def call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: object = None
    ) -> Any:  # noqa: ANN401 - GLPI answers objects or lists, read field by field
        """One request in the session (opened, or opened again, as needed)."""
        for attempt in (1, 2):
            if not self._token:
                await self._open()
            headers = self._headers() | {"Session-Token": self._token}
            status, body, wait = await self._request(
                method, path, headers, params=params, json=json
            )
            if status == 401 and isinstance(body, list) and body[:1] == [EXPIRED] and attempt == 1:
                self._token = ""
                continue
            if status == 429 or status >= 500:
                raise BackendUnavailableError(f"{method} {path}: {_message(status, body)}", wait)
            if status >= 400:
                raise BackendRejectedError(f"{method} {path}: {_message(status, body)}")
            return body
        raise BackendRejectedError(f"{method} {path}: the session was refused twice")

    async def search(self, criteria: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
        """Tickets matching every (search option, search type, value); each row keyed by
        search option: "2" id, "1" name, "19" last update."""
        params: dict[str, str] = {"forcedisplay[0]": "2", "forcedisplay[1]": "19",
                                  "range": "0-999"}  # fmt: skip
        for n, (column, how, value) in enumerate(criteria):
            if n:
                params[f"criteria[{n}][link]"] = "AND"
            params[f"criteria[{n}][field]"] = str(column)
            params[f"criteria[{n}][searchtype]"] = how
            params[f"criteria[{n}][value]"] = value
        answer = await self.call("GET", "/search/Ticket", params=params)
        data = answer.get("data") or [] if isinstance(answer, dict) else []
        # Rows come as a list, or keyed by id when the server indexes them.
        return list(data.values()) if isinstance(data, dict) else list(data)


def _json(text: str) -> object:
    try:
        return loads(text) if text.strip() else {}
    except ValueError:
        return [text[:300]]
