"""Who may send, how much, how fast: checked before a body is parsed.

Overload and rate limits answer 503 with Retry-After, because Alertmanager and most webhook
senders retry a 5xx and drop an alert answered 4xx or 429 (the PagerDuty-compatible route
answers 429, which its senders retry). 401 and 403 are for credentials that would be wrong
again, so the sender's operator sees them.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from core.config import IngestSettings, SourceSettings
from ingest.problems import FieldProblem


class RefusedError(Exception):
    """The request is refused before its body is looked at."""

    def __init__(
        self, status: int, message: str, problem: FieldProblem, retry_after_s: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.problems = [problem]
        self.retry_after_s = retry_after_s


@dataclass(slots=True)
class TokenBucket:
    """`rate` requests per second on average, up to `burst` at once."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def take(self, now: float) -> float:
        """Take one token; returns 0 when granted, else the seconds until one is free."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class SeenSignatures:
    """Signatures accepted within the last `window_s` seconds, so a captured signed request
    cannot be sent again while its timestamp is still fresh. Bounded: past `limit` entries
    the oldest are forgotten first (they are the nearest to expiring anyway)."""

    def __init__(self, window_s: float, limit: int = 100_000) -> None:
        self._window_s = window_s
        self._limit = limit
        self._seen: OrderedDict[str, float] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, signature: str, now: float) -> bool:
        """Remember `signature`; False when it was already seen within the window."""
        while self._seen:
            oldest, at = next(iter(self._seen.items()))
            if now - at <= self._window_s and len(self._seen) < self._limit:
                break
            del self._seen[oldest]
        if signature in self._seen:
            return False
        self._seen[signature] = now
        return True


def _presented_token(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return query.get("token")


class Guard:
    """Per-source credentials and rate limits, and one cap on requests in flight."""

    def __init__(self, settings: IngestSettings) -> None:
        self._settings = settings
        self._buckets: dict[str, TokenBucket] = {}
        self._signatures: dict[str, SeenSignatures] = {}
        self.in_flight = 0

    def _bucket(self, source: str, config: SourceSettings) -> TokenBucket:
        if source not in self._buckets:
            rate = config.rate_per_s or self._settings.rate_per_s
            self._buckets[source] = TokenBucket(rate, config.burst or self._settings.burst)
        return self._buckets[source]

    def check_capacity(self) -> None:
        """Refuse when the server already handles as many requests as it may."""
        if self.in_flight >= self._settings.max_in_flight:
            raise RefusedError(
                503,
                "Sereno is handling as many requests as it may; retry shortly",
                FieldProblem("(server)", "overloaded"),
                retry_after_s=1.0,
            )

    def check_token(
        self, source: str, headers: Mapping[str, str], query: Mapping[str, str]
    ) -> None:
        """Bearer token or ?token=, compared in constant time, when the source has one;
        with `require_credential`, a source with neither token nor signature is refused."""
        config = self._settings.source(source)
        expected = config.token
        if expected is None:
            if self._settings.require_credential and config.hmac is None:
                raise RefusedError(
                    401,
                    f"source '{source}' has no credential configured and every source must "
                    f"have one: set ingest.sources.{source}.token (or .hmac)",
                    FieldProblem("Authorization", "no credential configured for this source"),
                )
            return
        presented = _presented_token(headers, query)
        if presented is None:
            raise RefusedError(
                401,
                f"credentials required for source '{source}': send 'Authorization: Bearer "
                "<token>' or add ?token=<token> to the URL",
                FieldProblem("Authorization", "missing"),
            )
        if not hmac.compare_digest(presented.encode(), expected.reveal()):
            raise RefusedError(
                403, f"wrong token for source '{source}'", FieldProblem("Authorization", "wrong")
            )

    def check_signature(self, source: str, headers: Mapping[str, str], body: bytes) -> None:
        """The source's HMAC signature over the body, when it signs (Grafana)."""
        check = self._settings.source(source).hmac
        if check is None:
            return
        signature = headers.get(check.header, "").strip()
        if not signature:
            raise RefusedError(
                401,
                f"source '{source}' must sign its requests in the {check.header} header",
                FieldProblem(check.header, "missing"),
            )
        signed = body
        if check.timestamp_header:
            stamp = headers.get(check.timestamp_header, "").strip()
            if not stamp.isdigit() or abs(time.time() - int(stamp)) > check.max_skew_s:
                raise RefusedError(
                    403,
                    f"{check.timestamp_header} is missing or more than {check.max_skew_s}s off",
                    FieldProblem(check.timestamp_header, "missing or stale"),
                )
            signed = stamp.encode() + b":" + body
        expected = hmac.new(check.secret.reveal(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature.lower().removeprefix("sha256="), expected):
            raise RefusedError(
                403, f"wrong signature for source '{source}'", FieldProblem(check.header, "wrong")
            )
        # Within the window a captured request would pass again: each signature counts once.
        # Without a timestamp the same alert re-sent is signed the same, so only signed
        # timestamps bound the replay.
        if check.timestamp_header:
            seen = self._signatures.setdefault(source, SeenSignatures(2 * check.max_skew_s))
            if not seen.first_time(expected, time.time()):
                raise RefusedError(
                    403,
                    f"this signed request from source '{source}' was already received: "
                    "a replay is refused",
                    FieldProblem(check.header, "already used"),
                )

    def check_rate(self, source: str, status: int = 503) -> None:
        """The source's own rate limit, so one noisy source cannot starve the others."""
        wait = self._bucket(source, self._settings.source(source)).take(time.monotonic())
        if wait > 0:
            raise RefusedError(
                status,
                f"source '{source}' is sending faster than its limit; retry after the pause",
                FieldProblem("(source)", "rate limit"),
                retry_after_s=wait,
            )
