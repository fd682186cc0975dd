"""Incident lifecycle as pure functions: open, join, resolve (with hold-down), reopen,
acknowledge, merge. Each change leaves a timeline entry saying which rule did it and why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from core.models import (
    Alert,
    AlertRole,
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Priority,
    TimelineEntry,
)
from core.rules import Rules
from core.runbooks import Runbook
from correlate.assess import assess


@dataclass(frozen=True, slots=True)
class Arrival:
    """An alert as correlation has placed it: its service, and (for a symptom) why."""

    alert: Alert
    service: str
    flapping: bool = False
    role: AlertRole = AlertRole.MEMBER
    cause: str = ""
    flapping_why: str = ""
    """Why it is flapping, when neither its own changes of state nor its source say so."""


def _member(arrival: Arrival) -> IncidentAlert:
    alert = arrival.alert
    return IncidentAlert(
        fingerprint=alert.fingerprint,
        source=alert.source,
        source_id=alert.source_id,
        name=alert.name,
        resource=alert.resource,
        service=arrival.service,
        severity=alert.severity,
        status=alert.status,
        role=arrival.role,
        cause=arrival.cause,
        summary=alert.summary,
        first_seen=alert.received_at,
        last_seen=alert.received_at,
        flapping=arrival.flapping,
        labels=alert.labels,
    )


def where(alert: Alert | IncidentAlert) -> str:
    """An alert in a few words: what, on which resource."""
    return f"{alert.name} on {alert.resource}" if alert.resource else alert.name


def title_for(alerts: tuple[IncidentAlert, ...]) -> str:
    """A title a person can read: what fails, where, and how widely."""
    members = [a for a in alerts if a.role is AlertRole.MEMBER] or list(alerts)
    names = list(dict.fromkeys(a.name for a in members))
    resources = sorted({a.resource for a in members if a.resource})
    what = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    if len(resources) == 1:
        title = f"{what} on {resources[0]}"
    elif resources:
        title = f"{what} on {len(resources)} resources"
    else:
        title = what
    symptoms = len(alerts) - len(members)
    return f"{title} (+{symptoms} symptoms)" if symptoms else title


def _note(now: datetime, kind: str, text: str) -> TimelineEntry:
    return TimelineEntry(at=now, kind=kind, text=text)


def _changed(
    incident: Incident, alerts: tuple[IncidentAlert, ...], rules: Rules, *notes: TimelineEntry
) -> Incident:
    """`incident` with new `alerts`, reassessed, its notes added and its version bumped."""
    updated = incident.model_copy(
        update={
            "alerts": alerts,
            "title": title_for(alerts),
            "flapping": any(a.flapping for a in alerts),
            "timeline": (*incident.timeline, *notes),
            "version": incident.version + 1,
        }
    )
    return _with_assessment(incident, assess(updated, rules), now=notes[-1].at if notes else None)


def _with_assessment(before: Incident, after: Incident, now: datetime | None) -> Incident:
    """Record a change of priority on the timeline, with the reason."""
    if now is None or before.priority == after.priority:
        return after
    rose = _rank(after.priority) < _rank(before.priority)
    text = (
        f"priority {'raised' if rose else 'lowered'} from {before.priority.value} to "
        f"{after.priority.value}: {after.priority_reason}"
    )
    return after.model_copy(update={"timeline": (*after.timeline, _note(now, "priority", text))})


def _rank(priority: Priority) -> int:
    return list(Priority).index(priority)


@dataclass(frozen=True, slots=True)
class Origin:
    """How a new incident came to be: its correlation key and rule (`why` in words), its
    site and the support group that owns it (`owned_because` in words)."""

    key: str
    rule: str
    why: str
    site: str
    group: str
    owned_because: str = ""


def open_incident(
    incident_id: str, origin: Origin, arrival: Arrival, rules: Rules, now: datetime
) -> Incident:
    """A new incident started by `arrival`."""
    member = _member(arrival)
    alert = arrival.alert
    key, rule, why, site, group = (
        origin.key, origin.rule, origin.why, origin.site, origin.group
    )  # fmt: skip
    incident = Incident(
        id=incident_id,
        key=key,
        title=title_for((member,)),
        severity=alert.severity,
        priority=Priority.P5,
        service=arrival.service,
        site=site,
        group=group,
        rule=rule,
        opened_at=now,
        flapping=arrival.flapping,
        alerts=(member,),
        timeline=(
            _note(now, "opened", f"opened by {where(alert)} from {alert.source}; grouping: {why}"),
        ),
    )
    assessed = assess(incident, rules)
    return assessed.model_copy(
        update={
            "timeline": (
                *assessed.timeline,
                _note(now, "priority", assessed.priority_reason),
                _note(
                    now,
                    "routing",
                    f"owned by {group}"
                    + (f": {origin.owned_because}" if origin.owned_because else ""),
                ),
            )
        }
    )


def link_runbook(incident: Incident, runbook: Runbook, now: datetime) -> Incident:
    """The runbook that applies, linked with its first steps so the ticket can carry them."""
    return incident.model_copy(
        update={
            "runbook": runbook.name,
            "runbook_title": runbook.title,
            "runbook_steps": runbook.first_steps,
            "timeline": (
                *incident.timeline,
                _note(now, "runbook", f"runbook: {runbook.title} (/runbooks/{runbook.name}, "
                      f"owned by {runbook.owner})"),
            ),
        }
    )  # fmt: skip


def add_firing(incident: Incident, arrival: Arrival, rules: Rules, now: datetime) -> Incident:
    """`arrival` fires in `incident`: a new member or symptom, or an alert firing again."""
    alert = arrival.alert
    existing = next((a for a in incident.alerts if a.fingerprint == alert.fingerprint), None)
    notes = []
    if existing is None:
        alerts = (*incident.alerts, _member(arrival))
        if arrival.role is AlertRole.SYMPTOM:
            text = f"{where(alert)} from {alert.source} joined as a symptom: {arrival.cause}"
        else:
            text = f"{where(alert)} from {alert.source} joined; {arrival.cause or 'same group'}"
        notes.append(_note(now, "alert", text))
        if arrival.flapping:
            notes.append(_flapping_note(alert, rules, now, arrival.flapping_why))
    else:
        refired = existing.model_copy(
            update={"status": AlertStatus.FIRING, "last_seen": alert.received_at,
                    "count": existing.count + 1, "severity": alert.severity,
                    "flapping": arrival.flapping or existing.flapping}
        )  # fmt: skip
        alerts = tuple(refired if a is existing else a for a in incident.alerts)
        notes.append(_note(now, "alert", f"{where(alert)} fires again"))
        if arrival.flapping and not existing.flapping:
            notes.append(_flapping_note(alert, rules, now, arrival.flapping_why))
    update: dict[str, object] = {}
    if incident.resolving_since is not None:
        update = {"resolving_since": None}
        notes.append(
            _note(now, "hold-down", f"{where(alert)} fired again before the hold-down ended: "
                                    "the incident stays open")
        )  # fmt: skip
    return _changed(incident.model_copy(update=update), alerts, rules, *notes)


def add_resolution(
    incident: Incident, alert: Alert, rules: Rules, now: datetime, *, flapping: bool = False
) -> Incident:
    """`alert` resolved. With its last firing alert the incident resolves, after the
    hold-down (or, when flapping, after the calm period) if the rules set one."""
    alerts = tuple(
        a.model_copy(update={"status": AlertStatus.RESOLVED, "last_seen": alert.received_at,
                             "count": a.count + 1, "flapping": flapping or a.flapping})
        if a.fingerprint == alert.fingerprint else a
        for a in incident.alerts
    )  # fmt: skip
    notes = [_note(now, "alert", f"{where(alert)} resolved")]
    if flapping and any(a.fingerprint == alert.fingerprint and not a.flapping
                        for a in incident.alerts):  # fmt: skip
        notes.append(_flapping_note(alert, rules, now))
    changed = _changed(incident, alerts, rules, *notes)
    if changed.firing:
        return changed
    wait = rules.correlation.flapping.calm if changed.flapping else rules.correlation.hold_down
    if wait <= timedelta(0):
        return resolve(changed, now, f"all {len(alerts)} alerts resolved")
    if changed.resolving_since is not None:
        return changed
    why = "calm period of a flapping incident" if changed.flapping else "hold-down"
    return changed.model_copy(
        update={
            "resolving_since": now,
            "timeline": (
                *changed.timeline,
                _note(now, "hold-down", f"all alerts resolved; resolves at "
                      f"{(now + wait).strftime('%H:%M:%S')} UTC unless one fires again "
                      f"({why} of {_span(wait)})"),
            ),
        }
    )  # fmt: skip


def _flapping_note(alert: Alert, rules: Rules, now: datetime, why: str = "") -> TimelineEntry:
    """Why an alert is now taken as flapping, and what that changes for its incident."""
    flapping = rules.correlation.flapping
    if not why:
        why = (
            f"{alert.source} says so"
            if alert.flapping
            else f"it changed state more than {flapping.toggles} times within "
            f"{_span(flapping.within)} (correlation.flapping)"
        )
    return _note(now, "flapping", f"{where(alert)} is flapping: {why}; the incident resolves "
                 f"only after its alerts stay resolved for {_span(flapping.calm)}")  # fmt: skip


def hold_ends(incident: Incident, rules: Rules) -> datetime | None:
    """When a resolving incident's hold-down (or calm period) ends."""
    if incident.resolving_since is None:
        return None
    wait = rules.correlation.flapping.calm if incident.flapping else rules.correlation.hold_down
    return incident.resolving_since + wait


