"""`sereno replay --compare-config OTHER`: the same alerts under two sets of rules, and what
the other rules would have done differently.

Incident ids differ between two runs, so incidents are matched by the alert that opened
them: its fingerprint, and which of that fingerprint's incidents it is (an alert that fires
again after its incident is long resolved opens a second one). Tickets and pages follow
their incident's match.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from core.config import Settings
from core.models import Incident, Ticket
from core.rules import Rules
from sereno.replay import ReplayResult, run_replay

Match = tuple[str, int]
"""An incident across runs: the fingerprint of the alert that opened it, and its rank among
the incidents that fingerprint opened."""

Page = tuple[Match | str, str, str]
"""A notification across runs: its incident's match, its kind and its channel."""

_SHOWN_TITLES = 3


def _matches(incidents: list[Incident]) -> dict[Match, Incident]:
    found: dict[Match, Incident] = {}
    seen: Counter[str] = Counter()
    for incident in sorted(incidents, key=lambda i: (i.opened_at, _number(i.id))):
        opener = incident.opened_by or f"id:{incident.id}"
        found[(opener, seen[opener])] = incident
        seen[opener] += 1
    return found


def _number(identifier: str) -> int:
    tail = identifier.rpartition("-")[2]
    return int(tail) if tail.isdigit() else 0


@dataclass(frozen=True)
class Run:
    """One side of the comparison: which configuration, and what its replay did."""

    label: str
    result: ReplayResult

    @cached_property
    def by_match(self) -> dict[Match, Incident]:
        return _matches(self.result.incidents)

    def pages(self) -> Counter[Page]:
        match_of = {i.id: m for m, i in self.by_match.items()}
        return Counter(
            (match_of.get(n.incident_id, n.incident_id), n.kind, n.channel)
            for n in self.result.notifications
        )

    def tickets(self) -> dict[Match | str, Ticket]:
        match_of = {i.id: m for m, i in self.by_match.items()}
        return {match_of.get(t.incident_id, t.incident_id): t for t in self.result.tickets}

    def stats(self) -> dict[str, object]:
        return {
            "config": self.label,
            "alerts": self.result.alerts,
            "incidents": len(self.result.incidents),
            "tickets": len(self.result.tickets),
            "pages": len(self.result.notifications),
            "suppressed": len(self.result.suppressed),
        }


@dataclass(frozen=True, slots=True)
class Changed:
    """An incident present in both runs whose priority or crisis differs."""

    base: Incident
    other: Incident


