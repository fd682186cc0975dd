"""Silences by API: GET, POST and DELETE /api/v1/silences.

A silence is made by a person for a reason: alerts it matches open nothing until it ends
and are recorded as suppressed. Deleting a silence expires it now; it stays listed, so
anyone can see later who silenced what, when and why.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Self

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.matchers import AlertMatch, Silence
from core.models import AwareDatetime
from core.rules import Duration
from core.store import Changes
from sereno.keys import PIPELINE

MAX_SILENCE = timedelta(days=366)


class SilenceRequest(BaseModel):
    """What a person posts to silence alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: AlertMatch
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ends_at: AwareDatetime | None = None
    duration: Duration | None = Field(default=None, description="Instead of ends_at: 2h, 30m")
    created_by: str = Field(min_length=1, max_length=256)
    comment: str = Field(min_length=1, max_length=4096)

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give exactly one of ends_at (a time) or duration (e.g. 2h)")
        if self.match == AlertMatch():
            raise ValueError(
                "match would silence every alert; name at least one of sources, names, "
                "resources, services, severities or labels"
            )
        return self


def _error(message: str, problems: list[tuple[str, str]]) -> web.HTTPException:
    body = {"error": message, "detail": [{"field": f, "problem": p} for f, p in problems]}
    return web.HTTPUnprocessableEntity(text=json.dumps(body), content_type="application/json")


async def _read(request: web.Request) -> SilenceRequest:
    try:
        return SilenceRequest.model_validate_json(await request.read())
    except ValidationError as e:
        problems = [(".".join(map(str, err["loc"])) or "(body)", err["msg"]) for err in e.errors()]
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        raise _error(f"invalid silence: check {fields}", problems) from e


async def create_silence(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    asked = await _read(request)
    now = pipeline.clock.now()
    starts = asked.starts_at or now
    ends = asked.ends_at or starts + (asked.duration or timedelta(0))
    if ends <= starts or ends <= now:
        raise _error("the silence would end before it starts or in the past",
                     [("ends_at", "give an end in the future, after starts_at")])  # fmt: skip
    if ends - starts > MAX_SILENCE:
        raise _error("a silence lasts a year at most; use a maintenance window in rules",
                     [("ends_at", "too far from starts_at")])  # fmt: skip
    store = pipeline.storage.store
    silence = Silence(
        id=await store.next_id("SIL"),
        match=asked.match,
        starts_at=starts,
        ends_at=ends,
        created_by=asked.created_by,
        comment=asked.comment,
        created_at=now,
    )
    await store.commit(Changes(silences=[silence]))
    return web.json_response(silence.model_dump(mode="json"), status=201)


async def list_silences(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    silences = await pipeline.storage.store.list_silences()
    now = pipeline.clock.now()
    if request.query.get("active") in ("1", "true", "yes"):
        silences = [s for s in silences if s.active(now)]
    return web.json_response(
        {
            "silences": [s.model_dump(mode="json") | {"active": s.active(now)} for s in silences],
            "count": len(silences),
        }
    )


async def expire_silence(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    silence_id = request.match_info["id"]
    store = pipeline.storage.store
    silence = await store.get_silence(silence_id)
    if silence is None:
        raise web.HTTPNotFound(reason=f"no silence {silence_id}")
    now = pipeline.clock.now()
    if silence.ends_at > now:
        ends = max(now, silence.starts_at + timedelta(microseconds=1))
        silence = silence.model_copy(update={"ends_at": ends})
        await store.commit(Changes(silences=[silence]))
    return web.json_response(silence.model_dump(mode="json") | {"active": silence.active(now)})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/v1/silences", list_silences)
    app.router.add_post("/api/v1/silences", create_silence)
    app.router.add_delete("/api/v1/silences/{id}", expire_silence)
