"""The Jira backend against the local fake Jira over loopback: create, comment, transition,
Jira's errors, and a lost answer that must not create a second issue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pydantic import SecretStr
from tenacity import RetryCallState

from core.config import JiraBackend, Secret
from core.models import Priority, Ticket, TicketChange, TicketEvent, TicketEventKind
from tests.conftest import T0
from tests.ticketer.jira_fake import EMAIL, TOKEN, FakeJira
from ticketer.backends.base import BackendRejectedError, BackendUnavailableError, retry_after
from ticketer.backends.jira import JiraTicketBackend
from ticketer.delivery import RetryAfterOrBackoff
from ticketer.texts import TicketTexts


@pytest.fixture
async def fake() -> AsyncIterator[FakeJira]:
    jira = FakeJira()
    await jira.start()
    yield jira
    await jira.close()


TEXTS = TicketTexts("en", "Europe/Madrid")


def settings(fake: FakeJira, token: str = TOKEN, **overrides: object) -> JiraBackend:
    assert fake.server is not None
    return JiraBackend(
        url=str(fake.server.make_url("")), project="OPS", email=EMAIL,
        token=Secret(value=SecretStr(token)), **overrides,
    )  # fmt: skip


def ticket(**update: object) -> Ticket:
    base = Ticket(
        id="TKT-1", incident_id="INC-42", backend="builtin", title="db-01 down",
        priority=Priority.P2, description="Service: payroll", created_at=T0, updated_at=T0,
        history=(TicketChange(at=T0, field="status", old=None, new="open", note="opened"),),
    )  # fmt: skip
    return base.model_copy(update=update)


def event(kind: TicketEventKind, current: Ticket) -> TicketEvent:
    return TicketEvent(kind=kind, at=current.updated_at, ticket=current)


async def test_create_comment_resolve_reopen(fake: FakeJira) -> None:
    backend = JiraTicketBackend(settings(fake), TEXTS)
    try:
        opened = ticket()
        key = await backend.deliver(event(TicketEventKind.CREATED, opened), "k1", None)
        issue = fake.issues[key]
        assert issue.fields["labels"] == ["sereno-INC-42"]
        assert issue.fields["priority"] == {"name": "High"}
        assert issue.fields["issuetype"] == {"name": "Task"}
        assert issue.fields["description"] == "Service: payroll"
        sent = opened.model_copy(update={"external_ref": key})
        later = T0 + timedelta(minutes=5)
        joined = TicketChange(at=later, field="alerts", old="1", new="3", note="2 alert(s) joined")
        history = (*opened.history, joined)
        updated = opened.model_copy(update={"updated_at": later, "history": history})
        assert await backend.deliver(event(TicketEventKind.UPDATED, updated), "k2", sent) == key
        assert len(issue.comments) == 1
        assert "alerts: 1 -> 3 (2 alert(s) joined)" in issue.comments[0]["body"]
        assert "opened" not in issue.comments[0]["body"]  # only what changed since
        resolved = updated.model_copy(update={"updated_at": later + timedelta(minutes=1)})
        await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)
        assert issue.status["statusCategory"]["key"] == "done"
        # The same resolve again (its answer lost): no second comment, no second transition.
        await backend.deliver(event(TicketEventKind.RESOLVED, resolved), "k3", sent)
        assert len(issue.comments) == 2
        assert fake.calls["POST /rest/api/2/issue/{key}/transitions"] == 1
        reopened = resolved.model_copy(update={"updated_at": later + timedelta(minutes=2)})
        await backend.deliver(event(TicketEventKind.REOPENED, reopened), "k4", sent)
        assert issue.status["statusCategory"]["key"] == "new"
        assert len(fake.issues) == 1
    finally:
        await backend.close()


async def test_lost_answer_is_found_by_label_not_created_twice(fake: FakeJira) -> None:
    fake.drop_creates = 1
    backend = JiraTicketBackend(settings(fake), TEXTS)
    try:
        created = event(TicketEventKind.CREATED, ticket())
        with pytest.raises(BackendUnavailableError):
            await backend.deliver(created, "k1", None)
        assert len(fake.issues) == 1  # Jira made it; Sereno never heard
        key = await backend.deliver(created, "k1", None)
        assert list(fake.issues) == [key]
        assert fake.labelled() == {"sereno-INC-42": 1}
    finally:
        await backend.close()


async def test_update_for_an_issue_never_created_creates_it(fake: FakeJira) -> None:
    backend = JiraTicketBackend(settings(fake), TEXTS)
    try:
        key = await backend.deliver(event(TicketEventKind.UPDATED, ticket()), "k1", None)
        assert fake.labelled() == {"sereno-INC-42": 1}
        assert fake.issues[key].fields["summary"] == "db-01 down"
    finally:
        await backend.close()


async def test_bad_field_is_refused_for_good_with_jiras_words(fake: FakeJira) -> None:
    backend = JiraTicketBackend(settings(fake, priorities={Priority.P2: "Urgent"}), TEXTS)
    try:
        with pytest.raises(
            BackendRejectedError, match="HTTP 400: priority: Priority name 'Urgent'"
        ):
            await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        assert fake.issues == {}
    finally:
        await backend.close()


async def test_wrong_token_is_refused_and_names_the_setting(
    fake: FakeJira, caplog: pytest.LogCaptureFixture
) -> None:
    backend = JiraTicketBackend(settings(fake, token="expired"), TEXTS)  # noqa: S106 - a wrong one
    try:
        with caplog.at_level(logging.ERROR), pytest.raises(BackendRejectedError, match="401"):
            await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        assert "ticket_backends.jira.token" in caplog.text
    finally:
        await backend.close()


async def test_unknown_issue_is_refused(fake: FakeJira) -> None:
    backend = JiraTicketBackend(settings(fake), TEXTS)
    sent = ticket(external_ref="OPS-999")
    try:
        with pytest.raises(BackendRejectedError, match="404: Issue does not exist"):
            await backend.deliver(event(TicketEventKind.UPDATED, ticket()), "k1", sent)
    finally:
        await backend.close()


async def test_missing_transition_names_the_setting(fake: FakeJira) -> None:
    backend = JiraTicketBackend(settings(fake, resolve_transition="Close Issue"), TEXTS)
    try:
        key = await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        with pytest.raises(
            BackendRejectedError, match=r"offers: In Progress, Done.*jira\.resolve_transition"
        ):
            await backend.deliver(
                event(TicketEventKind.RESOLVED, ticket()), "k2", ticket(external_ref=key)
            )
    finally:
        await backend.close()


@pytest.mark.parametrize("status", [429, 503])
async def test_rate_limit_and_outage_are_retryable_with_their_wait(
    fake: FakeJira, status: int
) -> None:
    fake.unavailable, fake.retry_after = [status], {status: "7"}
    backend = JiraTicketBackend(settings(fake), TEXTS)
    try:
        with pytest.raises(BackendUnavailableError) as raised:
            await backend.deliver(event(TicketEventKind.CREATED, ticket()), "k1", None)
        assert raised.value.retry_after_s == 7.0
    finally:
        await backend.close()


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("30") == 30.0
    assert retry_after("Fri, 20 Nov 2026 08:01:00 GMT", now=T0) == 60.0
    assert retry_after("soon") is None
    assert retry_after(None) is None


def test_wait_is_the_longer_of_retry_after_and_backoff() -> None:
    def state(error: BaseException) -> RetryCallState:
        retry = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
        retry.attempt_number = 1
        retry.set_exception((type(error), error, None))
        return retry

    wait = RetryAfterOrBackoff(lambda _: 0.5)
    assert wait(state(BackendUnavailableError("429", retry_after_s=7.0))) == 7.0
    assert wait(state(BackendUnavailableError("503"))) == 0.5
    assert wait(state(BackendUnavailableError("429", retry_after_s=0.1))) == 0.5