@dataclass(frozen=True, slots=True)
class Comparison:
    base: Run
    other: Run
    incidents_gained: list[Incident]
    incidents_lost: list[Incident]
    tickets_gained: list[Ticket]
    tickets_lost: list[Ticket]
    pages_gained: list[Page]
    pages_lost: list[Page]
    priority_changed: list[Changed]
    crisis_changed: list[Changed]

    def as_dict(self) -> dict[str, object]:
        """One JSON document; ids of gained things are the other run's, of lost ones the
        base run's."""
        return {
            "base": self.base.stats(),
            "other": self.other.stats(),
            "incidents": {
                "gained": [_incident_json(i) for i in self.incidents_gained],
                "lost": [_incident_json(i) for i in self.incidents_lost],
            },
            "tickets": {
                "gained": [_ticket_json(t) for t in self.tickets_gained],
                "lost": [_ticket_json(t) for t in self.tickets_lost],
            },
            "pages": {
                "gained": [self._page_json(p, self.other) for p in self.pages_gained],
                "lost": [self._page_json(p, self.base) for p in self.pages_lost],
            },
            "priority_changes": [
                {
                    "base_id": c.base.id, "other_id": c.other.id, "title": c.base.title,
                    "from": c.base.priority.value, "to": c.other.priority.value,
                    "reason": c.other.priority_reason,
                }
                for c in self.priority_changed
            ],
            "crisis_changes": [
                {
                    "base_id": c.base.id, "other_id": c.other.id, "title": c.base.title,
                    "from": c.base.crisis_rule or None, "to": c.other.crisis_rule or None,
                }
                for c in self.crisis_changed
            ],
        }  # fmt: skip

    def _changes_in_words(self) -> list[str]:
        """One phrase per incident in both runs that changed: "INC-4 'Disk full on db-1'
        P3 → P2, no crisis → crisis (mass-outage)"."""
        changed: dict[str, tuple[Incident, list[str]]] = {}
        for c in self.priority_changed:
            words = f"{c.base.priority.value} → {c.other.priority.value}"
            changed.setdefault(c.base.id, (c.base, []))[1].append(words)
        for c in self.crisis_changed:
            words = f"{_crisis_words(c.base)} → {_crisis_words(c.other)}"
            changed.setdefault(c.base.id, (c.base, []))[1].append(words)
        return [
            f"{incident.id} '{incident.title}' {', '.join(words)}"
            for incident, words in changed.values()
        ]

    @staticmethod
    def _page_json(page: Page, run: Run) -> dict[str, object]:
        match, kind, channel = page
        incident = run.by_match.get(match) if isinstance(match, tuple) else None
        return {
            "incident": incident.id if incident else match,
            "title": incident.title if incident else "",
            "kind": kind,
            "channel": channel,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    def to_text(self) -> str:
        """A headline a person reads at a glance, then one line per difference."""
        lines = [_stats_line(self.base), _stats_line(self.other)]
        headline = [
            part
            for part in (
                _change(
                    "incident",
                    len(self.incidents_gained),
                    len(self.incidents_lost),
                    _titles(self.incidents_gained),
                    _titles(self.incidents_lost),
                ),
                _change("ticket", len(self.tickets_gained), len(self.tickets_lost)),
                _change("page", len(self.pages_gained), len(self.pages_lost)),
                _count_change(
                    "suppressed alert",
                    len(self.other.result.suppressed) - len(self.base.result.suppressed),
                ),
            )
            if part
        ]
        changes = self._changes_in_words()
        if not headline and not changes:
            lines.append(
                f"with {self.other.label}: the same incidents, tickets and pages as with "
                f"{self.base.label}"
            )
            return "\n".join(lines)
        summary = ", ".join(headline) or "as many incidents, tickets and pages"
        lines.append(f"with {self.other.label}: " + "; ".join([summary, *changes]))
        lines.extend(f"  only with {self.base.label}: {_one(i)}" for i in self.incidents_lost)
        lines.extend(f"  only with {self.other.label}: {_one(i)}" for i in self.incidents_gained)
        return "\n".join(lines)


def _one(incident: Incident) -> str:
    merged = f" (merged into {incident.merged_into})" if incident.merged_into else ""
    return f"{incident.id} {incident.priority.value} '{incident.title}'{merged}"


def _stats_line(run: Run) -> str:
    result = run.result
    return (
        f"{run.label}: {_plural(result.alerts, 'alert')} -> "
        f"{_plural(len(result.incidents), 'incident')}, "
        f"{_plural(len(result.tickets), 'ticket')}, "
        f"{_plural(len(result.notifications), 'page')}, {len(result.suppressed)} suppressed"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _count_change(noun: str, delta: int) -> str:
    if delta == 0:
        return ""
    return f"{_plural(abs(delta), noun)} {'more' if delta > 0 else 'fewer'}"


def _titles(incidents: list[Incident]) -> str:
    if not incidents:
        return ""
    shown = [f"'{i.title}'" for i in incidents[:_SHOWN_TITLES]]
    rest = len(incidents) - len(shown)
    return " (" + ", ".join(shown) + (f" and {rest} more" if rest else "") + ")"


def _change(noun: str, gained: int, lost: int, gained_note: str = "", lost_note: str = "") -> str:
    parts = []
    if lost:
        parts.append(f"{_plural(lost, noun)} fewer{lost_note}")
    if gained:
        parts.append(f"{_plural(gained, noun)} more{gained_note}")
    return ", ".join(parts)


def _crisis_words(incident: Incident) -> str:
    return f"crisis ({incident.crisis_rule})" if incident.crisis else "no crisis"


def compare(base: Run, other: Run) -> Comparison:
    """What `other`'s run did differently from `base`'s with the same alerts."""
    before, after = base.by_match, other.by_match
    both = [m for m in before if m in after]
    tickets_before, tickets_after = base.tickets(), other.tickets()
    pages_before, pages_after = base.pages(), other.pages()
    return Comparison(
        base=base,
        other=other,
        incidents_gained=[i for m, i in after.items() if m not in before],
        incidents_lost=[i for m, i in before.items() if m not in after],
        tickets_gained=[t for m, t in tickets_after.items() if m not in tickets_before],
        tickets_lost=[t for m, t in tickets_before.items() if m not in tickets_after],
        pages_gained=sorted((pages_after - pages_before).elements(), key=str),
        pages_lost=sorted((pages_before - pages_after).elements(), key=str),
        priority_changed=[
            Changed(before[m], after[m]) for m in both if before[m].priority != after[m].priority
        ],
        crisis_changed=[
            Changed(before[m], after[m]) for m in both if before[m].crisis != after[m].crisis
        ],
    )


def _ticket_json(ticket: Ticket) -> dict[str, object]:
    return {"id": ticket.id, "incident": ticket.incident_id, "title": ticket.title}


def _incident_json(incident: Incident) -> dict[str, object]:
    opener = incident.sample[0] if incident.sample else None
    return {
        "id": incident.id,
        "title": incident.title,
        "priority": incident.priority.value,
        "status": incident.status.value,
        "merged_into": incident.merged_into,
        "alerts": incident.alert_count,
        "opened_by": (
            {"source": opener.source, "source_id": opener.source_id,
             "fingerprint": opener.fingerprint}
            if opener else None
        ),
    }  # fmt: skip


async def run_comparison(
    path: Path,
    base: tuple[str, Settings, Rules],
    other: tuple[str, Settings, Rules],
) -> Comparison:
    """Replay `path` under each (label, settings, rules) and compare the runs."""
    runs = []
    for label, settings, rules in (base, other):
        runs.append(Run(label, await run_replay(path, settings, rules)))
    return compare(*runs)
