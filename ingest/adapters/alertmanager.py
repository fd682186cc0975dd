"""Prometheus Alertmanager webhook, version 4.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext, first_label, stable_fingerprint
from ingest.problems import FieldProblem, PayloadError, from_validation

SOURCE = "alertmanager"
# Alertmanager writes Go's zero time for "no end".
_GO_ZERO_YEAR = 1


class _AmAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime  # noqa: N815 - the sender's field names
    endsAt: AwareDatetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = ""


class _AmWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    groupKey: str = ""  # noqa: N815
    status: Literal["firing", "resolved"] | None = None
    receiver: str = ""
    externalURL: str = ""  # noqa: N815
    alerts: list[_AmAlert]


def _end(value: datetime | None) -> datetime | None:
    return None if value is None or value.year == _GO_ZERO_YEAR else value


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        hook = _AmWebhook.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Alertmanager webhook") from e
    missing = [
        FieldProblem(f"alerts[{i}].labels.alertname", "missing: every alert needs an alertname")
        for i, a in enumerate(hook.alerts)
        if not a.labels.get("alertname")
    ]
    if missing:
        raise PayloadError("invalid Alertmanager webhook: alerts without alertname", missing)
    rules = ctx.rules
    severity_label = rules.severity_label(SOURCE)
    alerts = []
    for a in hook.alerts:
        fingerprint = stable_fingerprint(SOURCE, a.labels)
        alerts.append(
            Alert(
                source=SOURCE,
                source_id=a.fingerprint or fingerprint.partition(":")[2],
                fingerprint=fingerprint,
                status=AlertStatus(a.status),
                name=a.labels["alertname"],
                resource=rules.resources.normalize(
                    first_label(a.labels, "host", "hostname", "instance", "node", "pod")
                ),
                service=first_label(a.labels, "service", "job"),
                severity=rules.severity_of(SOURCE, a.labels.get(severity_label)),
                labels=a.labels,
                annotations=a.annotations,
                summary=first_label(a.annotations, "summary", "description", "message")
                or a.labels["alertname"],
                starts_at=a.startsAt,
                ends_at=_end(a.endsAt),
                received_at=ctx.received_at,
                source_url=a.generatorURL or hook.externalURL,
                group_key=hook.groupKey,
            )
        )
    return alerts
