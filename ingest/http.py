"""The HTTP receivers: POST /api/v1/alerts/{source}, the Alertmanager-compatible
POST /api/v2/alerts and the PagerDuty-compatible POST /v2/enqueue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from core.errors import Retry, StorageUnavailableError
from ingest.adapters import cloudwatch, pagerduty
from ingest.body import FORM, answer_and_close, parse_form, parse_json, read_body
from ingest.guard import Guard, RefusedError
from ingest.problems import FieldProblem, PayloadError
from ingest.receiver import Intake, Receiver
from ingest.sns import Confirmer

log = logging.getLogger(__name__)

RECEIVER = web.AppKey("receiver", Receiver)
GUARD = web.AppKey("guard", Guard)
CONFIRMER = web.AppKey("sns_confirmer", Confirmer)
_SNS_HANDSHAKES = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})
OFF_LOOP_BYTES = 256 * 1024
"""Bodies at least this large are parsed and validated off the event loop."""
_JSON_TYPES = frozenset({"application/json", "application/vnd.api+json"})
# Amazon SNS posts its JSON as text/plain; a Nagios or Icinga notification command may post
# form fields (curl -d), and Datadog does with "Encode as form".
_CONTENT_TYPES = {
    "cloudwatch": _JSON_TYPES | {"text/plain"},
    "nagios": _JSON_TYPES | {FORM},
    "datadog": _JSON_TYPES | {FORM},
}

Reply = Callable[[Intake], web.Response]
ErrorReply = Callable[[int, str, list[FieldProblem]], web.Response]


def error_response(status: int, message: str, problems: list[FieldProblem]) -> web.Response:
    return web.json_response(
        {"error": message, "detail": [p.as_json() for p in problems]}, status=status
    )


@dataclass(frozen=True, slots=True)
class Dialect:
    """How one route answers: its success body, its error shape, its rate-limit status."""

    reply: Reply
    error: ErrorReply = error_response
    rate_limit_status: int = 503


def _accepted(intake: Intake) -> web.Response:
    body: dict[str, object] = {"accepted": len(intake.alerts)}
    if intake.refused:
        # Stored what was good; the sender learns what was not, without a retry that
        # would store the good alerts twice.
        body["refused"] = [r.as_json() for r in intake.refused]
    return web.json_response(body, status=202)


SERENO_DIALECT = Dialect(reply=_accepted)


def _check_envelope(request: web.Request, source: str, max_body_bytes: int) -> None:
    """Refuse what is wrong before reading the body: its type and its announced size."""
    allowed = _CONTENT_TYPES.get(source, _JSON_TYPES)
    if request.content_type not in allowed:
        kinds = " or ".join(sorted(allowed - {"application/vnd.api+json"}))
        raise PayloadError(
            f"Content-Type for source '{source}' must be {kinds}, not '{request.content_type}'",
            [FieldProblem("Content-Type", f"send {kinds}")],
            status=415,
        )
    if request.content_length is not None and request.content_length > max_body_bytes:
        raise PayloadError(
            f"body of {request.content_length} bytes is over the limit of {max_body_bytes}"
            " (ingest.max_body_bytes)",
            [FieldProblem("(body)", "too large")],
            status=413,
        )


def _decode(request: web.Request, body: bytes) -> object:
    return parse_form(body) if request.content_type == FORM else parse_json(body)


async def _read_alerts(request: web.Request, source: str, dialect: Dialect) -> Intake:
    receiver, guard = request.app[RECEIVER], request.app[GUARD]
    receiver.check_source(source)
    guard.check_token(source, request.headers, request.query)
    limits = receiver.limits
    _check_envelope(request, source, limits.max_body_bytes)
    body = await read_body(request, limits.max_body_bytes, limits.body_timeout_s)
    guard.check_signature(source, request.headers, body)
    guard.check_rate(source, dialect.rate_limit_status)
    if len(body) < OFF_LOOP_BYTES:
        return receiver.intake(source, _decode(request, body))
    # A storm's body (10,000 alerts) takes a second to read and validate: elsewhere, so the
    # event loop keeps answering health checks, other senders and the API meanwhile.
    return await asyncio.to_thread(lambda: receiver.intake(source, _decode(request, body)))


async def ingest(request: web.Request, source: str, dialect: Dialect) -> web.Response:
    """Check, adapt and durably store one request's alerts; answer in the route's dialect."""
    receiver, guard = request.app[RECEIVER], request.app[GUARD]
    try:
        guard.check_capacity()
    except RefusedError as e:
        return _refused(receiver, source, dialect, e)
    guard.in_flight += 1
    try:
        intake = await _read_alerts(request, source, dialect)
        await receiver.store(source, intake.alerts)
    except RefusedError as e:
        return _refused(receiver, source, dialect, e)
    except PayloadError as e:
        receiver.rejected(source, e.status)
        response = dialect.error(e.status, e.message, e.problems)
        if e.close:
            await answer_and_close(request, response)
        return response
    except StorageUnavailableError:
        # Storage trouble is ours, not the sender's: answer 503 so it retries.
        log.exception("cannot store alerts from %s", source)
        return _refused(
            receiver, source, dialect,
            RefusedError(503, "storage unavailable; retry later",
                         FieldProblem("(server)", "storage"), retry_after_s=5),
        )  # fmt: skip
    finally:
        guard.in_flight -= 1
    return dialect.reply(intake)


def _refused(receiver: Receiver, source: str, dialect: Dialect, e: RefusedError) -> web.Response:
    receiver.rejected(source, e.status)
    response = dialect.error(e.status, e.message, e.problems)
    if e.retry_after_s is not None:
        response.headers["Retry-After"] = str(max(1, round(e.retry_after_s + 0.5)))
    return response


async def receive_alerts(request: web.Request) -> web.Response:
    return await ingest(request, request.match_info["source"], SERENO_DIALECT)


def _alertmanager_ok(_: Intake) -> web.Response:
    return web.Response(status=200)  # as Alertmanager answers postAlerts


async def receive_alertmanager_v2(request: web.Request) -> web.Response:
    """Alertmanager API v2 compatible: Prometheus's `alerting.alertmanagers` can point here."""
    return await ingest(request, "prometheus", Dialect(reply=_alertmanager_ok))


