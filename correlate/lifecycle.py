"""Incident lifecycle as small steps on a `Draft`: open, join, resolve (with hold-down),
reopen, acknowledge, merge. Each change leaves a timeline entry saying which rule did it
and why; each touches only the alerts it names, whatever the incident's size."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from correlate.draft import Draft
from correlate.summary import title_for


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


def settle(draft: Draft, rules: Rules, now: datetime) -> None:
    """After its alerts changed: its title, flapping flag and assessment follow, a change
    of priority noted with the reason. Once per batch (`Draft.unsettled`): a storm's
    thousand joins are assessed once, not a thousand times."""
    draft.retitle()
    before = draft.incident
    titled = before.model_copy(
        update={"title": title_for(before), "flapping": before.flapping_count > 0}
    )
    after = assess(titled, rules)
    draft.incident = after
    draft.settle_at = None
    if before.priority != after.priority:
        rose = _rank(after.priority) < _rank(before.priority)
        draft.note(now, "priority",
                   f"priority {'raised' if rose else 'lowered'} from {before.priority.value} to "
                   f"{after.priority.value}: {after.priority_reason}")  # fmt: skip


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
) -> Draft:
    """A new incident started by `arrival`."""
    alert = arrival.alert
    header = Incident(
        id=incident_id,
        key=origin.key,
        title=alert.name,
        severity=alert.severity,
        priority=Priority.P5,
        service=arrival.service,
        site=origin.site,
        group=origin.group,
        rule=origin.rule,
        opened_at=now,
        opened_by=alert.fingerprint,
        state_changes=(now,),
    )
    draft = Draft(header, new=True)
    draft.put_alert(_member(replace(arrival, cause=arrival.cause or origin.why)))
    draft.note(now, "opened",
               f"opened by {where(alert)} from {alert.source}; grouping: {origin.why}")  # fmt: skip
    draft.incident = assess(
        draft.incident.model_copy(
            update={"title": title_for(draft.incident), "flapping": arrival.flapping}
        ),
        rules,
    )
    draft.note(now, "priority", draft.incident.priority_reason)
    draft.note(now, "routing", f"owned by {origin.group}"
               + (f": {origin.owned_because}" if origin.owned_because else ""))  # fmt: skip
    return draft


def hold_back(draft: Draft, until: datetime) -> None:
    """A new incident its cause may still absorb: it settles until `until` before anyone
    is told (`correlation.settle`)."""
    draft.update(announced=False, settles_at=until)
    draft.note(draft.incident.opened_at, "settle",
               f"settling until {until.strftime('%H:%M:%S')} UTC before it is announced: its "
               "cause may still arrive (correlation.settle)")  # fmt: skip


def announce(draft: Draft, now: datetime) -> None:
    """It has settled without a cause absorbing it: tickets and pages follow now."""
    if draft.resolved:
        draft.update(settles_at=None)
        return
    draft.update(announced=True, settles_at=None)
    draft.note(now, "settle", "settled without a cause absorbing it: announced")


def link_runbook(draft: Draft, runbook: Runbook, now: datetime) -> None:
    """The runbook that applies, linked with its first steps so the ticket can carry them."""
    draft.update(runbook=runbook.name, runbook_title=runbook.title,
                 runbook_steps=runbook.first_steps)  # fmt: skip
    draft.note(now, "runbook", f"runbook: {runbook.title} (/runbooks/{runbook.name}, "
               f"owned by {runbook.owner})")  # fmt: skip


def add_firing(draft: Draft, arrival: Arrival, rules: Rules, now: datetime) -> None:
    """`arrival` fires in the incident: a new member or symptom, or an alert firing again."""
    alert = arrival.alert
    existing = draft.member(alert.fingerprint)
    if existing is None:
        joined = _member(arrival)
        draft.put_alert(joined)
        if arrival.role is AlertRole.SYMPTOM:
            text = f"{where(alert)} from {alert.source} joined as a symptom: {arrival.cause}"
        else:
            text = f"{where(alert)} from {alert.source} joined; {arrival.cause or 'same group'}"
        draft.note_join(now, text, joined)
        if arrival.flapping:
            draft.notes.append(_flapping_note(alert, rules, now, arrival.flapping_why))
    else:
        draft.put_alert(
            existing.model_copy(
                update={"status": AlertStatus.FIRING, "last_seen": alert.received_at,
                        "count": existing.count + 1, "severity": alert.severity,
                        "summary": alert.summary or existing.summary,
                        "flapping": arrival.flapping or existing.flapping}
            )
        )  # fmt: skip
        draft.note(now, "alert", f"{where(alert)} fires again")
        if arrival.flapping and not existing.flapping:
            draft.notes.append(_flapping_note(alert, rules, now, arrival.flapping_why))
    if draft.incident.resolving_since is not None:
        draft.update(resolving_since=None)
        draft.note(now, "hold-down", f"{where(alert)} fired again before the hold-down ended: "
                   "the incident stays open")  # fmt: skip
    draft.unsettled(now)


def change_alert(draft: Draft, alert: Alert, now: datetime) -> bool:
    """A firing alert is sent again. At another severity (WARNING to CRITICAL, High to
    Disaster) the alert follows, the incident is reassessed and the timeline says so: True.
    Otherwise it is a repeat: its count, last-seen time and latest summary, False."""
    existing = draft.member(alert.fingerprint)
    if existing is None:
        return False
    if alert.acknowledged:
        # An acknowledgement (PagerDuty, Nagios) says who took it, not how bad it is.
        alert = alert.model_copy(update={"severity": existing.severity, "summary": ""})
    changed = (
        existing.severity is not alert.severity
        and alert.status is AlertStatus.FIRING
        and existing.status is AlertStatus.FIRING
        and not draft.resolved
    )
    draft.put_alert(
        existing.model_copy(
            update={"severity": alert.severity, "summary": alert.summary or existing.summary,
                    "last_seen": max(existing.last_seen, alert.received_at),
                    "count": existing.count + 1}
        )
    )  # fmt: skip
    if changed:
        rose = alert.severity.rank < existing.severity.rank
        draft.note(now, "alert", f"{where(alert)} {'rose' if rose else 'fell'} from "
                   f"{existing.severity.value} to {alert.severity.value}"
                   + (f": {alert.summary[:200]}" if alert.summary else ""))  # fmt: skip
        draft.unsettled(now)
    return changed


def add_resolution(
    draft: Draft, alert: Alert, rules: Rules, now: datetime, *, flapping: bool = False
) -> None:
    """`alert` resolved. With its last firing alert the incident resolves, after the
    hold-down (or, when flapping, after the calm period) if the rules set one."""
    existing = draft.member(alert.fingerprint)
    if existing is not None:
        draft.put_alert(
            existing.model_copy(
                update={"status": AlertStatus.RESOLVED, "last_seen": alert.received_at,
                        "count": existing.count + 1, "flapping": flapping or existing.flapping}
            )
        )  # fmt: skip
    draft.note(now, "alert", f"{where(alert)} resolved")
    if flapping and existing is not None and not existing.flapping:
        draft.notes.append(_flapping_note(alert, rules, now))
    draft.unsettled(now)
    incident = draft.incident
    if incident.firing_count > 0:
        return
    flapping = incident.flapping_count > 0
    wait = rules.correlation.flapping.calm if flapping else rules.correlation.hold_down
    if wait <= timedelta(0):
        resolve(draft, now, f"all {incident.alert_count} alerts resolved")
        return
    if incident.resolving_since is not None:
        return
    why = "calm period of a flapping incident" if flapping else "hold-down"
    draft.update(resolving_since=now)
    draft.note(now, "hold-down", f"all alerts resolved; resolves at "
               f"{(now + wait).strftime('%H:%M:%S')} UTC unless one fires again "
               f"({why} of {_span(wait)})")  # fmt: skip


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
    return TimelineEntry(at=now, kind="flapping", text=f"{where(alert)} is flapping: {why}; the "
                        "incident resolves only after its alerts stay resolved for "
                        f"{_span(flapping.calm)}")  # fmt: skip


def hold_ends(incident: Incident, rules: Rules) -> datetime | None:
    """When a resolving incident's hold-down (or calm period) ends."""
    if incident.resolving_since is None:
        return None
    wait = rules.correlation.flapping.calm if incident.flapping else rules.correlation.hold_down
    return incident.resolving_since + wait


