"""A flat JSON alert, or a list of them, for anything that can POST JSON."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.models import Alert, AlertStatus, AwareDatetime
from ingest.adapters import AdapterContext, stable_fingerprint
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


_MANY = TypeAdapter(list[_GenericAlert])


def parse(payload: object, ctx: AdapterContext) -> list[Alert]:
    try:
        if isinstance(payload, list):
            items = _MANY.validate_python(payload)
        else:
            items = [_GenericAlert.model_validate(payload)]
    except ValidationError as e:
        raise from_validation(e, "generic alert") from e
    alerts = []
    for a in items:
        identity = (
            {"id": a.id} if a.id else {"name": a.name, "resource": a.resource, "service": a.service}
        )
        fingerprint = stable_fingerprint(SOURCE, identity)
        alerts.append(
            Alert(
                source=SOURCE,
                source_id=a.id or fingerprint.partition(":")[2],
                fingerprint=fingerprint,
                status=AlertStatus(a.status),
                name=a.name,
                resource=ctx.rules.resources.normalize(a.resource),
                service=a.service,
                severity=ctx.rules.severity_of(SOURCE, a.severity),
                labels=a.labels,
                annotations=a.annotations,
                summary=a.summary or a.name,
                starts_at=a.starts_at or ctx.received_at,
                ends_at=a.ends_at,
                received_at=ctx.received_at,
                source_url=a.source_url,
            )
        )
    return alerts
