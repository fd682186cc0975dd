"""Grafana unified alerting, webhook contact point (payload version 1); the webhook of
Grafana's legacy alerting is read by ingest/adapters/grafana_legacy.py.

https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/integrations/webhook-notifier/

The optional HMAC signature (`X-Grafana-Alerting-Signature`) is checked by ingest's guard
before this adapter sees the body.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext, grafana_legacy
from ingest.adapters.batch import each_item
from ingest.adapters.labelled import Labelled, require_alertname, to_alert
from ingest.problems import from_validation

SOURCE = "grafana"


class _GrafanaAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime  # noqa: N815 - the sender's field names
    endsAt: AwareDatetime | None = None  # noqa: N815
    generatorURL: str = ""  # noqa: N815
    fingerprint: str = ""
    panelURL: str = ""  # noqa: N815
    dashboardURL: str = ""  # noqa: N815


class _GrafanaWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore")

    groupKey: str = ""  # noqa: N815
    externalURL: str = ""  # noqa: N815
    alerts: list[Any]  # each read alone, so one bad alert costs only itself


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    if grafana_legacy.is_legacy(payload):
        return grafana_legacy.parse(payload, ctx)
    try:
        hook = _GrafanaWebhook.model_validate(payload)
    except ValidationError as e:
        raise from_validation(e, "Grafana webhook") from e
    return each_item(hook.alerts, lambda item: _one(hook, item, ctx), "Grafana webhook")


def _one(hook: _GrafanaWebhook, item: object, ctx: AdapterContext) -> Alert:
    a = _GrafanaAlert.model_validate(item)
    require_alertname(a.labels, "Grafana webhook")
    return to_alert(
        SOURCE,
        Labelled(
            status=AlertStatus(a.status),
            labels=a.labels,
            annotations=a.annotations,
            starts_at=a.startsAt,
            ends_at=a.endsAt,
            # The panel shows the graph the on-call engineer wants; the rule is next best.
            url=a.panelURL or a.dashboardURL or a.generatorURL or hook.externalURL,
            source_id=a.fingerprint,
            group_key=hook.groupKey,
        ),
        ctx,
    )
