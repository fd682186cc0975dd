"""Silences by API: GET, POST and DELETE /api/v1/silences.

A silence is made by a person for a reason: alerts it matches open nothing until it ends
and are recorded as suppressed. Deleting a silence expires it now; it stays listed, so
anyone can see later who silenced what, when and why. Whoever signed in is its author.

Guard rails: a silence lasts auth.silence_max_duration at most, needs a comment, and one
that would hide more than auth.silence_force_share of the alerts firing now needs
`force: true` and the admin role; the refusal lists what it would hide.
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
from sereno.auth.principal import Principal, Role, can, principal_of
from sereno.keys import PIPELINE
from sereno.silence_guard import Reach, reach


def _days(length: timedelta) -> str:
    return f"{length.days} days" if length.days else str(length)


class SilenceRequest(BaseModel):
    """What a person posts to silence alerts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    match: AlertMatch
    starts_at: AwareDatetime | None = Field(default=None, description="Default: now")
    ends_at: AwareDatetime | None = None
    duration: Duration | None = Field(default=None, description="Instead of ends_at: 2h, 30m")
    comment: str = Field(min_length=1, max_length=4096)
    force: bool = Field(
        default=False, description="Silence a large share of what fires (admin only)"
    )

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.ends_at is None) == (self.duration is None):
            raise ValueError("give exactly one of ends_at (a time) or duration (e.g. 2h)")
        if not self.comment.strip():
            raise ValueError("say why in comment")
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


def _too_wide(asked: SilenceRequest, found: Reach, share: float, principal: Principal) -> None:
    if found.share <= share and not _matches_everything(asked.match):
        return
    if asked.force and can(principal, Role.ADMIN):
        return
    body = {
        "error": f"this silence would hide {len(found.matched)} of the {found.firing} alerts "
        f"firing now (more than {share:.0%}): an admin must send force: true",
        "detail": [{"field": "match", "problem": "matches too much; see would_silence"}],
        "would_silence": found.describe(),
    }
    raise web.HTTPConflict(text=json.dumps(body), content_type="application/json")


def _matches_everything(match: AlertMatch) -> bool:
    patterns = [match.sources, match.names, match.resources, match.services,
                *match.labels.values()]  # fmt: skip
    named = [p for p in patterns if p]
    return not match.severities and all("*" in p for p in named)


async def preview_silence(request: web.Request) -> web.Response:
    asked = await _read(request)
    found = await reach(request.app[PIPELINE].storage.store, asked.match)
    return web.json_response(found.describe())


async def create_silence(request: web.Request) -> web.Response:
    pipeline = request.app[PIPELINE]
    asked = await _read(request)
    principal = principal_of(request)
    now = pipeline.clock.now()
    starts = asked.starts_at or now
    ends = asked.ends_at or starts + (asked.duration or timedelta(0))
    if ends <= starts or ends <= now:
        raise _error("the silence would end before it starts or in the past",
                     [("ends_at", "give an end in the future, after starts_at")])  # fmt: skip
    longest = pipeline.settings.auth.silence_max_duration
    if ends - starts > longest:
        raise _error(f"a silence lasts {_days(longest)} at most (auth.silence_max_duration); "
                     "use a maintenance window in rules",
                     [("ends_at", "too far from starts_at")])  # fmt: skip
    store = pipeline.storage.store
    _too_wide(asked, await reach(store, asked.match), pipeline.settings.auth.silence_force_share,
              principal)  # fmt: skip
    silence = Silence(
        id=await store.next_id("SIL"),
        match=asked.match,
        starts_at=starts,
        ends_at=ends,
        created_by=principal.name,
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
    app.router.add_post("/api/v1/silences/preview", preview_silence)
    app.router.add_delete("/api/v1/silences/{id}", expire_silence)
