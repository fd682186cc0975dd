"""The delivery loop: sends what the notify stage decided, from the outbox in the store.

Each pending notification is first leased (its next attempt moved past the time a try may
take, committed only if nobody else changed it), so two workers never send it at once;
then sent with a time limit, each message in a task of its own, so a slow channel holds
up only its own messages; then its attempt is recorded: delivered, tried again later
with a doubling wait, or given up after `max_attempts` (its attempt log says why; the
`sereno_notify_deliveries_total` outcome `failed` counts it). A message to a channel that
cannot deliver as configured (a secret's variable not set) is recorded as `undeliverable`
at once, never retried. A process that dies mid-send leaves the lease to run out, and the
message is tried again (at least once; the id in the webhook header and the email
Message-ID let a receiver drop a repeat).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta
from typing import Self

import aiohttp

from core.clock import Clock
from core.config import NotifySettings
from core.errors import StorageUnavailableError
from core.metrics import NotifyMetrics
from core.models import DeliveryAttempt, Notification
from core.rules import ChannelType, RulesRef
from core.store import Changes, ConflictError, NotPendingError, Store
from notify.channels import DeliveryError
from notify.channels.email import send_email
from notify.channels.escape import header_value
from notify.channels.http import post_json
from notify.channels.readiness import ChannelUnusableError, check_channel
from notify.channels.slack import slack_payload
from notify.channels.teams import teams_payload
from notify.channels.webhook import webhook_payload

log = logging.getLogger("sereno.notifications")

_PAYLOADS = {
    ChannelType.WEBHOOK: webhook_payload,
    ChannelType.SLACK: slack_payload,
    ChannelType.TEAMS: teams_payload,
}


class Deliverer:
    """Owns the HTTP session the webhook channels share; `run` opens and closes it."""

    def __init__(
        self,
        store: Store,
        rules: RulesRef,
        clock: Clock,
        settings: NotifySettings,
        metrics: NotifyMetrics,
    ) -> None:
        self._store = store
        self._rules = rules
        self._clock = clock
        self._settings = settings
        self._metrics = metrics
        self._session: aiohttp.ClientSession | None = None
        self._in_flight: dict[str, asyncio.Task[None]] = {}

    async def __aenter__(self) -> Self:
        timeout = aiohttp.ClientTimeout(total=self._settings.timeout_s)
        self._session = aiohttp.ClientSession(timeout=timeout)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.settle()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def run(self, stopping: asyncio.Event) -> None:
        """Deliver until `stopping` is set; rides out storage outages."""
        async with self:
            while not stopping.is_set():
                try:
                    await self.deliver_due()
                except StorageUnavailableError as e:
                    log.warning("delivery: storage unavailable (%s); trying again", e)
                except Exception:
                    # The loop must outlive any one fault, or no message is sent again.
                    log.exception("delivery: looking at the outbox failed; trying again")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), self._settings.poll_s)

    async def deliver_due(self) -> int:
        """Start sending every notification due now (up to the concurrency limit);
        returns how many it started."""
        room = self._settings.concurrency - len(self._in_flight)
        if room <= 0:
            return 0
        now = self._clock.now()
        due = await self._store.notifications_to_send(now, room + len(self._in_flight))
        started = 0
        for notification in due:
            if notification.id in self._in_flight or started >= room:
                continue
            leased = await self._lease(notification)
            if leased is None:
                continue
            task = asyncio.create_task(self._deliver(leased), name=f"deliver-{leased.id}")
            self._in_flight[leased.id] = task
            task.add_done_callback(self._forget)
            started += 1
        return started

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(task.get_name().removeprefix("deliver-"), None)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Retrieved here, so no "exception never retrieved"; the lease runs out and the
            # message is tried again.
            log.error("%s: delivery failed", task.get_name(), exc_info=error)

    async def settle(self) -> None:
        """Wait for the deliveries under way."""
        while self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def _lease(self, notification: Notification) -> Notification | None:
        lease = timedelta(seconds=self._settings.timeout_s * 2 + 5)
        leased = notification.model_copy(update={"next_attempt_at": self._clock.now() + lease})
        changes = Changes()
        changes.expect_notification(notification.id, notification)
        changes.put_notification(leased)
        try:
            await self._store.commit(changes)
        except ConflictError:
            return None  # another worker has it
        return leased

    async def _deliver(self, leased: Notification) -> None:
        unusable = False
        try:
            detail, ok, retryable = await self._send(leased), True, False
        except ChannelUnusableError as e:
            detail, ok, retryable, unusable = f"undeliverable: {e.detail}", False, False, True
        except DeliveryError as e:
            detail, ok, retryable = e.detail, False, e.retryable
        except TimeoutError:
            detail, ok, retryable = f"no answer within {self._settings.timeout_s:g}s", False, True
        except Exception as e:
            # A fault of ours in building the message (a template, a header) is the same on
            # every try: give it up now, with its reason, rather than let it escape the task.
            log.exception("%s to %s: could not be built", leased.id, leased.channel)
            detail, ok, retryable = f"{type(e).__name__}: {e}", False, False
        attempts = leased.attempts + 1
        now = self._clock.now()
        given_up = not ok and (not retryable or attempts >= self._settings.max_attempts)
        wait = min(self._settings.max_backoff_s, self._settings.backoff_s * 2 ** (attempts - 1))
        wait *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not secrecy
        settled = leased.model_copy(
            update={
                "delivered": ok, "attempts": attempts, "failed": given_up,
                "next_attempt_at": None if ok or given_up else now + timedelta(seconds=wait),
                "attempt_log": (*leased.attempt_log, DeliveryAttempt(at=now, ok=ok, detail=detail)),
            }
        )  # fmt: skip
        outcome = (
            "delivered" if ok
            else "undeliverable" if unusable
            else "failed" if given_up
            else "retry"
        )  # fmt: skip
        self._metrics.deliveries.labels(leased.channel, outcome).inc()
        log_at = logging.INFO if ok else logging.WARNING
        log.log(log_at, "%s to %s: %s (%s)", leased.id, leased.channel, outcome, detail)
        changes = Changes()
        changes.expect_notification(leased.id, leased)
        changes.put_notification(settled)
        try:
            await self._store.commit(changes)
        except (ConflictError, NotPendingError, StorageUnavailableError):
            # The lease runs out and the message is tried again: at least once.
            log.exception("%s: its attempt could not be recorded", leased.id)

    async def _send(self, message: Notification) -> str:
        notifications = self._rules.current.notifications
        channel = notifications.channels.get(message.channel)
        if channel is None:
            raise DeliveryError(f"channel {message.channel} is not in the rules", retryable=False)
        check_channel(channel, notifications.smtp)
        timeout = self._settings.timeout_s
        if channel.type is ChannelType.EMAIL:
            return await asyncio.wait_for(send_email(message, channel, notifications.smtp), timeout)
        if channel.url is None or self._session is None:
            raise DeliveryError("no webhook URL", retryable=False)
        try:
            url = channel.url.reveal()
        except ValueError as e:
            raise ChannelUnusableError(f"webhook URL: {e}") from e
        headers = {"X-Sereno-Notification": header_value(message.id)}
        payload = _PAYLOADS[channel.type](message)
        return await asyncio.wait_for(post_json(self._session, url, payload, headers), timeout)