def resolve(draft: Draft, now: datetime, why: str) -> None:
    """The incident is over."""
    draft.update(status=IncidentStatus.RESOLVED, resolved_at=now, resolving_since=None,
                 due_at=None)  # fmt: skip
    draft.state_changed(now)
    draft.note(now, "resolved", f"resolved: {why}")


def reopen(draft: Draft, arrival: Arrival, rules: Rules, now: datetime, window: timedelta) -> None:
    """`arrival` fires again soon after the incident resolved: the same problem, back again."""
    resolved_at = draft.incident.resolved_at
    assert resolved_at is not None  # noqa: S101 - callers reopen resolved incidents only
    quiet = now - resolved_at
    flapping = _flapping_incident(draft.incident, arrival, rules, now)
    draft.update(status=IncidentStatus.OPEN, resolved_at=None)
    draft.state_changed(now)
    draft.note(now, "reopened", f"reopened by {where(arrival.alert)}: "
               f"{int(quiet.total_seconds())}s after it resolved, within the reopen "
               f"window of {int(window.total_seconds())}s")  # fmt: skip
    add_firing(draft, flapping, rules, now)


def _flapping_incident(
    incident: Incident, arrival: Arrival, rules: Rules, now: datetime
) -> Arrival:
    """`arrival`, taken as flapping when the incident it reopens has changed state too often.
    Some sources give each occurrence of one problem a new id (Zabbix a new event id for
    each problem of a trigger): no fingerprint of theirs ever flaps, their incident does."""
    flapping = rules.correlation.flapping
    changes = 1 + sum(now - at <= flapping.within for at in incident.state_changes)
    if arrival.flapping or changes <= flapping.toggles:
        return arrival
    why = (
        f"its incident changed state {changes} times within {_span(flapping.within)}, more "
        f"than {flapping.toggles} (correlation.flapping), as a problem that keeps coming back "
        "under new ids"
    )
    return replace(arrival, flapping=True, flapping_why=why)


