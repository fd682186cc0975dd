"""The HTTP receivers: POST /api/v1/alerts/{source}."""

from __future__ import annotations

import json
import logging

from aiohttp import web

from core.errors import StorageUnavailableError
from ingest.problems import FieldProblem, PayloadError
from ingest.receiver import Receiver

log = logging.getLogger(__name__)

RECEIVER = web.AppKey("receiver", Receiver)
_JSON_TYPES = {"application/json", "application/vnd.api+json"}


def error_response(status: int, message: str, problems: list[FieldProblem]) -> web.Response:
    return web.json_response(
        {"error": message, "detail": [p.as_json() for p in problems]}, status=status
    )


def _parse_json(body: bytes) -> object:
    try:
        return json.loads(body)
    except json.JSONDecodeError as e:
        raise PayloadError(
            f"body is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
            [FieldProblem("(body)", f"{e.msg} at line {e.lineno} column {e.colno}")],
            status=400,
        ) from e
    except UnicodeDecodeError as e:
        raise PayloadError(
            "body is not UTF-8 text", [FieldProblem("(body)", str(e))], status=400
        ) from e
    except RecursionError as e:
        raise PayloadError(
            "body is nested too deeply", [FieldProblem("(body)", "too deeply nested")], status=400
        ) from e


def _check_envelope(request: web.Request, max_body_bytes: int) -> None:
    """Refuse what is wrong before reading the body: its type and its announced size."""
    if request.content_type not in _JSON_TYPES:
        raise PayloadError(
            f"Content-Type must be application/json, not '{request.content_type}'",
            [FieldProblem("Content-Type", "send application/json")],
            status=415,
        )
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise PayloadError(
            f"body of {request.content_length} bytes is over the limit of {max_body_bytes}"
            " (ingest.max_body_bytes)",
            [FieldProblem("(body)", "too large")],
            status=413,
        )


async def receive_alerts(request: web.Request) -> web.Response:
    receiver = request.app[RECEIVER]
    source = request.match_info["source"]
    try:
        _check_envelope(request, receiver.limits.max_body_bytes)
        alerts = receiver.adapt(source, _parse_json(await request.read()))
    except PayloadError as e:
        receiver.rejected(source, e.status)
        return error_response(e.status, e.message, e.problems)
    try:
        await receiver.store(source, alerts)
    except StorageUnavailableError:
        # Storage trouble is ours, not the sender's: answer 503 so it retries.
        log.exception("cannot store alerts from %s", source)
        receiver.rejected(source, 503)
        response = error_response(503, "storage unavailable; retry later", [])
        response.headers["Retry-After"] = "5"
        return response
    return web.json_response({"accepted": len(alerts)}, status=202)


def add_routes(app: web.Application, receiver: Receiver) -> None:
    """Mount the receivers on `app`."""
    app[RECEIVER] = receiver
    app.router.add_post("/api/v1/alerts/{source}", receive_alerts)
