"""The notify stage's ticket input on real storage (SQLite and Redis): an SLA breach is
told once to the owning group's on-call channels, in the configured language, and the
`tickets` stream is trimmed once notify has read it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.bus import Stream
from core.clock import VirtualClock
from core.config import Settings, StageName
from core.models import (
    Incident,
    Priority,
    Severity,
    SlaBreach,
    SlaTarget,
    Tick,
    Ticket,
    TicketEvent,
    TicketEventKind,
)
from core.rules import Rules, RulesRef
from core.runtime import drain
from core.store import Changes
from sereno.pipeline import build_pipeline
from tests.conftest import T0

DUE = T0 + timedelta(minutes=15)
FIRST_LINES = {
    "en": "[P1] SLA response target missed: ProbeFailure on mail-01",
    "es": "[P1] Objetivo de respuesta del SLA incumplido: ProbeFailure on mail-01",
}


def _breach() -> tuple[Incident, TicketEvent]:
    incident = Incident(
        id="INC-1", key="k", title="ProbeFailure on mail-01", severity=Severity.CRITICAL,
        priority=Priority.P1, service="email", users_affected=55_000, group="sistemas",
        opened_at=T0, version=1,
    )  # fmt: skip
    ticket = Ticket(
        id="TKT-1", incident_id="INC-1", backend="builtin", title=incident.title,
        priority=Priority.P1, group="sistemas", created_at=T0, updated_at=DUE,
        breaches=(SlaBreach(target=SlaTarget.RESPONSE, due_at=DUE, noticed_at=DUE),),
    )  # fmt: skip
    return incident, TicketEvent(kind=TicketEventKind.SLA_BREACHED, at=DUE, ticket=ticket)


@pytest.mark.parametrize("language", ["en", "es"])
async def test_sla_breach_is_told_once_and_the_stream_is_trimmed(
    storage_settings: Settings, rules: Rules, language: str
) -> None:
    own = storage_settings.model_copy(update={"stages": (StageName.NOTIFY,), "language": language})
    pipeline = build_pipeline(own, RulesRef(rules), VirtualClock(T0))
    storage = pipeline.storage
    incident, event = _breach()
    async with storage:
        await storage.store.commit(Changes(incidents=[incident]))
        entries = [event.model_dump_json(), Tick(at=DUE).model_dump_json()]
        await storage.bus.publish(Stream.TICKETS, entries)
        await drain(pipeline.stages, storage.bus, pipeline.runtime_metrics)
        told = [n for n in await storage.store.list_notifications() if n.kind == "sla_breached"]
        # The group's first escalation level: sistemas-teams.
        assert [n.channel for n in told] == ["sistemas-teams"]
        assert told[0].subject == FIRST_LINES[language]
        assert "TKT-1" in told[0].text
        assert "09:15 CET" in told[0].text  # 08:15 UTC, shown in Europe/Madrid
        delivered = told[0].model_copy(update={"delivered": True, "next_attempt_at": None})
        await storage.store.commit(Changes(notifications=[delivered]))

        # The same event again (a redelivery after a lost acknowledgement): nothing new.
        await storage.bus.publish(Stream.TICKETS, [event.model_dump_json()])
        await drain(pipeline.stages, storage.bus, pipeline.runtime_metrics)
        again = [n for n in await storage.store.list_notifications() if n.kind == "sla_breached"]
        assert again == [delivered]

        assert await storage.bus.trim(Stream.TICKETS) == len(entries) + 1