def _pagerduty_error(status: int, _: str, problems: list[FieldProblem]) -> web.Response:
    # PagerDuty answers every invalid event 400; its senders retry 429 and 5xx.
    body = pagerduty.error_body(problems)
    return web.json_response(body, status=400 if 400 <= status < 500 and status != 429 else status)


def _pagerduty_ok(intake: Intake) -> web.Response:
    return web.json_response(pagerduty.success_body(intake.alerts[0].source_id), status=202)


PAGERDUTY_DIALECT = Dialect(reply=_pagerduty_ok, error=_pagerduty_error, rate_limit_status=429)


async def receive_pagerduty(request: web.Request) -> web.Response:
    """PagerDuty Events API v2 compatible: anything that can page PagerDuty can page Sereno."""
    return await ingest(request, pagerduty.SOURCE, PAGERDUTY_DIALECT)


async def receive_cloudwatch(request: web.Request) -> web.Response:
    """CloudWatch alarms through SNS, including SNS's subscription handshake."""
    if request.headers.get("x-amz-sns-message-type") not in _SNS_HANDSHAKES:
        return await ingest(request, cloudwatch.SOURCE, SERENO_DIALECT)
    receiver, guard = request.app[RECEIVER], request.app[GUARD]
    try:
        guard.check_token(cloudwatch.SOURCE, request.headers, request.query)
        _check_envelope(request, cloudwatch.SOURCE, receiver.limits.max_body_bytes)
        guard.check_rate(cloudwatch.SOURCE)
        limits = receiver.limits
        body = await read_body(request, limits.max_body_bytes, limits.body_timeout_s)
        handshake = cloudwatch.subscription_request(parse_json(body))
    except RefusedError as e:
        return _refused(receiver, cloudwatch.SOURCE, SERENO_DIALECT, e)
    except PayloadError as e:
        response = error_response(e.status, e.message, e.problems)
        if e.close:
            await answer_and_close(request, response)
        return response
    return await _answer_handshake(request, handshake)


async def _answer_handshake(
    request: web.Request, handshake: cloudwatch.SubscriptionRequest | None
) -> web.Response:
    if handshake is None:
        return error_response(
            422, "the SNS message type header and the body's Type disagree",
            [FieldProblem("Type", "expected SubscriptionConfirmation")],
        )  # fmt: skip
    if handshake.topic_arn not in request.app[RECEIVER].sns_confirm_topics:
        log.warning(
            "SNS asks to confirm a subscription to %s, which is not in "
            "ingest.sources.cloudwatch.sns_confirm_topics; to accept it, add it there or "
            "open this URL once: %s", handshake.topic_arn, handshake.subscribe_url,
        )  # fmt: skip
        return error_response(
            403,
            f"subscription to {handshake.topic_arn} not confirmed: add the topic to "
            "ingest.sources.cloudwatch.sns_confirm_topics, or open its SubscribeURL by hand",
            [FieldProblem("TopicArn", "not an allowed topic")],
        )
    try:
        await request.app[CONFIRMER].confirm(handshake)
    except Retry as e:
        response = error_response(503, str(e), [FieldProblem("SubscribeURL", "unreachable")])
        response.headers["Retry-After"] = str(round(e.defer))
        return response
    return web.json_response({"confirmed": handshake.topic_arn}, status=200)


def add_routes(
    app: web.Application, receiver: Receiver, guard: Guard, confirmer: Confirmer
) -> None:
    """Mount the receivers on `app`."""
    app[RECEIVER] = receiver
    app[GUARD] = guard
    app[CONFIRMER] = confirmer
    # Specific routes first: aiohttp matches in the order routes were added.
    app.router.add_post("/api/v1/alerts/cloudwatch", receive_cloudwatch)
    app.router.add_post("/api/v1/alerts/{source}", receive_alerts)
    app.router.add_post("/api/v2/alerts", receive_alertmanager_v2)
    app.router.add_post("/v2/enqueue", receive_pagerduty)
