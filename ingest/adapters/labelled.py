"""Alerts described by Prometheus-style labels and annotations: Alertmanager, Prometheus, and
Grafana share this shape, so they share how it becomes an `Alert`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.models import Alert, AlertStatus
from ingest.adapters import AdapterContext, first_label, stable_fingerprint, unmapped_severity
from ingest.problems import FieldProblem, PayloadError

RESOURCE_LABELS = ("host", "hostname", "instance", "node", "pod")
SERVICE_LABELS = ("service", "job")
SUMMARY_ANNOTATIONS = ("summary", "description", "message")
# Alertmanager and Grafana write Go's zero time for "no end".
_GO_ZERO_YEAR = 1


@dataclass(frozen=True, slots=True)
class Labelled:
    status: AlertStatus
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    url: str
    source_id: str = ""
    group_key: str = ""


def end_time(value: datetime | None) -> datetime | None:
    """None for a missing end or Go's zero time."""
    return None if value is None or value.year == _GO_ZERO_YEAR else value


def require_alertname(labels: dict[str, str], what: str) -> None:
    """One alert of these families is named by its alertname label."""
    if not labels.get("alertname"):
        raise PayloadError(
            f"invalid {what}: alert without alertname",
            [FieldProblem("labels.alertname", "missing: every alert needs an alertname")],
        )


def to_alert(source: str, item: Labelled, ctx: AdapterContext) -> Alert:
    """The canonical alert for one labelled alert; the fingerprint is its label set."""
    rules = ctx.rules
    fingerprint = stable_fingerprint(source, item.labels)
    name = item.labels["alertname"]
    word = item.labels.get(rules.severity_label(source))
    return Alert(
        source=source,
        source_id=item.source_id or fingerprint.partition(":")[2],
        fingerprint=fingerprint,
        status=item.status,
        name=name[:512],
        resource=rules.resources.normalize(first_label(item.labels, *RESOURCE_LABELS))[:512],
        service=first_label(item.labels, *SERVICE_LABELS)[:512],
        severity=rules.severity_of(source, word),
        labels=item.labels | unmapped_severity(rules, source, word),
        annotations=item.annotations,
        summary=(first_label(item.annotations, *SUMMARY_ANNOTATIONS) or name)[:8192],
        starts_at=item.starts_at,
        ends_at=end_time(item.ends_at),
        received_at=ctx.received_at,
        source_url=item.url[:4096],
        group_key=item.group_key[:4096],
    )
