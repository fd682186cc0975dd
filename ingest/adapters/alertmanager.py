"""Prometheus Alertmanager webhook, version 4.

https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext
from ingest.adapters.batch import each_item
from ingest.adapters.labelled import Labelled, require_alertname, to_alert
from ingest.problems import from_validation

SOURCE = "alertmanager"


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
    alerts: list[Any]  # each read alone, so one bad alert costs only itself


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        hook = _AmWebhook.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Alertmanager webhook") from e
    return each_item(hook.alerts, lambda item: _one(hook, item, ctx), "Alertmanager webhook")


def _one(hook: _AmWebhook, item: object, ctx: AdapterContext) -> Alert:
    a = _AmAlert.model_validate(item)
    require_alertname(a.labels, "Alertmanager webhook")
    return to_alert(
        SOURCE,
        Labelled(
            status=AlertStatus(a.status),
            labels=a.labels,
            annotations=a.annotations,
            starts_at=a.startsAt,
            ends_at=a.endsAt,
            url=a.generatorURL or hook.externalURL,
            source_id=a.fingerprint,
            group_key=hook.groupKey,
        ),
        ctx,
    )
