"""The GLPI backend against the local GLPI (glpi_fake.py, following GLPI's apirest.md) over
loopback: the session, create with GLPI's scales and the group's category, a followup per
change, a solution, a reopen, and a retry after a lost answer that finds the ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from core.config import GlpiBackend, Secret
from core.models import Priority, Ticket, TicketChange, TicketEvent, TicketEventKind
from tests.conftest import T0
from tests.ticketer.glpi_fake import API_USER, APP_TOKEN, USER_TOKEN, FakeGlpi
from tests.ticketer.mapping import mapped
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError
from ticketer.backends.glpi import GlpiTicketBackend, incident_of
from ticketer.texts import TicketTexts

TEXTS = TicketTexts("en", "Europe/Madrid")


@pytest.fixture
async def fake() -> AsyncIterator[FakeGlpi]:
    glpi = FakeGlpi()
    await glpi.start()
    yield glpi
    await glpi.close()


def glpi_settings(fake: FakeGlpi, **over: object) -> GlpiBackend:
    values: dict[str, object] = {
        "url": fake.url, "app_token": Secret(value=SecretStr(APP_TOKEN)),
        "user_token": Secret(value=SecretStr(USER_TOKEN)), "user_id": API_USER,
        "backoff_max_s": 0.05,
    }  # fmt: skip
    return GlpiBackend.model_validate(values | over)


def ticket(**update: object) -> Ticket:
    base = Ticket(
        id="TKT-1", incident_id="INC-42", backend="builtin", title="db-01 down",
        priority=Priority.P2, description="Service: payroll", group="databases",
        created_at=T0, updated_at=T0,
        history=(TicketChange(at=T0, field="status", old=None, new="open", note="opened"),),
    )  # fmt: skip
    return base.model_copy(update=update)


def event(kind: TicketEventKind, current: Ticket) -> TicketEvent:
    return TicketEvent(kind=kind, at=current.updated_at, ticket=current)


async def test_create_followup_solve_reopen(fake: FakeGlpi) -> None:
    backend = GlpiTicketBackend(glpi_settings(fake), TEXTS, mapped())
    try:
        opened = ticket()
        number = await backend.deliver(event(TicketEventKind.CREATED, opened), "k1", None)
        made = fake.tickets[int(number)]
        assert made.fields["name"] == "db-01 down [sereno:INC-42]"
        assert incident_of(backend.settings, made.fields["name"]) == "INC-42"
        assert (made.fields["urgency"], made.fields["impact"], made.fields["priority"]) == (4, 4, 5)
        assert made.fields["itilcategories_id"] == 12
        assert made.fields["type"] == 1
        assert [g["groups_id"] for g in made.groups] == [4]
        sent = opened.model_copy(update={"external_ref": number})
        later = T0 + timedelta(minutes=5)
        joined = TicketChange(at=later, field="alerts", old="1", new="3", note="2 joined")
        updated = opened.model_copy(update={"updated_at": later,
                                            "history": (*opened.history, joined)})  # fmt: skip
        await backend.deliver(event(TicketEventKind.UPDATED, updated), "k2", sent)
        await backend.deliver(event(TicketEventKind.UPDATED, updated), "k2", sent)  # repeated
        assert len(made.followups) == 1
        assert "alerts: 1 -> 3" in made.followups[0]["content"]
        resolved = updated.model_copy(update={"updated_at": later + timedelta(minutes=1)})
        await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)
        await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)  # repeated
        assert made.fields["status"] == 5
        assert len(made.solutions) == 1
        assert len(made.followups) == 2
        reopened = resolved.model_copy(update={"updated_at": later + timedelta(minutes=2)})
        await backend.deliver(event(TicketEventKind.REOPENED, reopened), "k4", sent)
        assert made.fields["status"] == 2
    finally:
        await backend.close()


async def test_a_retry_after_a_lost_answer_finds_the_ticket(fake: FakeGlpi) -> None:
    backend = GlpiTicketBackend(glpi_settings(fake), TEXTS, mapped())
    try:
        # INC-4's ticket must not be taken for INC-42's: "contains" matches both tags.
        other = await backend.deliver(event(TicketEventKind.CREATED, ticket(incident_id="INC-42")),
                                      "k0", None)  # fmt: skip
        first = await backend.deliver(event(TicketEventKind.CREATED, ticket(incident_id="INC-4")),
                                      "k1", None)  # fmt: skip
        again = await backend.deliver(event(TicketEventKind.CREATED, ticket(incident_id="INC-4")),
                                      "k1", None)  # fmt: skip
        assert again == first != other
        assert len(fake.tickets) == 2
    finally:
        await backend.close()


async def test_an_expired_session_is_opened_again(fake: FakeGlpi) -> None:
    backend = GlpiTicketBackend(glpi_settings(fake), TEXTS, mapped())
    try:
        await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        fake.sessions.clear()  # GLPI forgot the session (timeout, restart)
        number = await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        assert number == "1"
        assert len(fake.sessions) == 1
    finally:
        await backend.close()


async def test_refusals_and_outages(fake: FakeGlpi) -> None:
    wrong = GlpiTicketBackend(
        glpi_settings(fake, user_token=Secret(value=SecretStr("x"))), TEXTS, mapped()
    )
    try:
        with pytest.raises(BackendRejectedError, match="ERROR_GLPI_LOGIN_USER_TOKEN"):
            await wrong.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
    finally:
        await wrong.close()
    backend = GlpiTicketBackend(glpi_settings(fake), TEXTS, mapped())
    try:
        fake.down = True
        with pytest.raises(BackendUnavailableError, match="503"):
            await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
    finally:
        await backend.close()
