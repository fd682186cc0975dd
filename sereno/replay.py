"""`sereno replay`: recorded alerts through the real stages, on a virtual clock."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.bus import Stream
from core.clock import VirtualClock
from core.config import Settings
from core.models import (
    AwareDatetime,
    Incident,
    IncidentAlert,
    Notification,
    Suppression,
    Ticket,
    TimelineEntry,
    WouldBeCall,
)
from core.rules import Rules, RulesRef
from core.runtime import drain
from core.scheduler import tick
from core.store import IncidentFilter
from core.store.pages import all_alerts, all_timeline
from ingest.problems import PayloadError
from report.daily import daily_report, report_day_after
from report.model import DailyReport
from sereno.pipeline import Pipeline, build_pipeline

MAX_LIST = 1_000_000
MAX_DRAIN = timedelta(days=2)
"""How long `--drain` lets time pass after the last line at most."""
TRIM_EVERY_TICKS = 20
"""Streams are trimmed every this many ticks of the virtual clock (5 minutes by default)."""
PROGRESS_EVERY_S = 10.0
"""A long replay says how far it has got this often (wall clock)."""


class ReplayError(Exception):
    """The replay file cannot be used; the message names the file and line."""


class ReplayLine(BaseModel):
    """One received request: when, from which source, with which body."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: AwareDatetime | None = None
    offset_s: float | None = Field(default=None, ge=0)
    source: str = Field(min_length=1)
    payload: Any

    @model_validator(mode="after")
    def _one_time(self) -> Self:
        if (self.at is None) == (self.offset_s is None):
            raise ValueError("give exactly one of 'at' (a timestamp) or 'offset_s' (seconds)")
        return self


