"""A flat JSON alert, or a list of them, for anything that can POST JSON."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext, stable_fingerprint, unmapped_severity
from ingest.adapters.batch import each_item
from ingest.problems import from_validation

SOURCE = "generic"


class _GenericAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512)
    resource: str = Field(default="", max_length=512)
    service: str = Field(default="", max_length=512)
    severity: str | None = Field(default=None, max_length=64)
    status: Literal["firing", "resolved"] = "firing"
    summary: str = Field(default="", max_length=8192)
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    source_url: str = Field(default="", max_length=4096)
    id: str = Field(default="", max_length=512, description="The sender's own id for this alert")


_MANY = TypeAdapter(list[Any])  # each read alone, so one bad alert costs only itself


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    if not isinstance(payload, list):
        try:
            return [_one(_GenericAlert.model_validate(payload), ctx)]
        except ValidationError as e:
            raise from_validation(e, "generic alert") from e
    items = _MANY.validate_python(payload)
    return each_item(
        items, lambda item: _one(_GenericAlert.model_validate(item), ctx), "list of alerts", ""
    )


def _one(a: _GenericAlert, ctx: AdapterContext) -> Alert:
    identity = (
        {"id": a.id} if a.id else {"name": a.name, "resource": a.resource, "service": a.service}
    )
    fingerprint = stable_fingerprint(SOURCE, identity)
    return Alert(
        source=SOURCE,
        source_id=a.id or fingerprint.partition(":")[2],
        fingerprint=fingerprint,
        status=AlertStatus(a.status),
        name=a.name,
        resource=ctx.rules.resources.normalize(a.resource),
        service=a.service,
        severity=ctx.rules.severity_of(SOURCE, a.severity),
        labels=a.labels | unmapped_severity(ctx.rules, SOURCE, a.severity),
        annotations=a.annotations,
        summary=a.summary or a.name,
        starts_at=a.starts_at or ctx.received_at,
        ends_at=a.ends_at,
        received_at=ctx.received_at,
        source_url=a.source_url,
    )
