"""The Request Tracker backend against a real RT 5 (REST2) over loopback: create in the
mapped queue with the incident's reference, comment once per change, resolve, reopen, and a
retry after a lost answer that must not create a second ticket."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr

from core.config import Secret
from core.models import Priority, Ticket, TicketChange, TicketEvent, TicketEventKind
from tests.conftest import T0
from tests.ticketer.mapping import mapped
from tests.ticketer.rt_server import RtServer
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError
from ticketer.backends.rt import RtTicketBackend
from ticketer.texts import TicketTexts

TEXTS = TicketTexts("en", "Europe/Madrid")


@pytest.fixture
async def backend(rt_server: RtServer) -> AsyncIterator[RtTicketBackend]:
    made = RtTicketBackend(rt_server.settings(), TEXTS, mapped())
    yield made
    await made.close()


def ticket(**update: object) -> Ticket:
    base = Ticket(
        id="TKT-1", incident_id="INC-1", backend="builtin",
        title="db-01 down", priority=Priority.P2, description="Service: payroll",
        group="databases", created_at=T0, updated_at=T0,
        history=(TicketChange(at=T0, field="status", old=None, new="open", note="opened"),),
    )  # fmt: skip
    return base.model_copy(update=update)


def event(kind: TicketEventKind, current: Ticket) -> TicketEvent:
    return TicketEvent(kind=kind, at=current.updated_at, ticket=current)


def comments(rt: RtServer, number: str) -> list[str]:
    history = rt.get(f"/ticket/{number}/history?fields=Type,Data&per_page=100")["items"]
    return [str(t["Data"]).strip() for t in history if t["Type"] == "Comment"]


async def test_create_comment_resolve_reopen(rt_server: RtServer, backend: RtTicketBackend) -> None:
    opened = ticket()
    number = await backend.deliver(event(TicketEventKind.CREATED, opened), "k1", None)
    made = rt_server.get(f"/ticket/{number}")
    assert made["Subject"] == "db-01 down"
    assert made["Priority"] == "70"
    queue = rt_server.get(f"/queue/{made['Queue']['id']}")
    assert queue["Name"] == "Databases"  # the incident's group, mapped
    values = [v for cf in made["CustomFields"] for v in cf["values"]]
    assert values == [backend.settings.reference_prefix + opened.incident_id]
    sent = opened.model_copy(update={"external_ref": number})
    later = T0 + timedelta(minutes=5)
    joined = TicketChange(at=later, field="alerts", old="1", new="3", note="2 alert(s) joined")
    updated = opened.model_copy(update={"updated_at": later, "history": (*opened.history, joined)})
    assert await backend.deliver(event(TicketEventKind.UPDATED, updated), "k2", sent) == number
    assert comments(rt_server, number) == ["sereno-delivery: k2"]
    resolved = updated.model_copy(update={"updated_at": later + timedelta(minutes=1)})
    await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)
    assert rt_server.get(f"/ticket/{number}")["Status"] == "resolved"
    # The same resolve again (its answer lost): no second comment, no second status change.
    await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)
    assert comments(rt_server, number) == ["sereno-delivery: k2", "sereno-delivery: k3"]
    reopened = resolved.model_copy(update={"updated_at": later + timedelta(minutes=2)})
    await backend.deliver(event(TicketEventKind.REOPENED, reopened), "k4", sent)
    assert rt_server.get(f"/ticket/{number}")["Status"] == "open"


async def test_a_retry_after_a_lost_answer_finds_the_ticket(
    rt_server: RtServer, backend: RtTicketBackend
) -> None:
    opened = ticket(group="")
    first = await backend.deliver(event(TicketEventKind.CREATED, opened), "k1", None)
    # The answer was lost: the delivery is tried again knowing nothing of the first.
    again = await backend.deliver(event(TicketEventKind.CREATED, opened), "k1", None)
    assert again == first
    prefix = backend.settings.reference_prefix
    assert rt_server.tickets(prefix) == {prefix + opened.incident_id: [first]}
    made = rt_server.get(f"/ticket/{first}")
    assert rt_server.get(f"/queue/{made['Queue']['id']}")["Name"] == "General"


async def test_a_wrong_token_is_refused_and_a_stopped_rt_is_unavailable(
    rt_server: RtServer,
) -> None:
    wrong = RtTicketBackend(
        rt_server.settings(token=Secret(value=SecretStr("1-1-0000"))), TEXTS, mapped()
    )
    try:
        with pytest.raises(BackendRejectedError, match="HTTP 401"):
            await wrong.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
    finally:
        await wrong.close()
    nowhere = RtTicketBackend(rt_server.settings(url="http://127.0.0.1:9"), TEXTS, mapped())
    try:
        with pytest.raises(BackendUnavailableError):
            await nowhere.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
    finally:
        await nowhere.close()
