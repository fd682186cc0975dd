"""The shared model: what flows between stages and what the store keeps.

Every stage speaks these types and nothing else; raw payloads never leave ingest.
Models are frozen: a change is a new value (`model_copy(update=...)`), which keeps
the pure correlation steps honest about what they return.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    model_validator,
)
from pydantic import AwareDatetime as PydanticAwareDatetime

SCHEMA_VERSION = 2
"""Version of the stream entry format; bumped when an entry's shape changes."""


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a time zone (for example a trailing Z)")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]

StampDatetime = PydanticAwareDatetime
"""A moment the pipeline stamped itself, from its clock or an alert already in UTC: only
checked to carry a zone, natively. A storm's incident holds them by the thousand, and
converting each on every read took a tenth of a day's replay."""

LabelName = Annotated[str, StringConstraints(min_length=1, max_length=256)]
LabelValue = Annotated[str, StringConstraints(max_length=16_384)]
Labels = Annotated[dict[LabelName, LabelValue], Field(max_length=256)]
"""Labels and annotations: up to 256, names up to 256 characters, values up to 16 KiB."""

EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
"""No monitoring system in use today reports an alert older than this."""


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Severity(enum.StrEnum):
    """One normalised scale for every source, most severe first."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for the most severe; lower is worse."""
        return _SEVERITY_ORDER.index(self)

    @classmethod
    def worst(cls, severities: list[Severity]) -> Severity:
        """The most severe of `severities` (INFO for none)."""
        return min(severities, key=lambda s: s.rank, default=cls.INFO)


_SEVERITY_ORDER = list(Severity)


OUTAGE_SEVERITIES = frozenset({Severity.CRITICAL, Severity.MAJOR})
"""Severities that say a resource is down or cut off, not merely in trouble."""


class Priority(enum.StrEnum):
    """ITIL priority, P1 the most urgent."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"
    P5 = "P5"


class Impact(enum.StrEnum):
    """How much of the business an incident touches (ITIL), from its services and spread."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Urgency(enum.StrEnum):
    """How fast it must be handled (ITIL), from the incident's worst firing severity."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class AlertStatus(enum.StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(Frozen):
    """One alert as a monitoring system reported it, in Sereno's words."""

    source: str = Field(min_length=1, max_length=64)
    source_id: str = Field(
        max_length=512,
        description="The source's own id: Alertmanager fingerprint, Zabbix event id, ...",
    )
    fingerprint: str = Field(
        min_length=1, max_length=128, description="Stable identity across repeats"
    )
    status: AlertStatus
    name: str = Field(min_length=1, max_length=512)
    resource: str = Field(max_length=512, default="")
    service: str = Field(max_length=512, default="")
    severity: Severity = Severity.WARNING
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    summary: str = Field(max_length=8192, default="")
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    received_at: AwareDatetime
    source_url: str = Field(max_length=4096, default="")
    group_key: str = Field(
        max_length=4096, default="", description="The sender's own grouping, if it has one"
    )

    @model_validator(mode="after")
    def _plausible_start(self) -> Self:
        if not EARLIEST <= self.starts_at <= self.received_at + timedelta(days=1):
            raise ValueError(
                f"starts_at {self.starts_at.isoformat()} is not plausible: it must lie between "
                f"{EARLIEST.year} and a day after the alert was received"
            )
        return self

    acknowledged: bool = Field(
        default=False, description="The source says a person has taken it (Nagios, PagerDuty)"
    )
    flapping: bool = Field(default=False, description="The source says it is flapping")
    in_downtime: bool = Field(
        default=False, description="The source says it is in a planned downtime"
    )


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class AlertRole(enum.StrEnum):
    MEMBER = "member"
    SYMPTOM = "symptom"


class IncidentAlert(Frozen):
    """An alert as part of an incident: the latest state of one fingerprint."""

    fingerprint: str
    source: str
    source_id: str
    name: str
    resource: str
    service: str
    severity: Severity
    status: AlertStatus
    role: AlertRole = AlertRole.MEMBER
    cause: str = Field(
        default="", description="Why it joined: for a symptom, e.g. its switch failed"
    )
    summary: str = ""
    first_seen: StampDatetime
    last_seen: StampDatetime
    count: int = 1
    flapping: bool = False
    labels: Labels = Field(
        default_factory=dict,
        description="The source's labels, its identity there (silencing it needs them)",
    )


class TimelineEntry(Frozen):
    at: StampDatetime
    kind: str
    text: str


SAMPLE_SIZE = 10
"""Alerts an incident's header carries as its sample: the first to join, kept current."""