def read_lines(path: Path) -> list[tuple[int, ReplayLine]]:
    """Parse `path`; raise ReplayError naming the first bad line and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ReplayError(f"{path}: cannot read: {e}") from e
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            lines.append((number, ReplayLine.model_validate_json(raw)))
        except ValidationError as e:
            first = e.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "line"
            raise ReplayError(f"{path}:{number}: {where}: {first['msg']}") from e
    return lines


def _moment(line: ReplayLine, start: datetime) -> datetime:
    if line.at is not None:
        return line.at
    return start + timedelta(seconds=line.offset_s or 0.0)


@dataclass
class ReplayResult:
    incidents: list[Incident]
    tickets: list[Ticket]
    notifications: list[Notification]
    suppressed: list[Suppression]
    requests: int
    alerts: int
    rejected: list[dict[str, object]] = field(default_factory=list)
    elapsed_s: float = 0.0
    report: DailyReport | None = None
    """The daily report, when asked for: as the store knew it when the replay ended."""
    backend_calls: list[WouldBeCall] = field(default_factory=list)
    """What the configured external ticket backends would have been asked; none is called."""
    alerts_of: dict[str, list[IncidentAlert]] = field(default_factory=dict)
    """Every alert of each incident, by incident id."""
    timelines: dict[str, list[TimelineEntry]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        incidents = [
            _incident_json(i, self.alerts_of.get(i.id, []), self.timelines.get(i.id, []))
            for i in self.incidents
        ]
        real = [i for i in self.incidents if i.merged_into is None]
        return {
            "incidents": incidents,
            "tickets": [t.model_dump(mode="json") for t in self.tickets],
            "notifications": [_notification_json(n) for n in self.notifications],
            "suppressed": [s.model_dump(mode="json") for s in self.suppressed],
            "rejected": self.rejected,
            "backend_calls": [c.model_dump(mode="json") for c in self.backend_calls],
            "stats": {
                "requests": self.requests,
                "alerts": self.alerts,
                "rejected_requests": len(self.rejected),
                # A merged incident was a stand-in for its root cause's: not one more.
                "incidents": len(real),
                "merged_incidents": len(self.incidents) - len(real),
                "tickets": len(self.tickets),
                "backend_calls": len(self.backend_calls),
                "notifications": len(self.notifications),
                "suppressed": len(self.suppressed),
                "crises": sum(1 for i in real if i.crisis),
                "compression": round(self.alerts / len(real), 2) if real else None,
                "elapsed_s": round(self.elapsed_s, 3),
                "alerts_per_s": round(self.alerts / self.elapsed_s, 1) if self.elapsed_s else None,
            },
        }  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        out = [
            (
                f"{self.requests} requests, {self.alerts} alerts -> "
                f"{sum(1 for i in self.incidents if i.merged_into is None)} "
                f"incidents, {len(self.tickets)} tickets, {len(self.notifications)} notifications, "
                f"{len(self.suppressed)} suppressed"
            )
        ]
        tickets = {t.incident_id: t for t in self.tickets}
        for i in self.incidents:
            ticket = tickets.get(i.id)
            marks = "".join(
                f" [{m}]" for m, on in (("CRISIS", i.crisis), ("flapping", i.flapping)) if on
            )
            merged = f" -> merged into {i.merged_into}" if i.merged_into else ""
            out.append(
                f"  {i.id} {i.priority.value} {i.status.value:<12} {i.title}{marks}"
                f" ({i.member_count} alerts, {i.symptom_count} symptoms"
                f"{', ' + ticket.id if ticket else ''}){merged}"
            )
        by: dict[str, int] = {}
        for s in self.suppressed:
            by[s.by] = by.get(s.by, 0) + 1
        out.extend(f"  suppressed by {name}: {count} alert(s)" for name, count in by.items())
        out.extend(f"  rejected line {r['line']}: {r['error']}" for r in self.rejected)
        return "\n".join(out)


async def _tick_at(
    pipeline: Pipeline, clock: VirtualClock, moment: datetime, *, trim: bool = False
) -> None:
    clock.advance_to(moment)
    await tick(pipeline.storage.bus, clock)
    await drain(pipeline.stages, pipeline.storage.bus, pipeline.runtime_metrics)
    if trim:
        # As a live worker trims now and then: a day's events would otherwise pile up in
        # the scratch file until the end.
        for stream in Stream:
            await pipeline.storage.bus.trim(stream)


async def _run_timers(
    pipeline: Pipeline, clock: VirtualClock, every: timedelta, last: datetime
) -> None:
    """Let time pass until `last`: a tick at each moment some timer falls due (on the tick
    grid), then one at `last` itself when it lies ahead."""
    store = pipeline.storage.store
    while True:
        now = clock.now()
        far = last + every
        dues = [
            *(i.due_at for i in await store.incidents_due(far)),
            *(t.due_at for t in await store.tickets_due(far)),
            *(s.due_at for s in await store.notify_states_due(far)),
            *(n.next_attempt_at for n in await store.notifications_to_send(far)),
        ]
        ahead = [d for d in dues if d is not None and d > now]
        if not ahead or min(ahead) > last:
            break
        steps = -(-(min(ahead) - now) // every)
        await _tick_at(pipeline, clock, now + every * max(1, steps), trim=True)
    if clock.now() < last:
        await _tick_at(pipeline, clock, last, trim=True)


def _notification_json(notification: Notification) -> dict[str, object]:
    body = notification.model_dump(mode="json", include={"at", "channel", "kind", "text"})
    body["incident"] = notification.incident_id
    return body


def _incident_json(
    incident: Incident, alerts: list[IncidentAlert], timeline: list[TimelineEntry]
) -> dict[str, object]:
    body = incident.model_dump(
        mode="json",
        include={"id", "title", "status", "severity", "priority", "impact", "urgency",
                 "priority_reason", "service", "services", "users_affected", "site", "group",
                 "rule", "flapping", "opened_at", "acknowledged_at", "resolved_at", "crisis",
                 "crisis_rule", "crisis_declared_at", "merged_into"},
    )  # fmt: skip
    body["timeline"] = [e.model_dump(mode="json") for e in timeline]
    body["alerts"] = [
        {"source": a.source, "source_id": a.source_id, "role": a.role.value, "cause": a.cause,
         "name": a.name, "resource": a.resource, "status": a.status.value,
         "fingerprint": a.fingerprint, "count": a.count}
        for a in alerts
    ]  # fmt: skip
    return body


async def run_replay(
    path: Path,
    settings: Settings,
    rules: Rules,
    *,
    report: bool = False,
    report_day: date | None = None,
    data_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
    until: datetime | Literal["drain"] | None = None,
) -> ReplayResult:
    """Feed every line of `path` to the receiver at its moment and let the stages run.
    With `report`, also compute the daily report of `report_day` (default: the first
    report due after the last line). The pipeline's data lives in a temporary folder, or
    in `data_dir` (which must be empty) to be looked at afterwards. A long replay tells
    `progress` how far it has got, every `PROGRESS_EVERY_S` seconds. Time goes on past the
    last line until `until`, or with "drain" until no timer is left (at most `MAX_DRAIN`
    more): calm periods, hold-downs, settle windows and SLA targets end as they would have
    live."""
    lines = read_lines(path)
    stamped = [line.at for _, line in lines if line.at is not None]
    start = min(stamped) if stamped else datetime.now(UTC).replace(microsecond=0)
    ordered = sorted(lines, key=lambda item: _moment(item[1], start))
    clock = VirtualClock(start)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sereno-replay-") as scratch:
        # Always embedded: a replay must never touch the live pipeline's Redis.
        # Its data is thrown away at the end: never wait for the disk.
        replay_settings = settings.model_copy(
            update={"data_dir": data_dir or Path(scratch), "redis_url": "",
                    "sqlite_synchronous": "OFF"}
        )  # fmt: skip
        # External ticket backends are never called from a replay: their calls are listed.
        pipeline = build_pipeline(replay_settings, RulesRef(rules), clock, deliver=False)
        await pipeline.storage.open()
        try:
            alerts, rejected = 0, []
            every = timedelta(seconds=settings.tick_s)
            next_tick, ticks = start + every, 0
            said = began
            for done, (number, line) in enumerate(ordered):
                if progress is not None and time.perf_counter() - said >= PROGRESS_EVERY_S:
                    said = time.perf_counter()
                    progress(
                        f"{done:,} of {len(ordered):,} requests, virtual time "
                        f"{clock.now():%Y-%m-%d %H:%M}, {alerts:,} alerts, "
                        f"{alerts / (said - began):,.0f} alerts/s"
                    )
                moment = _moment(line, start)
                # Time passes between requests as it would have live: timers fall due.
                while next_tick <= moment:
                    ticks += 1
                    await _tick_at(pipeline, clock, next_tick, trim=ticks % TRIM_EVERY_TICKS == 0)
                    next_tick += every
                clock.advance_to(moment)
                try:
                    alerts += await pipeline.receiver.accept(line.source, line.payload)
                except PayloadError as e:
                    rejected.append({"line": number, "error": e.message,
                                     "detail": [p.as_json() for p in e.problems]})  # fmt: skip
                await drain(pipeline.stages, pipeline.storage.bus, pipeline.runtime_metrics)
            if until is not None:
                last = clock.now() + MAX_DRAIN if until == "drain" else until
                await _run_timers(pipeline, clock, every, last)
            store = pipeline.storage.store
            incidents = await store.list_incidents(IncidentFilter(limit=MAX_LIST))
            alerts_of = {i.id: await all_alerts(store, i.id) for i in incidents}
            timelines = {i.id: await all_timeline(store, i.id) for i in incidents}
            tickets = await store.list_tickets(MAX_LIST)
            notifications = await store.list_notifications(MAX_LIST)
            suppressed = await store.list_suppressions(MAX_LIST)
            backend_calls = [call for r in pipeline.rehearsals for call in r.calls]
            daily = None
            if report:
                day = report_day or report_day_after(settings, clock.now())
                daily = await daily_report(store, settings, day, clock.now())
        finally:
            await pipeline.storage.close()
    return ReplayResult(
        incidents=sorted(incidents, key=lambda i: (i.opened_at, int(i.id.split("-")[1]))),
        tickets=sorted(tickets, key=lambda t: int(t.id.split("-")[1])),
        notifications=notifications,
        suppressed=suppressed,
        requests=len(lines),
        alerts=alerts,
        rejected=rejected,
        elapsed_s=time.perf_counter() - began,
        report=daily,
        backend_calls=sorted(backend_calls, key=lambda c: c.at),
        alerts_of=alerts_of,
        timelines=timelines,
    )
