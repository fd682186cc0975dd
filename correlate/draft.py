"""One incident being changed by a correlate batch: its header, the alerts it changed and
the timeline entries it wrote, committed together at the end of the batch.

A draft reads only what it is told to load: the alerts and the tallies that the batch's
own alerts touch, never all of an incident's alerts.
"""

from __future__ import annotations

from datetime import datetime

from core.models import AlertRole, Incident, IncidentAlert, IncidentStatus, TimelineEntry
from correlate.summary import FAILING, Summary, TallyKey

STATE_CHANGES_KEPT = 32
JOINS_SAID_ONE_BY_ONE = 3


def _where(alert: IncidentAlert) -> str:
    return f"{alert.name} on {alert.resource}" if alert.resource else alert.name


class Draft:
    def __init__(self, incident: Incident, *, new: bool = False) -> None:
        self.read: Incident | None = None if new else incident
        """The header as read from the store (None: opened in this batch)."""
        self.incident = incident
        self._members: dict[str, IncidentAlert | None] = {}
        self.changed: dict[str, IncidentAlert] = {}
        """Alerts changed, by fingerprint, in the order first changed."""
        self.notes: list[TimelineEntry] = []
        self._stored: dict[TallyKey, int] = {}
        self._loaded: set[TallyKey] = set()
        self.deltas: dict[TallyKey, int] = {}
        self.failing_touched: set[str] = set()
        """Resources whose failing tally changed since the batch last looked."""
        self._joins: list[tuple[int, IncidentAlert]] = []
        self.settle_at: datetime | None = None
        """When its alerts last changed, if its title and assessment have not followed yet
        (`correlate.lifecycle.settle`)."""

    @property
    def new(self) -> bool:
        return self.read is None

    @property
    def id(self) -> str:
        return self.incident.id

    @property
    def resolved(self) -> bool:
        return self.incident.status is IncidentStatus.RESOLVED

    # Loading (by the batch, before the pure steps run).

    def knows_member(self, fingerprint: str) -> bool:
        return self.new or fingerprint in self._members

    def loaded_members(self, found: dict[str, IncidentAlert], asked: list[str]) -> None:
        for fingerprint in asked:
            self._members.setdefault(fingerprint, found.get(fingerprint))

    def knows_tally(self, key: TallyKey) -> bool:
        return self.new or key in self._loaded

    def loaded_tallies(self, found: dict[TallyKey, int], asked: list[TallyKey]) -> None:
        for key in asked:
            if key not in self._loaded:
                self._loaded.add(key)
                self._stored[key] = found.get(key, 0)

    # What the steps read and write.

    def member(self, fingerprint: str) -> IncidentAlert | None:
        """The incident's alert with `fingerprint`, as this batch has left it."""
        if not self.knows_member(fingerprint):
            raise RuntimeError(f"alert {fingerprint} of {self.id} read before it was loaded")
        return self._members.get(fingerprint)

    def tally(self, key: TallyKey) -> int:
        if not self.knows_tally(key):
            raise RuntimeError(f"tally {key} of {self.id} read before it was loaded")
        return self._stored.get(key, 0) + self.deltas.get(key, 0)

    def put_alert(self, after: IncidentAlert) -> None:
        """One of its alerts is now `after`; its summaries follow."""
        before = self.member(after.fingerprint)
        summary = Summary(self.incident, self._stored_tally, self.deltas)
        summary.change(before, after)
        self.incident = summary.incident
        self._members[after.fingerprint] = after
        self.changed[after.fingerprint] = after
        if after.resource and (FAILING, after.resource) in self.deltas:
            self.failing_touched.add(after.resource)

    def _stored_tally(self, key: TallyKey) -> int:
        if not self.knows_tally(key):
            raise RuntimeError(f"tally {key} of {self.id} read before it was loaded")
        return self._stored.get(key, 0)

    def fails(self, resource: str) -> bool:
        """Whether `resource` fails in it now (as far as this batch has changed it)."""
        return not self.resolved and self.tally((FAILING, resource)) > 0

    def retitle(self) -> None:
        """A title whose naming alert became a symptom is named by another member it has
        loaded, if any."""
        incident = self.incident
        if incident.title_name and incident.title_resource:
            return
        for alert in self._members.values():
            if alert is None or alert.role is not AlertRole.MEMBER:
                continue
            if not incident.title_name:
                self.update(title_name=alert.name)
            if not incident.title_resource and alert.resource:
                self.update(title_resource=alert.resource)
            incident = self.incident
            if incident.title_name and incident.title_resource:
                return

    def unsettled(self, at: datetime) -> None:
        """Its alerts changed at `at`: title and assessment to follow before it is used."""
        self.settle_at = at

    def note(self, at: datetime, kind: str, text: str) -> None:
        self.notes.append(TimelineEntry(at=at, kind=kind, text=text))

    def note_join(self, at: datetime, text: str, alert: IncidentAlert) -> None:
        """An alert joined: said on its own, or summed up with the batch's other joins."""
        self._joins.append((len(self.notes), alert))
        self.note(at, "alert", text)

    def story(self) -> list[TimelineEntry]:
        """The timeline entries to write. A storm's joins are summed up, one entry for its
        members and one for its symptoms ("412 alerts from alertmanager (HostDown on
        srv-mad-001, ... between 10:00:02 and 10:01:30 UTC) joined as a symptom: srv-mad-001
        depends on sw-mad-core-1, which is failing"); each alert's own reason stays on the
        alert (`IncidentAlert.cause`)."""
        by_role: dict[AlertRole, list[int]] = {}
        for at, alert in self._joins:
            by_role.setdefault(alert.role, []).append(at)
        summed: dict[int, TimelineEntry] = {}
        dropped: set[int] = set()
        alerts = dict(self._joins)
        for places in by_role.values():
            if len(places) <= JOINS_SAID_ONE_BY_ONE:
                continue
            summed[places[0]] = self._summary([alerts[at] for at in places], places)
            dropped.update(places[1:])
        return [summed.get(at, entry) for at, entry in enumerate(self.notes) if at not in dropped]

    def _summary(self, alerts: list[IncidentAlert], places: list[int]) -> TimelineEntry:
        first, last = self.notes[places[0]].at, self.notes[places[-1]].at
        sources = ", ".join(sorted({a.source for a in alerts}))
        such_as = ", ".join(_where(a) for a in alerts[:3])
        reason = (
            f"joined as a symptom: {alerts[0].cause}"
            if alerts[0].role is AlertRole.SYMPTOM
            else f"joined; {alerts[0].cause or 'same group'}"
        )
        return TimelineEntry(
            at=first,
            kind="alert",
            text=f"{len(alerts)} alerts from {sources} ({such_as}, ... between "
            f"{first.strftime('%H:%M:%S')} and {last.strftime('%H:%M:%S')} UTC) {reason}",
        )

    def update(self, **fields: object) -> None:
        self.incident = self.incident.model_copy(update=fields)

    def state_changed(self, at: datetime) -> None:
        """It opened, resolved or reopened at `at` (kept for flapping detection)."""
        self.update(state_changes=(*self.incident.state_changes, at)[-STATE_CHANGES_KEPT:])
