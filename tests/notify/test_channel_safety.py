"""Alert text is data on every channel: control characters never make or break a mail
header, Markdown in an alert never becomes a link in Teams, and a message that cannot be
built is given up once, with its reason, and counted, never left to escape its task."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from core.clock import VirtualClock
from core.config import NotifySettings
from core.metrics import make_notify_metrics
from core.models import JsonDict, Notification
from core.rules import ChannelType, Smtp, load_rules
from core.storage import Storage
from core.store import Changes, Store
from notify import delivery
from notify.channels.escape import header_value, markdown_text
from notify.channels.readiness import smtp_problem, unusable_channels
from notify.channels.teams import teams_payload
from notify.delivery import Deliverer
from notify.render import MessageContext, Renderer
from tests.conftest import EXAMPLE_RULES, T0
from tests.notify.receivers import smtp_server, webhook_receiver
from tests.notify.test_delivery import _deliver, _incident, _rules


def _crisis(channel: str, subject: str, body: str = "The service is down.") -> Notification:
    return Notification(
        id=f"INC-9:crisis-v1:{channel}", at=T0, channel=channel, kind="crisis_declared",
        incident_id="INC-9", text=f"{subject}\n\n{body}\n", delivered=False, attempts=0,
        next_attempt_at=T0,
    )  # fmt: skip


@pytest.mark.parametrize(
    "service",
    ["Payroll\rBcc: everyone@example.org", "Payroll\x00\x85\u2028Bcc: everyone@example.org"],
)
async def test_control_characters_in_a_subject_stay_inside_it(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, service: str
) -> None:
    async with webhook_receiver() as receiver:
        with smtp_server() as mailbox:
            registry = CollectorRegistry()
            rules = _rules(receiver, mailbox, monkeypatch)
            metrics = make_notify_metrics(registry)
            deliverer = Deliverer(storage.store, rules, VirtualClock(T0), NotifySettings(), metrics)
            subject = f"Crisis declared: {service} down"
            await storage.store.commit(Changes(notifications=[_crisis("mail", subject)]))
            async with deliverer:
                await _deliver(deliverer)
            [(envelope, mail)] = mailbox.messages
    assert envelope.rcpt_tos == ["ops@example.org", "lead@example.org"]
    assert mail["Bcc"] is None
    assert mail["Subject"].startswith("Crisis declared: Payroll")
    assert mail["Subject"].endswith("Bcc: everyone@example.org down")
    sent = await storage.store.get_notification("INC-9:crisis-v1:mail")
    assert sent is not None
    assert (sent.delivered, sent.attempts) == (True, 1)


@pytest.mark.parametrize(
    "service", ["Payroll\r\nBcc: x@example.org", "Payroll\nBcc: x@example.org"]
)
def test_a_line_break_in_a_service_name_stays_in_the_crisis_subject(service: str) -> None:
    incident = _incident().model_copy(update={"crisis": True})
    context = MessageContext(
        kind="crisis_declared", incident=incident, service_name=service, at=T0,
        incident_url="http://sereno.example/i/INC-7", runbook_url="", summary="a\r\n\r\nb",
    )  # fmt: skip
    rendered = Renderer("Europe/Madrid").render("crisis_declared", "en", context)
    subject = rendered.text.partition("\n")[0]
    assert subject == "Major incident: Payroll Bcc: x@example.org is not working"


def test_every_control_character_leaves_a_header() -> None:
    hostile = "".join(chr(c) for c in (*range(32), *range(0x7F, 0xA0), 0x2028, 0x2029))
    assert header_value(f"a{hostile}b") == "a b"


async def test_markdown_in_an_alert_is_text_in_teams() -> None:
    text = (
        "[P1] Opened: [click me](http://evil.example) on **db-1**\n\n"
        "Monitoring says: `rm` _x_ <b>\x00"
    )
    card = teams_payload(_crisis("teams", "").model_copy(update={"text": text}))
    blocks = card["attachments"][0]["content"]["body"]
    subject, summary = (b["text"] for b in blocks)
    assert subject == r"\[P1\] Opened: \[click me\]\(http://evil.example\) on \*\*db-1\*\*"
    assert summary == r"Monitoring says: \`rm\` \_x\_ \<b\>"
    assert markdown_text("a\\b") == "a\\\\b"


async def test_a_message_that_cannot_be_built_is_given_up_once_and_counted(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(message: Notification) -> JsonDict:
        raise KeyError(message.id)

    monkeypatch.setitem(delivery._PAYLOADS, ChannelType.WEBHOOK, broken)
    async with webhook_receiver() as receiver:
        with smtp_server() as mailbox:
            registry = CollectorRegistry()
            rules = _rules(receiver, mailbox, monkeypatch)
            metrics = make_notify_metrics(registry)
            deliverer = Deliverer(storage.store, rules, VirtualClock(T0), NotifySettings(), metrics)
            await storage.store.commit(Changes(notifications=[_crisis("hook", "Crisis")]))
            async with deliverer:
                await _deliver(deliverer)
                await _deliver(deliverer)
    given_up = await storage.store.get_notification("INC-9:crisis-v1:hook")
    assert given_up is not None
    assert (given_up.delivered, given_up.failed, given_up.attempts) == (False, True, 1)
    assert given_up.attempt_log[0].detail.startswith("KeyError")
    assert receiver.got.get("hook") is None
    counted = registry.get_sample_value(
        "sereno_notify_deliveries_total", {"channel": "hook", "outcome": "failed"}
    )
    assert counted == 1


async def test_a_channel_whose_secret_is_missing_is_undeliverable_once(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An environment variable cannot appear in a running process: no retries, one line."""
    async with webhook_receiver() as receiver:
        with smtp_server() as mailbox:
            rules = _rules(receiver, mailbox, monkeypatch)
            monkeypatch.delenv("TEST_HOOK_URL")
            registry = CollectorRegistry()
            clock = VirtualClock(T0)
            metrics = make_notify_metrics(registry)
            deliverer = Deliverer(storage.store, rules, clock, NotifySettings(), metrics)
            await storage.store.commit(Changes(notifications=[_crisis("hook", "Crisis")]))
            async with deliverer:
                await _deliver(deliverer)
                clock.advance(timedelta(hours=1))
                await _deliver(deliverer)
    undeliverable = await storage.store.get_notification("INC-9:crisis-v1:hook")
    assert undeliverable is not None
    assert (undeliverable.delivered, undeliverable.failed, undeliverable.attempts) == (
        False, True, 1,
    )  # fmt: skip
    assert undeliverable.attempt_log[0].detail == (
        "undeliverable: webhook URL: environment variable TEST_HOOK_URL is not set or empty"
    )
    counted = registry.get_sample_value(
        "sereno_notify_deliveries_total", {"channel": "hook", "outcome": "undeliverable"}
    )
    assert counted == 1


