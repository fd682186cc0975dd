"""Alertmanager API v2 `POST /api/v2/alerts`, so Prometheus can send to Sereno directly.

https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml (postableAlerts)

Prometheus re-sends every firing alert at each evaluation with an `endsAt` in the future and
sends it once more with an `endsAt` in the past when it resolves.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext
from ingest.adapters.batch import each_item
from ingest.adapters.labelled import Labelled, end_time, require_alertname, to_alert
from ingest.problems import from_validation

SOURCE = "prometheus"


class _PostableAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime | None = None  # noqa: N815 - the sender's field names
    endsAt: AwareDatetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815


_POSTABLE = TypeAdapter(list[Any])  # each read alone, so one bad alert costs only itself


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        posted = _POSTABLE.validate_python(payload)
    except ValidationError as e:
        raise from_validation(e, "Alertmanager API v2 alerts", prefix="alerts") from e
    return each_item(posted, lambda item: _one(item, ctx), "Alertmanager API v2 alerts")


def _one(item: object, ctx: AdapterContext) -> Alert:
    a = _PostableAlert.model_validate(item)
    require_alertname(a.labels, "Alertmanager API v2 alerts")
    ends = end_time(a.endsAt)
    resolved = ends is not None and ends <= ctx.received_at
    return to_alert(
        SOURCE,
        Labelled(
            status=AlertStatus.RESOLVED if resolved else AlertStatus.FIRING,
            labels=a.labels,
            annotations=a.annotations,
            starts_at=a.startsAt or ctx.received_at,
            ends_at=ends if resolved else None,
            url=a.generatorURL,
        ),
        ctx,
    )
