"""Accepting alerts: adapt the payload, store the alerts durably on the bus, count them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from core.bus import Bus, Stream
from core.clock import Clock
from core.config import IngestSettings
from core.metrics import IngestMetrics
from core.models import Alert, AlertReceived
from core.rules import RulesRef
from ingest.adapters import (
    UNMAPPED_SEVERITY,
    Adapter,
    AdapterContext,
    alertmanager,
    cloudwatch,
    datadog,
    generic,
    grafana,
    kibana,
    mapped,
    nagios,
    pagerduty,
    prometheus,
    zabbix,
)
from ingest.adapters.batch import PartlyRefusedError, Refusal
from ingest.problems import FieldProblem, PayloadError, from_validation

log = logging.getLogger(__name__)

UNMAPPED_VALUES_PER_SOURCE = 50
"""Distinct unmapped words counted by name per source; the rest count as (other), so a
sender cannot grow the metric without bound."""

ADAPTERS: Mapping[str, Adapter] = {
    alertmanager.SOURCE: alertmanager.parse,
    generic.SOURCE: generic.parse,
    prometheus.SOURCE: prometheus.parse,
    pagerduty.SOURCE: pagerduty.parse,
    cloudwatch.SOURCE: cloudwatch.parse,
    grafana.SOURCE: grafana.parse,
    datadog.SOURCE: datadog.parse,
    zabbix.SOURCE: zabbix.parse,
    nagios.SOURCE: nagios.parse,
    kibana.SOURCE: kibana.parse,
}


class UnknownSourceError(PayloadError):
    def __init__(self, source: str, mappings: Mapping[str, object]) -> None:
        known = ", ".join(sorted({*ADAPTERS, *mappings}))
        super().__init__(
            f"unknown source '{source}'; this Sereno receives: {known}",
            [FieldProblem("source", f"write one of: {known}")],
            status=404,
        )


OFF_LOOP_ALERTS = 500
"""Alerts of one request written as stream entries off the event loop, from this many."""


def _entries(alerts: list[Alert]) -> list[str]:
    return [AlertReceived(alert=a).model_dump_json() for a in alerts]


@dataclass(frozen=True, slots=True)
class Intake:
    """What one request brought: the alerts accepted, and the items of a batch refused."""

    alerts: list[Alert]
    refused: list[Refusal] = field(default_factory=list)


class Receiver:
    """The one way alerts enter the pipeline, shared by the HTTP routes and replay."""

    def __init__(
        self,
        bus: Bus,
        rules: RulesRef,
        clock: Clock,
        metrics: IngestMetrics,
        limits: IngestSettings,
    ) -> None:
        self._bus = bus
        self._rules = rules
        self._clock = clock
        self._metrics = metrics
        self.limits = limits
        self._unmapped_seen: dict[str, set[str]] = {}

    @property
    def sns_confirm_topics(self) -> tuple[str, ...]:
        return self.limits.source(cloudwatch.SOURCE).sns_confirm_topics

    def check_source(self, source: str) -> None:
        """Raise UnknownSourceError (404) for a source no adapter reads."""
        if source not in ADAPTERS and source not in self._rules.current.mappings:
            raise UnknownSourceError(source, self._rules.current.mappings)

    def adapt(self, source: str, payload: object) -> list[Alert]:
        """Canonical alerts from a source's parsed payload; PayloadError when it is wrong.
        The good alerts of a batch whose other items are refused are returned."""
        return self.intake(source, payload).alerts

    def intake(self, source: str, payload: object) -> Intake:
        """`adapt`, saying also which items of a batch were refused and why."""
        self.check_source(source)
        rules = self._rules.current
        context = AdapterContext(self._clock.now(), rules)
        refused: list[Refusal] = []
        try:
            if source in ADAPTERS:
                alerts = ADAPTERS[source](payload, context)
            else:  # built-in receivers win: a mapping cannot take over their names
                alerts = mapped.parse(source, rules.mappings[source], payload, context)
        except PartlyRefusedError as e:
            alerts, refused = e.alerts, e.refusals
        except ValidationError as e:
            # The adapter read the payload, but what it says breaks the canonical model's
            # limits (a 100 KiB label, a start in 1970): still the sender's to fix.
            raise from_validation(e, f"{source} alert") from e
        if len(alerts) > self.limits.max_alerts_per_request:
            raise PayloadError(
                f"{len(alerts)} alerts in one request; the limit is "
                f"{self.limits.max_alerts_per_request} (ingest.max_alerts_per_request)",
                [FieldProblem("alerts", "too many alerts in one request")],
                status=413,
            )
        return Intake(alerts, refused)

    async def store(self, source: str, alerts: list[Alert]) -> None:
        """Append `alerts` to the alerts stream; durable when this returns."""
        if len(alerts) >= OFF_LOOP_ALERTS:
            entries = await asyncio.to_thread(_entries, alerts)
        else:
            entries = _entries(alerts)
        if entries:
            await self._bus.publish(Stream.ALERTS, entries)
        self._metrics.alerts_received.labels(source).inc(len(alerts))
        for alert in alerts:
            if UNMAPPED_SEVERITY in alert.labels:
                self._count_unmapped(source, alert.labels[UNMAPPED_SEVERITY])

    def _count_unmapped(self, source: str, word: str) -> None:
        seen = self._unmapped_seen.setdefault(source, set())
        if word not in seen and len(seen) < UNMAPPED_VALUES_PER_SOURCE:
            seen.add(word)
        value = word if word in seen else "(other)"
        self._metrics.unmapped_severity.labels(source, value).inc()

    async def accept(self, source: str, payload: object) -> int:
        """Adapt and store; returns how many alerts were accepted."""
        alerts = self.adapt(source, payload)
        await self.store(source, alerts)
        return len(alerts)

    def rejected(self, source: str, status: int) -> None:
        self._metrics.requests_rejected.labels(source, str(status)).inc()
