"""Request bodies read into pydantic models, and the JSON errors that name the field."""

from __future__ import annotations

import json
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def json_error(
    kind: type[web.HTTPException], message: str, problems: list[tuple[str, str]]
) -> web.HTTPException:
    body = {"error": message, "detail": [{"field": f, "problem": p} for f, p in problems]}
    return kind(text=json.dumps(body), content_type="application/json")


async def read_body(request: web.Request, model: type[M], *, empty_ok: bool = False) -> M:
    """The body as `model`; 400 naming each wrong field otherwise."""
    raw = await request.read()
    if empty_ok and not raw.strip():
        return model()
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        problems = [(".".join(map(str, err["loc"])) or "(body)", err["msg"]) for err in e.errors()]
        fields = ", ".join(dict.fromkeys(f for f, _ in problems))
        raise json_error(web.HTTPBadRequest, f"bad request body: {fields}", problems) from None
