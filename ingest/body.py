"""A request's body: read against a deadline and a size limit, then decoded.

The body is read as a stream, chunk by chunk, and refused as soon as it passes
`ingest.max_body_bytes`. With `Content-Encoding: gzip` the limit applies to the inflated
bytes: aiohttp inflates each chunk only up to a bounded length and waits for the reader
before inflating more, so a small bomb is refused after the limit, never inflated whole. A
sender that stops sending (or sends one byte a minute) is cut off at
`ingest.body_timeout_s`, so slow clients cannot hold the server's request slots.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import orjson
from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError
from aiohttp.web_protocol import RequestPayloadError

from ingest.problems import FieldProblem, PayloadError

FORM = "application/x-www-form-urlencoded"


async def answer_and_close(request: web.Request, response: web.StreamResponse) -> None:
    """Send `response` now and close the connection: reading the rest of a refused body
    (a bomb, a body that never ends, one that cannot be inflated) would cost what refusing
    it was meant to save, and aiohttp would otherwise try to."""
    response.force_close()
    await response.prepare(request)
    await response.write_eof()
    if request.protocol is not None:
        request.protocol.force_close()


async def read_body(request: web.Request, max_bytes: int, timeout_s: float) -> bytes:
    """The whole body, inflated; PayloadError 413 past `max_bytes`, 408 past `timeout_s`,
    400 when its Content-Encoding does not match what was sent."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while chunk := await request.content.readany():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadError(
                        f"body is over the limit of {max_bytes} bytes (ingest.max_body_bytes)"
                        + (" once inflated" if request.headers.get("Content-Encoding") else ""),
                        [FieldProblem("(body)", "too large")],
                        status=413,
                        close=True,
                    )
                chunks.append(chunk)
    except TimeoutError as e:
        raise PayloadError(
            f"the body did not arrive within {timeout_s:g} s (ingest.body_timeout_s)",
            [FieldProblem("(body)", "sent too slowly")],
            status=408,
            close=True,
        ) from e
    except RequestPayloadError as e:
        raise _unreadable(request, e) from e
    return b"".join(chunks)


def _unreadable(request: web.Request, error: RequestPayloadError) -> PayloadError:
    if isinstance(error.__cause__, ContentEncodingError):
        encoding = request.headers.get("Content-Encoding", "")
        return PayloadError(
            f"the body is declared Content-Encoding: {encoding} but is not {encoding} data",
            [FieldProblem("Content-Encoding", f"body is not valid {encoding}")],
            status=400,
            close=True,
        )
    return PayloadError(
        f"the body cannot be read: {error}",
        [FieldProblem("(body)", "malformed framing (Content-Length or chunked encoding)")],
        status=400,
        close=True,
    )


def parse_json(body: bytes) -> object:
    """Strict JSON: orjson refuses invalid UTF-8, lone surrogates, NaN and nesting deeper
    than 1024, any of which would otherwise fail later, far from the sender's mistake."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        where = f"{e.msg} at line {e.lineno} column {e.colno}"
        raise PayloadError(
            f"body is not valid JSON: {where}", [FieldProblem("(body)", where)], status=400
        ) from e


def parse_form(body: bytes) -> dict[str, object]:
    """Form fields (as `curl -d` and Datadog's "Encode as form" send them), one value per
    name, the last one winning. A value that is a JSON object or list (a nested field of a
    form-encoded JSON template) is read as JSON."""
    try:
        text = body.decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError) as e:
        raise PayloadError(
            "body is not a valid form: it must be UTF-8 name=value pairs joined by &",
            [FieldProblem("(body)", "not application/x-www-form-urlencoded")],
            status=400,
        ) from e
    fields: dict[str, object] = {}
    for name, value in pairs:
        fields[name] = _nested(value)
    return fields


def _nested(value: str) -> object:
    if value.startswith(("{", "[")):
        try:
            nested: object = orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
        return nested
    return value