class Incident(Frozen):
    """A real problem: a small header. Its alerts (members and symptoms) and its timeline are
    collections of their own in the store (`Store.incident_members`, `Store.timeline_page`),
    so an alert joining a storm's incident costs the same whatever its size. The header keeps
    the summaries that correlation, tickets and people need, updated as alerts change
    (`correlate.summary`), never recounted from all of them."""

    id: str
    key: str = Field(description="Correlation key; one open incident per key")
    title: str
    status: IncidentStatus = IncidentStatus.OPEN
    severity: Severity
    priority: Priority
    impact: Impact = Impact.LOW
    urgency: Urgency = Urgency.MEDIUM
    priority_reason: str = ""
    service: str = ""
    services: tuple[str, ...] = Field(default=(), description="Every service it touches")
    users_affected: int = 0
    site: str = ""
    group: str = Field(default="", description="Support group that owns it")
    assignee: str = Field(default="", description="Who holds it now, if anyone")
    rule: str = Field(default="", description="Correlation rule that grouped its alerts")
    opened_at: AwareDatetime
    opened_by: str = Field(default="", description="Fingerprint of the alert that opened it")
    acknowledged_at: AwareDatetime | None = None
    acknowledged_by: str = Field(default="", description="Who acknowledged it, if a person said")
    resolved_at: AwareDatetime | None = None
    resolving_since: AwareDatetime | None = Field(
        default=None, description="All alerts resolved; resolves when the hold-down ends"
    )
    due_at: AwareDatetime | None = Field(
        default=None, description="When time alone may change it (hold-down, crisis timers)"
    )
    flapping: bool = False
    crisis: bool = False
    crisis_rule: str = ""
    crisis_declared_at: AwareDatetime | None = None
    merged_into: str | None = Field(
        default=None, description="Resolved as a duplicate: its alerts are symptoms there"
    )
    runbook: str = Field(default="", description="Name of the runbook that applies")
    runbook_title: str = ""
    runbook_steps: tuple[str, ...] = Field(default=(), description="The runbook's first steps")
    alert_count: int = Field(default=0, description="Its alerts, members and symptoms")
    symptom_count: int = 0
    firing_count: int = 0
    flapping_count: int = Field(default=0, description="Its alerts taken as flapping")
    firing_severities: dict[Severity, int] = Field(
        default_factory=dict, description="Firing alerts by severity"
    )
    peak_severity: Severity = Field(
        default=Severity.INFO, description="The worst severity any of its alerts had"
    )
    resource_count: int = Field(default=0, description="Distinct resources of its alerts")
    member_resource_count: int = Field(default=0, description="... of its members only")
    member_name_count: int = Field(default=0, description="Distinct names of its members")
    title_name: str = Field(default="", description="Name of its first member")
    title_resource: str = Field(default="", description="Resource of its first member with one")
    sample: tuple[IncidentAlert, ...] = Field(
        default=(), description=f"Its first {SAMPLE_SIZE} alerts, as they are now"
    )
    state_changes: tuple[StampDatetime, ...] = Field(
        default=(), description="When it last opened, resolved or reopened (flapping)"
    )
    announced: bool = Field(
        default=True, description="Told downstream (tickets, pages); not while it settles"
    )
    settles_at: AwareDatetime | None = Field(
        default=None, description="When it is announced unless a cause absorbs it first"
    )
    version: int = Field(default=1, description="Bumped on every change")

    @property
    def member_count(self) -> int:
        return self.alert_count - self.symptom_count

    @property
    def first_member(self) -> IncidentAlert | None:
        """The first of its alerts that is part of the problem itself (not a symptom)."""
        return next((a for a in self.sample if a.role is AlertRole.MEMBER), None)

    @property
    def service_down(self) -> bool:
        """Whether it says its service is down at its site: unresolved and critical. A disk
        filling up on a file server is an incident, not a service down."""
        return self.status is not IncidentStatus.RESOLVED and self.severity is Severity.CRITICAL

    @property
    def down_site(self) -> str:
        """The site where it counts its service as down; empty when it does not."""
        return self.site if self.service and self.service_down else ""


def is_failing(alert: IncidentAlert) -> bool:
    """Whether `alert` says its resource is down or cut off: firing, major or worse. What
    sits behind that resource may fail because of it; a warning (high CPU) or a minor alert
    (one interface down) on a switch explains nothing about its hosts."""
    return (
        bool(alert.resource)
        and alert.status is AlertStatus.FIRING
        and alert.severity in OUTAGE_SEVERITIES
    )


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class TicketCategory(enum.StrEnum):
    """ITIL keeps these apart: monitoring opens incidents, users ask for service requests,
    and a problem is the cause behind incidents that keep coming back."""

    INCIDENT = "incident"
    SERVICE_REQUEST = "service_request"
    PROBLEM = "problem"


class TicketChange(Frozen):
    at: StampDatetime
    field: str
    old: str | None
    new: str
    note: str = ""