def resolve(incident: Incident, now: datetime, why: str) -> Incident:
    """The incident is over."""
    return incident.model_copy(
        update={
            "status": IncidentStatus.RESOLVED,
            "resolved_at": now,
            "resolving_since": None,
            "due_at": None,
            "timeline": (*incident.timeline, _note(now, "resolved", f"resolved: {why}")),
            "version": incident.version + 1,
        }
    )


def reopen(
    incident: Incident, arrival: Arrival, rules: Rules, now: datetime, window: timedelta
) -> Incident:
    """`arrival` fires again soon after `incident` resolved: the same problem, back again."""
    assert incident.resolved_at is not None  # noqa: S101 - callers reopen resolved incidents only
    quiet = now - incident.resolved_at
    reopened = incident.model_copy(
        update={
            "status": IncidentStatus.OPEN,
            "resolved_at": None,
            "timeline": (
                *incident.timeline,
                _note(now, "reopened", f"reopened by {where(arrival.alert)}: "
                      f"{int(quiet.total_seconds())}s after it resolved, within the reopen "
                      f"window of {int(window.total_seconds())}s"),
            ),
        }
    )  # fmt: skip
    return add_firing(reopened, _flapping_incident(incident, arrival, rules, now), rules, now)


_STATE_CHANGES = ("opened", "resolved", "reopened")


