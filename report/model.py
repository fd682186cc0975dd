"""The daily report as data: every figure a person can check, before any rendering.

Computed by `report.compute` from what the store holds; rendered by `report.render` to
JSON, Markdown or HTML. Times are UTC here and shown in the configured time zone.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from core.models import AwareDatetime, Priority, SlaTarget, TimelineEntry


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Figure(_Frozen):
    """One figure of the day beside the day before and the mean of the seven days before."""

    value: float | None = Field(description="None when it cannot be told (nothing to measure)")
    previous: float | None = None
    average_7d: float | None = None


class SourceVolume(_Frozen):
    source: str
    received: Figure
    deduplicated: Figure
    suppressed: Figure


class HourVolume(_Frozen):
    """One hour of the day, starting at `hour` (UTC)."""

    hour: AwareDatetime
    received: int
    deduplicated: int
    suppressed: int
    incidents_opened: int
    backlog: int = Field(description="Incidents open at the end of the hour")


class AlertsSection(_Frozen):
    received: Figure
    deduplicated: Figure
    suppressed: Figure
    incidents: Figure = Field(description="Incidents opened, duplicates merged away excluded")
    compression: Figure = Field(description="Alerts received per incident opened")
    by_source: tuple[SourceVolume, ...]
    suppressed_by: tuple[tuple[str, int], ...] = Field(
        description="(silence, maintenance or heartbeat, alerts it suppressed)"
    )
    by_hour: tuple[HourVolume, ...]


class Breakdown(_Frozen):
    name: str
    opened: int
    resolved: int


class IncidentsSection(_Frozen):
    opened: Figure
    resolved: Figure
    merged: int = Field(description="Opened and merged into another as duplicates")
    by_priority: tuple[Breakdown, ...]
    by_service: tuple[Breakdown, ...]
    by_group: tuple[Breakdown, ...]
    mtta_minutes: Figure = Field(description="Mean time to acknowledge, of those acknowledged")
    mttr_minutes: Figure = Field(description="Mean time to resolve, of those resolved")


class IncidentLine(_Frozen):
    """An incident named in a list: enough to find it and judge it."""

    id: str
    title: str
    priority: Priority
    status: str
    service: str
    group: str
    opened_at: AwareDatetime
    age_hours: float = Field(description="Hours from opening to the report time")


class HeldLine(_Frozen):
    """An open incident and who holds its ticket: since when, and how the holder came to
    hold it (who assigned it, and from where)."""

    holder: str
    group: str
    id: str
    title: str
    priority: Priority
    held_since: AwareDatetime
    held_hours: float = Field(description="Hours the holder has held it at the report time")
    by: str = ""


class BacklogSection(_Frozen):
    open: Figure
    by_priority: tuple[tuple[Priority, int], ...]
    by_age: tuple[tuple[str, int], ...] = Field(description="(age band, incidents)")
    oldest: tuple[IncidentLine, ...]
    by_holder: tuple[HeldLine, ...] = Field(
        default=(), description="Open incidents by who holds their ticket, longest held first"
    )


class Breach(_Frozen):
    ticket_id: str
    incident_id: str
    title: str
    priority: Priority
    group: str
    target: SlaTarget
    due_at: AwareDatetime
    noticed_at: AwareDatetime


class SlaSection(_Frozen):
    response_settled: int = Field(description="Tickets whose response target was met or missed")
    response_met: int
    response_compliance: Figure = Field(description="Percent of response targets met")
    resolution_settled: int
    resolution_met: int
    resolution_compliance: Figure
    breaches: tuple[Breach, ...]
    merged_left_out: int = Field(
        default=0,
        description="Tickets of incidents merged into their cause, left out of the SLA "
        "figures and breaches because the cause's ticket carries the work",
    )


class Crisis(_Frozen):
    id: str
    title: str
    priority: Priority
    service: str
    rule: str
    declared_at: AwareDatetime | None
    resolved_at: AwareDatetime | None
    timeline: tuple[TimelineEntry, ...]


class NoisyAlert(_Frozen):
    source: str
    name: str
    received: int
    deduplicated: int
    suppressed: int


class FlappingCheck(_Frozen):
    source: str
    name: str
    resource: str
    incident_id: str
    count: int


class ProblemCandidate(_Frozen):
    """The same service or alert behind several incidents in seven days."""

    kind: str = Field(description="service or alert")
    name: str
    incidents: int
    incident_ids: tuple[str, ...]
    last_opened_at: AwareDatetime


class DailyReport(_Frozen):
    """The report for the operations meeting held at `end`, covering [`start`, `end`)."""

    date: date
    start: AwareDatetime
    end: AwareDatetime
    timezone: str
    generated_at: AwareDatetime
    alerts: AlertsSection
    incidents: IncidentsSection
    backlog: BacklogSection
    sla: SlaSection
    crises: tuple[Crisis, ...]
    noisiest: tuple[NoisyAlert, ...]
    flapping: tuple[FlappingCheck, ...]
    problem_candidates: tuple[ProblemCandidate, ...]
    without_runbook: tuple[IncidentLine, ...]