class SlaTarget(enum.StrEnum):
    RESPONSE = "response"
    """Someone acknowledged it."""
    RESOLUTION = "resolution"


class SlaBreach(Frozen):
    """A ticket's SLA target passed before it was met."""

    target: SlaTarget
    due_at: AwareDatetime
    noticed_at: AwareDatetime


class BackendCall(Frozen):
    """One call to an external ticket backend and how it went."""

    at: AwareDatetime
    action: str
    outcome: str
    detail: str = ""


class Ticket(Frozen):
    """The service desk's view of one incident."""

    id: str
    incident_id: str
    backend: str
    status: TicketStatus = TicketStatus.OPEN
    category: str = "incident"
    title: str
    priority: Priority
    service: str = ""
    description: str = ""
    created_at: AwareDatetime
    updated_at: AwareDatetime
    resolved_at: AwareDatetime | None = None
    runbook_url: str = ""
    incident_version: int = Field(default=0, description="Latest incident version applied")
    alert_count: int = 0
    announced_alert_count: int | None = Field(
        default=None,
        description="Alerts when its latest change went downstream (None: not kept yet)",
    )
    group: str = Field(default="", description="Support group that holds it")
    assignee: str = ""
    response_due_at: AwareDatetime | None = Field(default=None, description="SLA: acknowledge by")
    resolution_due_at: AwareDatetime | None = Field(default=None, description="SLA: resolve by")
    responded_at: AwareDatetime | None = Field(default=None, description="First acknowledged")
    breaches: tuple[SlaBreach, ...] = ()
    history: tuple[TicketChange, ...] = ()
    due_at: AwareDatetime | None = Field(
        default=None, description="When time alone may change it (an SLA target, a held update)"
    )
    announced_at: AwareDatetime | None = Field(
        default=None, description="When its latest change went downstream"
    )
    update_held: bool = Field(
        default=False, description="Changed since it was announced; goes out when coalescing ends"
    )
    incidents: tuple[str, ...] = Field(
        default=(), description="For a problem record: the incidents that recurred"
    )
    external_ref: str = Field(default="", description="Its key in an external backend")
    external_url: str = ""
    attempts: tuple[BackendCall, ...] = Field(
        default=(), description="For an external backend: the calls made, latest last"
    )

    @property
    def breached(self) -> bool:
        return bool(self.breaches)


class WouldBeCall(Frozen):
    """A call an external ticket backend would have made for one ticket change; a replay
    lists them instead of making them."""

    backend: str
    action: str = Field(description="create, comment or transition")
    ticket: str
    incident: str
    at: AwareDatetime
    event: str = Field(description="The ticket change that calls for it")