def _flapping_incident(
    incident: Incident, arrival: Arrival, rules: Rules, now: datetime
) -> Arrival:
    """`arrival`, taken as flapping when the incident it reopens has changed state too often.
    Some sources give each occurrence of one problem a new id (Zabbix a new event id for
    each problem of a trigger): no fingerprint of theirs ever flaps, their incident does."""
    flapping = rules.correlation.flapping
    changes = 1 + sum(
        e.kind in _STATE_CHANGES and now - e.at <= flapping.within for e in incident.timeline
    )
    if arrival.flapping or changes <= flapping.toggles:
        return arrival
    why = (
        f"its incident changed state {changes} times within {_span(flapping.within)}, more "
        f"than {flapping.toggles} (correlation.flapping), as a problem that keeps coming back "
        "under new ids"
    )
    return replace(arrival, flapping=True, flapping_why=why)


def acknowledge(incident: Incident, alert: Alert, now: datetime) -> Incident:
    """The source says a person has taken `alert` (PagerDuty acknowledge, Nagios ACK)."""
    return incident.model_copy(
        update={
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "timeline": (
                *incident.timeline,
                _note(now, "acknowledged",
                      f"acknowledged in {alert.source} ({where(alert)}, {alert.source_id})"),
            ),
            "version": incident.version + 1,
        }
    )  # fmt: skip


