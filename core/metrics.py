"""Metric constructors. Each takes a registry, so every test and every app gets its own."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True, slots=True)
class IngestMetrics:
    alerts_received: Counter
    requests_rejected: Counter
    unmapped_severity: Counter


def make_ingest_metrics(registry: CollectorRegistry) -> IngestMetrics:
    return IngestMetrics(
        alerts_received=Counter(
            "sereno_ingest_alerts_received_total",
            "Alerts accepted and stored, by source.",
            ["source"],
            registry=registry,
        ),
        requests_rejected=Counter(
            "sereno_ingest_requests_rejected_total",
            "Requests refused, by source and HTTP status.",
            ["source", "status"],
            registry=registry,
        ),
        unmapped_severity=Counter(
            "sereno_ingest_unmapped_severity_total",
            "Alerts accepted with a severity word no rule maps (given the source's default),"
            " by source and word.",
            ["source", "value"],
            registry=registry,
        ),
    )


@dataclass(frozen=True, slots=True)
class CorrelateMetrics:
    incidents_opened: Counter
    alerts_deduplicated: Counter
    alerts_suppressed: Counter
    symptoms_joined: Counter
    incidents_merged: Counter
    crises_declared: Counter
    heartbeats_seen: Counter


def make_correlate_metrics(registry: CollectorRegistry) -> CorrelateMetrics:
    return CorrelateMetrics(
        incidents_opened=Counter(
            "sereno_correlate_incidents_opened_total", "Incidents opened.", registry=registry
        ),
        alerts_deduplicated=Counter(
            "sereno_correlate_alerts_deduplicated_total",
            "Alerts that repeated a fingerprint's known state.",
            registry=registry,
        ),
        alerts_suppressed=Counter(
            "sereno_correlate_alerts_suppressed_total",
            "Alerts a silence or maintenance window kept from opening anything, by kind.",
            ["by"],
            registry=registry,
        ),
        symptoms_joined=Counter(
            "sereno_correlate_symptoms_joined_total",
            "Alerts that joined their root cause's incident as symptoms.",
            registry=registry,
        ),
        incidents_merged=Counter(
            "sereno_correlate_incidents_merged_total",
            "Incidents merged into their root cause's incident when the cause arrived.",
            registry=registry,
        ),
        crises_declared=Counter(
            "sereno_correlate_crises_declared_total",
            "Incidents declared a crisis, by crisis rule.",
            ["rule"],
            registry=registry,
        ),
        heartbeats_seen=Counter(
            "sereno_correlate_heartbeats_seen_total",
            "Signs of life of monitors, by heartbeat.",
            ["heartbeat"],
            registry=registry,
        ),
    )


@dataclass(frozen=True, slots=True)
class TicketerMetrics:
    tickets_created: Counter
    sla_breaches: Counter
    deliveries: Counter
    acknowledge_back: Counter


def make_ticketer_metrics(registry: CollectorRegistry) -> TicketerMetrics:
    return TicketerMetrics(
        tickets_created=Counter(
            "sereno_ticketer_tickets_created_total",
            "Tickets created, by backend.",
            ["backend"],
            registry=registry,
        ),
        sla_breaches=Counter(
            "sereno_ticketer_sla_breaches_total",
            "SLA targets passed unmet, by target (response, resolution) and priority.",
            ["target", "priority"],
            registry=registry,
        ),
        deliveries=Counter(
            "sereno_ticketer_delivery_attempts_total",
            "Calls to external ticket backends, by backend and outcome.",
            ["backend", "outcome"],
            registry=registry,
        ),
        acknowledge_back=Counter(
            "sereno_ticketer_acknowledge_back_calls_total",
            "Calls telling a source an incident was acknowledged or resolved, by source and "
            "outcome.",
            ["source", "outcome"],
            registry=registry,
        ),
    )


@dataclass(frozen=True, slots=True)
class NotifyMetrics:
    messages: Counter
    deliveries: Counter


def make_notify_metrics(registry: CollectorRegistry) -> NotifyMetrics:
    return NotifyMetrics(
        messages=Counter(
            "sereno_notify_messages_total",
            "Messages decided (one per channel), by kind.",
            ["kind"],
            registry=registry,
        ),
        deliveries=Counter(
            "sereno_notify_deliveries_total",
            "Delivery attempts, by channel and outcome (delivered, retry, failed).",
            ["channel", "outcome"],
            registry=registry,
        ),
    )


@dataclass(frozen=True, slots=True)
class RuntimeMetrics:
    stage_latency: Histogram
    entries_processed: Counter
    dead_letters: Counter
    bus_unread: Gauge
    bus_pending: Gauge


def make_runtime_metrics(registry: CollectorRegistry) -> RuntimeMetrics:
    return RuntimeMetrics(
        stage_latency=Histogram(
            "sereno_stage_latency_seconds",
            "Time from an entry's publication to its processing, by stage.",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        ),
        entries_processed=Counter(
            "sereno_stage_entries_processed_total",
            "Stream entries a stage processed.",
            ["stage"],
            registry=registry,
        ),
        dead_letters=Counter(
            "sereno_bus_dead_letters_total",
            "Entries set aside because they can never be processed, by stage and reason.",
            ["stage", "reason"],
            registry=registry,
        ),
        bus_unread=Gauge(
            "sereno_bus_backlog_unread",
            "Entries not yet read by a consumer group.",
            ["stream", "group"],
            registry=registry,
        ),
        bus_pending=Gauge(
            "sereno_bus_backlog_pending",
            "Entries read but not yet acknowledged by a consumer group.",
            ["stream", "group"],
            registry=registry,
        ),
    )


@dataclass(frozen=True, slots=True)
class BusMetrics:
    reclaimed: Counter


def make_bus_metrics(registry: CollectorRegistry) -> BusMetrics:
    """What the bus itself counts; the backlog gauges are the runtime's, set at scrape."""
    return BusMetrics(
        reclaimed=Counter(
            "sereno_bus_reclaimed_total",
            "Entries taken over from a consumer that held them past the idle threshold, by"
            " stream and group.",
            ["stream", "group"],
            registry=registry,
        )
    )