class IncidentEventKind(enum.StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    MERGED = "merged"
    """Resolved as a duplicate: its alerts joined their root cause's incident."""


class TicketEventKind(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SLA_BREACHED = "sla_breached"


class AlertReceived(Frozen):
    """Entry of the `alerts` stream."""

    type: Literal["alert"] = "alert"
    schema_version: int = SCHEMA_VERSION
    alert: Alert


class Tick(Frozen):
    """Entry saying time has passed: timers (hold-downs, heartbeats, crisis durations, SLA
    targets, escalations) fall due on it. The scheduler, or replay, publishes it on `alerts`;
    each stage passes it on downstream once it has handled it, so a stage sees time pass in
    order with the events that time caused."""

    type: Literal["tick"] = "tick"
    schema_version: int = SCHEMA_VERSION
    at: AwareDatetime


class CommandAction(enum.StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"
    ASSIGN = "assign"
    COMMENT = "comment"
    REOPEN = "reopen"


class IncidentCommand(Frozen):
    """Entry of the `alerts` stream: a person acknowledges, resolves, reopens, assigns or
    comments on an incident (through the API or an external ticket system, whose text is
    `note`); correlate, which owns incidents, applies it."""

    type: Literal["command"] = "command"
    schema_version: int = SCHEMA_VERSION
    action: CommandAction
    incident_id: str = Field(min_length=1, max_length=128)
    at: AwareDatetime
    by: str = Field(default="", max_length=256)
    note: str = Field(default="", max_length=4096)
    origin: str = Field(default="api", max_length=64, description="api, or the ticket backend")
    assignee: str = Field(default="", max_length=256, description="assign: to whom")
    text: str = Field(default="", max_length=4096, description="comment: what was said")
    group: str = Field(default="", max_length=256, description="assign: to which group")
    source: str = Field(default="", max_length=256, description="The actor's address")


class AlertsEntry(
    RootModel[Annotated[AlertReceived | Tick | IncidentCommand, Field(discriminator="type")]]
):
    """Any entry of the `alerts` stream: an alert, a tick of the clock, or a person's command."""

    model_config = ConfigDict(frozen=True)


class IncidentEvent(Frozen):
    """Entry of the `incidents` stream: the incident's header after a change, and what
    changed: the alerts that joined, left or changed and the timeline entries written in
    that one commit. A reader that needs every alert pages through the store."""

    type: Literal["incident"] = "incident"
    schema_version: int = SCHEMA_VERSION
    kind: IncidentEventKind
    at: AwareDatetime
    incident: Incident
    alerts: tuple[IncidentAlert, ...] = Field(
        default=(), description="Its alerts this change added or changed"
    )
    notes: tuple[TimelineEntry, ...] = Field(
        default=(), description="Timeline entries this change wrote"
    )
    reason: str = ""
    crisis_declared: bool = Field(default=False, description="This change made it a crisis")
    priority_raised: bool = False


class IncidentsEntry(RootModel[Annotated[IncidentEvent | Tick, Field(discriminator="type")]]):
    """Any entry of the `incidents` stream: an incident event, or a tick of the clock."""

    model_config = ConfigDict(frozen=True)


class TicketEvent(Frozen):
    """Entry of the `tickets` stream."""

    type: Literal["ticket"] = "ticket"
    schema_version: int = SCHEMA_VERSION
    kind: TicketEventKind
    at: AwareDatetime
    ticket: Ticket


class TicketsEntry(RootModel[Annotated[TicketEvent | Tick, Field(discriminator="type")]]):
    """Any entry of the `tickets` stream: a ticket event, or a tick of the clock."""

    model_config = ConfigDict(frozen=True)


class DeliveryAttempt(Frozen):
    """One try at handing a notification to its channel, and what the channel answered."""

    at: AwareDatetime
    ok: bool
    detail: str = Field(default="", max_length=1024)


class Notification(Frozen):
    """One message to people: decided by the notify stage (pending), then handed to its
    channel by the delivery loop, every attempt recorded."""

    id: str
    at: AwareDatetime
    channel: str
    kind: str
    incident_id: str
    text: str = Field(description="Plain text; its first line is the subject")
    html: str = Field(default="", description="HTML body, for channels that show HTML")
    delivered: bool = True
    attempts: int = 1
    failed: bool = Field(default=False, description="Given up on after its last attempt")
    next_attempt_at: AwareDatetime | None = Field(
        default=None, description="When the delivery loop tries it (next); None: not pending"
    )
    attempt_log: tuple[DeliveryAttempt, ...] = ()

    @property
    def subject(self) -> str:
        return self.text.split("\n", 1)[0]


class NotifyState(Frozen):
    """What the notify stage has told people about one incident, and its timers: the next
    escalation while nobody acknowledges it, the next crisis update while the crisis lasts."""

    incident_id: str
    incident_version: int = Field(default=0, description="Latest incident version handled")
    group: str = ""
    escalation_level: int = Field(default=0, description="Index of the level notified last")
    escalation_round: int = Field(default=0, description="Times the levels were run again")
    escalations: int = Field(default=0, description="Escalation messages so far")
    escalate_at: AwareDatetime | None = None
    crisis_declared_at: AwareDatetime | None = None
    crisis_updates: int = 0
    crisis_update_at: AwareDatetime | None = None
    crisis_closed_at: AwareDatetime | None = None

    @property
    def due_at(self) -> AwareDatetime | None:
        """The earliest of its timers; None when nothing waits on time."""
        timers = [t for t in (self.escalate_at, self.crisis_update_at) if t is not None]
        return min(timers, default=None)


JsonDict = dict[str, Any]


class AlertState(Frozen):
    """Correlation's memory of one fingerprint: where it went and how often it came."""

    fingerprint: str
    incident_id: str | None
    status: AlertStatus
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = 1
    changes: tuple[AwareDatetime, ...] = Field(
        default=(), description="Its recent changes of state, for flapping detection"
    )
    flapping: bool = False


class Suppression(Frozen):
    """An alert that opened nothing because a silence or a maintenance window covered it."""

    at: AwareDatetime
    fingerprint: str
    source: str
    source_id: str
    name: str
    resource: str
    service: str
    by: str = Field(description="silence:<id>, maintenance:<window> or heartbeat:<name>")
    reason: str


class AlertVolume(Frozen):
    """How many alerts of one name came from one source in one hour, and what became of
    them: the daily report's raw counts. Correlate commits them as increments with the
    alerts they count, so a redelivered batch never counts twice."""

    hour: AwareDatetime = Field(description="Start of the hour (UTC) they were received in")
    source: str
    name: str
    received: int = 0
    deduplicated: int = Field(default=0, description="Repeats of an alert already known")
    suppressed: int = Field(default=0, description="Taken by a silence or maintenance window")
