"""The notify stage on real storage (SQLite and Redis): what it decides for incident events
and ticks, once, whatever is redelivered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from core.bus import Stream
from core.clock import VirtualClock
from core.config import Settings, StageName
from core.models import (
    Incident,
    IncidentEvent,
    IncidentEventKind,
    IncidentStatus,
    Priority,
    Severity,
    Tick,
)
from core.rules import Rules, RulesRef
from core.runtime import drain
from core.storage import Storage
from core.store import Changes
from sereno.pipeline import build_pipeline
from tests.conftest import T0


@pytest.fixture
async def h(storage_settings: Settings, rules: Rules) -> AsyncIterator[Harness]:
    """The notify stage alone, on the test's backend."""
    harness = Harness(storage_settings, rules)
    async with harness.storage:
        yield harness


def _incident(version: int, **update: object) -> Incident:
    incident = Incident(
        id="INC-1", key="k", title="ProbeFailure on mail-01", severity=Severity.CRITICAL,
        priority=Priority.P1, service="email", users_affected=55_000, group="sistemas",
        opened_at=T0, version=version, runbook="email", runbook_title="Email",
        runbook_steps=("Send a test message from outside.",),
    )  # fmt: skip
    return incident.model_copy(update=update)


class Harness:
    def __init__(self, settings: Settings, rules: Rules) -> None:
        own = settings.model_copy(update={"stages": (StageName.NOTIFY,)})
        self.pipeline = build_pipeline(own, RulesRef(rules), VirtualClock(T0))
        self.storage: Storage = self.pipeline.storage

    async def send(self, *entries: IncidentEvent | Tick) -> None:
        for entry in entries:
            if isinstance(entry, IncidentEvent):
                await self.storage.store.commit(Changes(incidents=[entry.incident]))
        await self.storage.bus.publish(Stream.INCIDENTS, [e.model_dump_json() for e in entries])
        await drain(self.pipeline.stages, self.storage.bus, self.pipeline.runtime_metrics)

    async def sent(self) -> list[tuple[str, str, str]]:
        """(minutes after T0, kind, channel) of every notification decided."""
        return [
            (f"+{int((n.at - T0).total_seconds() // 60)}m", n.kind, n.channel)
            for n in await self.storage.store.list_notifications()
        ]


def _event(
    kind: IncidentEventKind, at: datetime, incident: Incident, **flags: bool
) -> IncidentEvent:
    return IncidentEvent(kind=kind, at=at, incident=incident, **flags)


def _tick(minutes: float) -> Tick:
    return Tick(at=T0 + timedelta(minutes=minutes))


async def test_an_incident_growing_by_300_alerts_is_one_message_even_redelivered(
    h: Harness,
) -> None:
    opened = _event(IncidentEventKind.OPENED, T0, _incident(1))
    await h.send(opened)
    growth = [
        _event(IncidentEventKind.UPDATED, T0 + timedelta(seconds=n), _incident(n + 1))
        for n in range(1, 301)
    ]
    await h.send(*growth)
    await h.send(opened, growth[-1])  # redelivered
    assert await h.sent() == [("+0m", "opened", "sistemas-teams")]
    [message] = await h.storage.store.list_notifications()
    assert "First step: Send a test message from outside." in message.text
    assert "http://127.0.0.1:8080/runbooks/email" in message.text
    assert not message.delivered
    assert message.next_attempt_at == T0


async def test_escalation_falls_due_on_ticks_and_stops_on_acknowledgement(
    h: Harness,
) -> None:
    await h.send(_event(IncidentEventKind.OPENED, T0, _incident(1)), _tick(19))
    assert await h.sent() == [("+0m", "opened", "sistemas-teams")]
    await h.send(_tick(20), _tick(20))  # the same moment twice: one escalation
    acked = _incident(2, status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=T0)
    await h.send(_event(IncidentEventKind.ACKNOWLEDGED, T0 + timedelta(minutes=25), acked))
    await h.send(_tick(45), _tick(90))
    assert await h.sent() == [
        ("+0m", "opened", "sistemas-teams"),
        ("+20m", "escalated", "service-desk-webhook"),
        ("+25m", "acknowledged", "sistemas-teams"),
        ("+25m", "acknowledged", "service-desk-webhook"),
    ]


async def test_priority_raised_tells_the_group(
    h: Harness,
) -> None:
    await h.send(_event(IncidentEventKind.OPENED, T0, _incident(1, priority=Priority.P3)))
    raised = _event(IncidentEventKind.UPDATED, T0 + timedelta(minutes=2), _incident(2),
                    priority_raised=True)  # fmt: skip
    await h.send(raised, raised)
    assert await h.sent() == [
        ("+0m", "opened", "sistemas-teams"),
        ("+2m", "priority_raised", "sistemas-teams"),
    ]


async def test_a_crisis_is_declared_once_updated_at_its_cadence_and_closed_once(
    h: Harness,
) -> None:
    crisis = {"crisis": True, "crisis_rule": "mass-outage", "crisis_declared_at": T0}
    opened = _event(IncidentEventKind.OPENED, T0, _incident(1, **crisis), crisis_declared=True)
    # Another rule holding later, redeliveries, ticks twice: still one declaration.
    again = _event(IncidentEventKind.UPDATED, T0 + timedelta(minutes=10), _incident(2, **crisis),
                   crisis_declared=True)  # fmt: skip
    await h.send(opened, again, opened, _tick(29), _tick(30), _tick(30), _tick(45), _tick(61))
    resolved = _event(
        IncidentEventKind.RESOLVED, T0 + timedelta(minutes=70),
        _incident(3, status=IncidentStatus.RESOLVED, resolved_at=T0 + timedelta(minutes=70),
                  **crisis),
    )  # fmt: skip
    await h.send(resolved, _tick(90), resolved)
    committee = [s for s in await h.sent() if s[2] == "comite-crisis-mail"]
    assert committee == [
        ("+0m", "crisis_declared", "comite-crisis-mail"),
        ("+30m", "crisis_update", "comite-crisis-mail"),
        ("+61m", "crisis_update", "comite-crisis-mail"),
        ("+70m", "crisis_closed", "comite-crisis-mail"),
    ]
    messages = {n.kind: n for n in await h.storage.store.list_notifications()}
    # Plain Spanish for the committee (the channel's language), times in Madrid's zone.
    declared = messages["crisis_declared"].text
    assert declared.startswith("Incidente grave: Email no funciona\n")
    assert "Desde el 20 nov 2026 09:00 CET" in declared
    assert "hasta 55.000 usuarios" in declared
    assert "Próxima actualización: 20 nov 2026 09:30 CET" in declared
    assert "Email vuelve a funcionar" in messages["crisis_closed"].text