def merge(
    cause: Incident, duplicate: Incident, reasons: Mapping[str, str], rules: Rules, now: datetime
) -> tuple[Incident, Incident]:
    """`duplicate` opened before its root cause arrived: its alerts join `cause` as
    symptoms (`reasons` by fingerprint) and it resolves as merged. Returns both."""
    moved = tuple(
        a.model_copy(update={"role": AlertRole.SYMPTOM, "cause": reasons.get(a.fingerprint, "")})
        for a in duplicate.alerts
        if all(a.fingerprint != b.fingerprint for b in cause.alerts)
    )
    example = next(iter(reasons.values()), "")
    grown = _changed(
        cause,
        (*cause.alerts, *moved),
        rules,
        _note(now, "merged", f"{duplicate.id} merged in: its {len(moved)} alert(s) are symptoms "
              f"of this incident ({example})"),
    )  # fmt: skip
    merged = resolve(
        duplicate.model_copy(update={"merged_into": cause.id}),
        now,
        f"merged into {cause.id}: its alerts are symptoms of that incident ({example})",
    )
    return _inherit_crisis(grown, duplicate, now), merged


def as_symptoms(
    incident: Incident, reasons: Mapping[str, str], rules: Rules, now: datetime
) -> Incident:
    """The members of `incident` named in `reasons` (by fingerprint) become symptoms: their
    root cause fails in the same incident."""
    if not reasons:
        return incident
    alerts = tuple(
        a.model_copy(update={"role": AlertRole.SYMPTOM, "cause": reasons[a.fingerprint]})
        if a.fingerprint in reasons else a
        for a in incident.alerts
    )  # fmt: skip
    notes = [
        _note(
            now, "alert", f"{where(a)} from {a.source} is now a symptom: {reasons[a.fingerprint]}"
        )
        for a in incident.alerts
        if a.fingerprint in reasons
    ]
    return _changed(incident, alerts, rules, *notes)


def _inherit_crisis(cause: Incident, duplicate: Incident, now: datetime) -> Incident:
    """A crisis declared on the duplicate is the cause's crisis: the committee has already
    been told, and a crisis is declared once, so the cause carries it on instead of
    declaring it again."""
    if not duplicate.crisis or cause.crisis:
        return cause
    declared = duplicate.crisis_declared_at or now
    return cause.model_copy(
        update={
            "crisis": True,
            "crisis_rule": duplicate.crisis_rule,
            "crisis_declared_at": declared,
            "timeline": (
                *cause.timeline,
                _note(now, "crisis", f"crisis carried over from {duplicate.id}, where rule "
                      f"{duplicate.crisis_rule} declared it at {declared.strftime('%H:%M:%S')} "
                      "UTC: declared once, not again"),
            ),
        }
    )  # fmt: skip


def declare_crisis(incident: Incident, rule: str, description: str, now: datetime) -> Incident:
    """The crisis committee must know: declared once per incident."""
    return incident.model_copy(
        update={
            "crisis": True,
            "crisis_rule": rule,
            "crisis_declared_at": now,
            "timeline": (
                *incident.timeline,
                _note(now, "crisis", f"crisis declared by rule {rule}: {description}"),
            ),
            "version": incident.version + 1,
        }
    )


@dataclass(slots=True)
class Repeats:
    """Repeats of one member seen in a batch: counted, then applied once."""

    count: int
    last_seen: datetime


def count_repeats(incident: Incident, repeats: Mapping[str, Repeats]) -> Incident:
    """Repeats change nothing but members' counts and last-seen times (no new version)."""
    alerts = tuple(
        a.model_copy(
            update={"last_seen": max(a.last_seen, repeats[a.fingerprint].last_seen),
                    "count": a.count + repeats[a.fingerprint].count}
        )
        if a.fingerprint in repeats else a
        for a in incident.alerts
    )  # fmt: skip
    return incident.model_copy(update={"alerts": alerts})


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