def acknowledge(draft: Draft, alert: Alert, now: datetime) -> None:
    """The source says a person has taken `alert` (PagerDuty acknowledge, Nagios ACK)."""
    draft.update(status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now)
    draft.note(now, "acknowledged",
               f"acknowledged in {alert.source} ({where(alert)}, {alert.source_id})")  # fmt: skip


def merge(
    cause: Draft,
    duplicate: Draft,
    alerts: Sequence[IncidentAlert],
    reasons: Mapping[str, str],
    now: datetime,
) -> None:
    """The duplicate opened before its root cause arrived: its `alerts` join the cause as
    symptoms (`reasons` by fingerprint) and it resolves as merged."""
    moved = 0
    for alert in alerts:
        if cause.member(alert.fingerprint) is None:
            cause.put_alert(
                alert.model_copy(
                    update={"role": AlertRole.SYMPTOM, "cause": reasons.get(alert.fingerprint, "")}
                )
            )
            moved += 1
    example = next(iter(reasons.values()), "")
    cause.note(now, "merged", f"{duplicate.id} merged in: its {moved} alert(s) are symptoms "
               f"of this incident ({example})")  # fmt: skip
    cause.unsettled(now)
    duplicate.update(merged_into=cause.id)
    why = f"merged into {cause.id}: its alerts are symptoms of that incident ({example})"
    resolve(duplicate, now, why)
    _inherit_crisis(cause, duplicate.incident, now)


def as_symptoms(
    draft: Draft, alerts: Sequence[IncidentAlert], reasons: Mapping[str, str], now: datetime
) -> None:
    """These members of the incident become symptoms (`reasons` by fingerprint): their
    root cause fails in the same incident."""
    if not alerts:
        return
    for alert in alerts:
        draft.put_alert(
            alert.model_copy(
                update={"role": AlertRole.SYMPTOM, "cause": reasons[alert.fingerprint]}
            )
        )
    if len(alerts) <= 3:
        for alert in alerts:
            draft.note(now, "alert", f"{where(alert)} from {alert.source} is now a symptom: "
                       f"{reasons[alert.fingerprint]}")  # fmt: skip
    else:
        example = reasons[alerts[0].fingerprint]
        draft.note(now, "alert", f"{len(alerts)} alerts, such as {where(alerts[0])} from "
                   f"{alerts[0].source}, are now symptoms: {example}")  # fmt: skip
    draft.unsettled(now)


def _inherit_crisis(cause: Draft, duplicate: Incident, now: datetime) -> None:
    """A crisis declared on the duplicate is the cause's crisis: the committee has already
    been told, and a crisis is declared once, so the cause carries it on instead of
    declaring it again."""
    if not duplicate.crisis or cause.incident.crisis:
        return
    declared = duplicate.crisis_declared_at or now
    cause.update(crisis=True, crisis_rule=duplicate.crisis_rule, crisis_declared_at=declared)
    cause.note(now, "crisis", f"crisis carried over from {duplicate.id}, where rule "
               f"{duplicate.crisis_rule} declared it at {declared.strftime('%H:%M:%S')} "
               "UTC: declared once, not again")  # fmt: skip


def declare_crisis(draft: Draft, rule: str, description: str, now: datetime) -> None:
    """The crisis committee must know: declared once per incident."""
    draft.update(crisis=True, crisis_rule=rule, crisis_declared_at=now)
    draft.note(now, "crisis", f"crisis declared by rule {rule}: {description}")


def _span(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