def test_unusable_channels_are_named_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERENO_REDES_SLACK_URL", raising=False)
    monkeypatch.setenv("SERENO_SISTEMAS_TEAMS_URL", "http://127.0.0.1:9/teams")
    monkeypatch.delenv("SERENO_SERVICE_DESK_WEBHOOK_URL", raising=False)
    found = unusable_channels(load_rules(EXAMPLE_RULES).notifications)
    assert found == {
        "redes-chat": (
            "webhook URL: environment variable SERENO_REDES_SLACK_URL is not set or empty"
        ),
        "service-desk-webhook": (
            "webhook URL: environment variable SERENO_SERVICE_DESK_WEBHOOK_URL is not set or empty"
        ),
        "redes-guardia-mail": (
            "the SMTP host smtp.example.org is an example name (RFC 2606); set smtp.host"
        ),
        "comite-crisis-mail": (
            "the SMTP host smtp.example.org is an example name (RFC 2606); set smtp.host"
        ),
    }


def test_a_real_mail_server_needs_its_password_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    smtp = Smtp.model_validate(
        {"host": "mail.corp.lan", "password": {"env": "TEST_SMTP_PW"}, "sender": "s@corp.lan"}
    )
    monkeypatch.delenv("TEST_SMTP_PW", raising=False)
    assert (
        smtp_problem(smtp) == "SMTP password: environment variable TEST_SMTP_PW is not set or empty"
    )
    monkeypatch.setenv("TEST_SMTP_PW", "pw")
    assert smtp_problem(smtp) is None
    assert smtp_problem(None) == "no 'smtp:' (mail server) in the notification rules"


async def _until(ready: Callable[[], bool], within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ready():
            return
        await asyncio.sleep(0.01)
    pytest.fail(f"not within {within_s}s")


class _FlakyOutbox:
    """The real store, whose outbox fails once with an error nobody planned for."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.failures = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def notifications_to_send(self, now: datetime, limit: int) -> list[Notification]:
        if self.failures:
            self.failures -= 1
            raise RuntimeError("unplanned")
        return await self._store.notifications_to_send(now, limit)


async def test_the_delivery_loop_outlives_a_fault(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_receiver() as receiver:
        with smtp_server() as mailbox:
            rules = _rules(receiver, mailbox, monkeypatch)
            outbox = _FlakyOutbox(storage.store)
            deliverer = Deliverer(
                outbox,  # type: ignore[arg-type]
                rules, VirtualClock(T0), NotifySettings(poll_s=0.01),
                make_notify_metrics(CollectorRegistry()),
            )  # fmt: skip
            await storage.store.commit(Changes(notifications=[_crisis("hook", "Crisis")]))
            stopping = asyncio.Event()
            loop = asyncio.create_task(deliverer.run(stopping))
            await _until(lambda: bool(receiver.got.get("hook")))
            stopping.set()
            await asyncio.wait_for(loop, 5)
    assert outbox.failures == 0
    assert len(receiver.got["hook"]) == 1
