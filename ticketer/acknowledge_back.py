"""Sending an acknowledgement back to Alertmanager: a person acknowledged an incident in
Sereno (API, or a ticket system's callback), so its firing Alertmanager alerts are
silenced there, and Alertmanager stops notifying about what someone already holds.

The outbox pattern of ticket delivery: this stage reads `incidents` as a consumer group of
its own (`ack-alertmanager`), so an Alertmanager that is down holds back only this stage.
It retries with backoff while Alertmanager is unavailable and acknowledges an event only
once done, in the same commit as the store marker that remembers the silences made for
the incident. A redelivered event finds that marker; a crash between creating a silence
and the commit is covered by looking at Alertmanager's own silences before creating one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from tenacity import AsyncRetrying, retry_if_exception_type, wait_random_exponential

from core.bus import Entry, Stream
from core.clock import Clock
from core.metrics import RuntimeMetrics, TicketerMetrics
from core.models import IncidentEvent, IncidentEventKind, IncidentsEntry, IncidentStatus
from core.runtime import decode, set_aside
from core.store import Ack, Changes, Store
from core.store.pages import all_alerts
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError
from ticketer.delivery import RetryAfterOrBackoff
from ticketer.silencer import (
    AlertmanagerSilencer,
    AmSilence,
    Matcher,
    NewSilence,
    same_matchers,
    wanted_silences,
)
from ticketer.texts import TicketTexts

log = logging.getLogger(__name__)

Silenced = dict[str, str]
"""The silences made for one incident: its matchers written out -> the silence's id."""

_ENDED = {IncidentEventKind.RESOLVED, IncidentEventKind.MERGED}
_LIVE_STATES = {"active", "pending"}


def matcher_key(matchers: Sequence[Matcher]) -> str:
    """A matcher set written as Alertmanager shows it: {alertname="X",instance="a"}."""
    return "{" + ",".join(f"{m.name}={json.dumps(m.value)}" for m in matchers) + "}"


def marker_name(incident_id: str) -> str:
    return f"ack-alertmanager:{incident_id}"


class AcknowledgeBackStage:
    """Consumes `incidents` as group `ack-alertmanager`: an acknowledged incident (or a new
    alert joining one) gets a silence per firing Alertmanager alert; a resolved one has
    them expired, when the settings ask."""

    stream = Stream.INCIDENTS

    def __init__(
        self,
        store: Store,
        silencer: AlertmanagerSilencer,
        texts: TicketTexts,
        clock: Clock,
        base_url: str,
        metrics: TicketerMetrics,
        runtime_metrics: RuntimeMetrics,
    ) -> None:
        self._store = store
        self._silencer = silencer
        self._settings = silencer.settings
        self._texts = texts
        self._clock = clock
        self._base_url = base_url
        self._metrics = metrics
        self._runtime_metrics = runtime_metrics
        self.name = f"ack-{silencer.name}"

    async def handle(self, entries: Sequence[Entry]) -> None:
        decoded, bad = decode(entries, IncidentsEntry)
        await set_aside(self._store, self, bad, self._runtime_metrics)
        for entry, value in decoded:
            event = value.root
            changes = Changes(acks=[Ack(self.stream, self.name, (entry.id,))])
            if isinstance(event, IncidentEvent):
                name = marker_name(event.incident.id)
                known: Silenced = json.loads(await self._store.marker(name) or "{}")
                after = await self._follow(event, known)
                if after != known:
                    changes.markers[name] = json.dumps(after, sort_keys=True)
            await self._store.commit(changes)

    async def _follow(self, event: IncidentEvent, known: Silenced) -> Silenced:
        """The silences of the incident once `event` has been sent back."""
        incident = event.incident
        if event.kind in _ENDED:
            if known and self._settings.expire_on_resolve:
                await self._retrying("expire", lambda: self._expire(known), {})
            # Forgotten either way: acknowledging it after a reopen silences it again.
            return {}
        if incident.status is not IncidentStatus.ACKNOWLEDGED:
            return known
        alerts = await all_alerts(self._store, incident.id)
        wanted = [m for m in wanted_silences(alerts) if matcher_key(m) not in known]
        if not wanted:
            return known
        return await self._retrying("silence", lambda: self._silence(event, wanted, known), known)

    async def _silence(
        self, event: IncidentEvent, wanted: list[tuple[Matcher, ...]], known: Silenced
    ) -> Silenced:
        incident = event.incident
        # A silence made for this incident before a crash (or a lost answer) is reused.
        mine = re.compile(rf"\b{re.escape(incident.id)}\b")
        existing = [
            s for s in await self._silencer.silences()
            if s.status.state in _LIVE_STATES and s.createdBy == self._settings.created_by
            and mine.search(s.comment)
        ]  # fmt: skip
        now = self._clock.now()
        until = now + self._settings.duration
        comment = self._texts.silence_comment(
            incident, incident.acknowledged_by, until,
            f"{self._base_url}/incidents/{incident.id}",
        )  # fmt: skip
        made = dict(known)
        for matchers in wanted:
            found: AmSilence | None = next(
                (s for s in existing if same_matchers(s.matchers, matchers)), None
            )
            if found is None:
                silence = NewSilence(matchers, now, until, self._settings.created_by, comment)
                made[matcher_key(matchers)] = await self._silencer.create(silence)
                self._count("created")
            else:
                made[matcher_key(matchers)] = found.id
                self._count("found")
        return made

    async def _expire(self, known: Silenced) -> Silenced:
        live = {s.id for s in await self._silencer.silences() if s.status.state in _LIVE_STATES}
        for silence_id in known.values():
            # One already expired (by hand, or by its end) is left alone: Alertmanager
            # refuses to expire it again.
            if silence_id in live:
                await self._silencer.expire(silence_id)
                self._count("expired")
        return {}

    async def _retrying(
        self, action: str, call: Callable[[], Awaitable[Silenced]], refused: Silenced
    ) -> Silenced:
        """`call` until Alertmanager answers; a refusal for good is logged, given up, and
        leaves `refused`."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(BackendUnavailableError),
            wait=RetryAfterOrBackoff(
                wait_random_exponential(multiplier=0.5, max=self._settings.backoff_max_s)
            ),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    try:
                        return await call()
                    except BackendUnavailableError as e:
                        self._count("unavailable")
                        log.warning("%s: %s: Alertmanager unavailable: %s", self.name, action, e)
                        raise
        except BackendRejectedError as e:
            self._count("rejected")
            log.error("%s: %s refused for good: %s", self.name, action, e)  # noqa: TRY400 - the refusal is the message
        return refused

    def _count(self, outcome: str) -> None:
        self._metrics.acknowledge_back.labels(self._silencer.name, outcome).inc()
