"""Commands from people and ticket systems on an incident, as pure steps: assign, comment,
reopen, and that each repeated command changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import (
    CommandAction,
    Incident,
    IncidentCommand,
    IncidentStatus,
    Priority,
    Severity,
)
from correlate import commands
from correlate.draft import Draft
from tests.conftest import T0

LATER = T0 + timedelta(minutes=3)


def incident(**update: object) -> Incident:
    base = Incident(id="INC-1", key="k", title="db-01 down", severity=Severity.CRITICAL,
                    priority=Priority.P2, group="databases", opened_at=T0)  # fmt: skip
    return base.model_copy(update=update)


def apply(held: Incident, order: IncidentCommand, now: datetime) -> Incident | None:
    """The incident after `order`, its new timeline entries as `notes`; None: unchanged."""
    draft = Draft(held)
    return draft.incident if commands.apply(draft, order, now) else None


def notes_of(held: Incident, order: IncidentCommand) -> list[str]:
    draft = Draft(held)
    commands.apply(draft, order, LATER)
    return [e.text for e in draft.notes]


def command(action: CommandAction, **values: str) -> IncidentCommand:
    return IncidentCommand(action=action, incident_id="INC-1", at=LATER, by="agent1",
                           origin="rt", **values)  # fmt: skip


def test_assign_takes_an_open_incident_and_records_who_and_where() -> None:
    taken = apply(incident(), command(CommandAction.ASSIGN, assignee="agent1"), LATER)
    assert taken is not None
    assert taken.status is IncidentStatus.ACKNOWLEDGED
    assert (taken.assignee, taken.acknowledged_by) == ("agent1", "agent1")
    assert taken.acknowledged_at == LATER
    assert notes_of(incident(), command(CommandAction.ASSIGN, assignee="agent1")) == [
        "held by agent1 (group databases): agent1 via rt"
    ]
    assert apply(taken, command(CommandAction.ASSIGN, assignee="agent1"), LATER) is None
    # Handed to someone else, it is held but not yet acknowledged by them.
    handed = apply(incident(), command(CommandAction.ASSIGN, assignee="luis"), LATER)
    assert handed is not None
    assert (handed.assignee, handed.status) == ("luis", IncidentStatus.OPEN)


def test_assign_to_another_group_and_release() -> None:
    held = incident(status=IncidentStatus.ACKNOWLEDGED, acknowledged_by="agent1", assignee="agent1")
    moved = apply(held, command(CommandAction.ASSIGN, assignee="agent1", group="network"), LATER)
    assert moved is not None
    assert moved.group == "network"
    released = apply(moved, command(CommandAction.ASSIGN, assignee=""), LATER)
    assert released is not None
    assert released.assignee == ""
    assert notes_of(moved, command(CommandAction.ASSIGN, assignee="")) == [
        "held by nobody (group network): agent1 via rt"
    ]


def test_comment_reaches_the_timeline_even_when_resolved_and_empty_is_nothing() -> None:
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=T0)
    said = apply(resolved, command(CommandAction.COMMENT, note="replied: fixed the disk"), LATER)
    assert said is not None
    assert said.status is IncidentStatus.RESOLVED
    assert notes_of(resolved, command(CommandAction.COMMENT, note="replied: fixed the disk")) == [
        "agent1 via rt: replied: fixed the disk"
    ]
    assert apply(resolved, command(CommandAction.COMMENT, note="  "), LATER) is None


def test_reopen_only_a_resolved_incident_not_merged_elsewhere() -> None:
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=T0)
    reopened = apply(resolved, command(CommandAction.REOPEN, note="status open in RT"), LATER)
    assert reopened is not None
    assert reopened.status is IncidentStatus.OPEN
    assert reopened.resolved_at is None
    assert notes_of(resolved, command(CommandAction.REOPEN, note="status open in RT")) == [
        "reopened by agent1 via rt: status open in RT"
    ]
    assert apply(reopened, command(CommandAction.REOPEN), LATER) is None
    merged = resolved.model_copy(update={"merged_into": "INC-0"})
    assert apply(merged, command(CommandAction.REOPEN), LATER) is None


def test_a_resolved_incident_is_not_assigned_or_resolved_again() -> None:
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=T0)
    assert apply(resolved, command(CommandAction.ASSIGN, assignee="agent1"), LATER) is None
    assert apply(resolved, command(CommandAction.RESOLVE), LATER) is None
