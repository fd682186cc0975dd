"""The delivery loop against real receivers: webhook, Slack and Teams payloads to a loopback
aiohttp server, email to a real SMTP server (aiosmtpd); retries, a failing channel beside a
working one, every attempt recorded, and nothing sent twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from core.clock import VirtualClock
from core.config import NotifySettings
from core.metrics import make_notify_metrics
from core.models import AlertStatus, Incident, IncidentAlert, Notification, Priority, Severity
from core.rules import NotificationRules, Rules, RulesRef
from core.storage import Storage
from core.store import Changes
from notify.delivery import Deliverer
from notify.render import MessageContext, Renderer
from tests.conftest import T0
from tests.notify.receivers import Mailbox, Receiver, smtp_server, webhook_receiver

HOSTILE = '<script>alert("x")</script> & <b>bold</b>'


def _incident() -> Incident:
    alert = IncidentAlert(
        fingerprint="fp", source="generic", source_id="1", name="DiskFull", resource="db-1",
        service="payroll", severity=Severity.CRITICAL, status=AlertStatus.FIRING,
        summary=HOSTILE, first_seen=T0, last_seen=T0,
    )  # fmt: skip
    return Incident(
        id="INC-7", key="k", title="DiskFull on db-1", severity=Severity.CRITICAL,
        priority=Priority.P2, priority_reason="P2 because", service="payroll",
        users_affected=3000, group="sistemas", opened_at=T0, sample=(alert,), alert_count=1,
    )  # fmt: skip


def _message(channel: str, language: str = "en", kind: str = "opened") -> Notification:
    incident = _incident()
    context = MessageContext(
        kind=kind, incident=incident, service_name="Payroll", at=T0,
        incident_url="http://sereno.example/api/v1/incidents/INC-7", runbook_url="",
        summary=HOSTILE,
    )  # fmt: skip
    rendered = Renderer("Europe/Madrid").render("on_call", language, context)  # type: ignore[arg-type]
    return Notification(
        id=f"INC-7:{kind}-v1:{channel}", at=T0, channel=channel, kind=kind, incident_id="INC-7",
        text=rendered.text, html=rendered.html, delivered=False, attempts=0, next_attempt_at=T0,
    )  # fmt: skip


def _rules(receiver: Receiver, mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> RulesRef:
    for name in ("hook", "chat", "teams", "down"):
        monkeypatch.setenv(f"TEST_{name.upper()}_URL", receiver.url(name))
    channels = {
        name: {"type": kind, "url": {"env": f"TEST_{name.upper()}_URL"}}
        for name, kind in (("hook", "webhook"), ("chat", "slack"), ("teams", "teams"),
                           ("down", "webhook"))
    }  # fmt: skip
    channels["mail"] = {"type": "email", "to": ["ops@example.org", "lead@example.org"]}
    notifications = NotificationRules.model_validate(
        {"channels": channels,
         "smtp": {"host": "127.0.0.1", "port": mailbox.port, "security": "none",
                  "sender": "sereno@example.org"}}
    )  # fmt: skip
    return RulesRef(Rules(notifications=notifications))


async def _deliver(deliverer: Deliverer) -> None:
    await deliverer.deliver_due()
    await deliverer.settle()


async def test_each_channel_gets_its_format_and_a_failing_one_holds_back_none(  # noqa: PLR0915 - one story, told in order
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_receiver() as receiver:
        receiver.status["down"] = 500
        with smtp_server() as mailbox:
            clock = VirtualClock(T0)
            settings = NotifySettings(max_attempts=3, backoff_s=60)
            deliverer = Deliverer(storage.store, _rules(receiver, mailbox, monkeypatch), clock,
                                  settings, make_notify_metrics(CollectorRegistry()))  # fmt: skip
            channels = ("down", "hook", "chat", "teams", "mail")
            await storage.store.commit(Changes(notifications=[_message(c) for c in channels]))
            async with deliverer:
                await _deliver(deliverer)
                # Delivered once each; a second look sends nothing again.
                await _deliver(deliverer)

                [(hook, headers)] = receiver.got["hook"]
                assert hook["kind"] == "opened"
                assert hook["incident_id"] == "INC-7"
                assert hook["subject"] == "[P2] Opened: DiskFull on db-1"
                assert headers["X-Sereno-Notification"] == "INC-7:opened-v1:hook"
                [(chat, _)] = receiver.got["chat"]
                assert chat["text"].startswith("*[P2] Opened: DiskFull on db-1*\n")
                assert "&lt;script&gt;" in chat["text"]  # Slack's own escaping
                [(teams, _)] = receiver.got["teams"]
                card = teams["attachments"][0]
                assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
                # Markdown punctuation escaped: shown as written.
                assert card["content"]["body"][0]["text"] == r"\[P2\] Opened: DiskFull on db-1"

                [(envelope, mail)] = mailbox.messages
                assert envelope.rcpt_tos == ["ops@example.org", "lead@example.org"]
                assert mail["Subject"] == "[P2] Opened: DiskFull on db-1"
                assert mail["From"] == "sereno@example.org"
                assert mail["To"] == "ops@example.org, lead@example.org"
                assert mail["X-Sereno-Incident"] == "INC-7"
                text = mail.get_body(("plain",))
                html = mail.get_body(("html",))
                assert text is not None
                assert html is not None
                assert HOSTILE in text.get_content()
                # The alert's summary stays text in the HTML part.
                assert "<script>" not in html.get_content()
                assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html.get_content()
                assert "&lt;b&gt;bold&lt;/b&gt;" in html.get_content()

                # The failing channel was tried once, is waiting for its next try.
                assert len(receiver.got["down"]) == 1
                down = await storage.store.get_notification("INC-7:opened-v1:down")
                assert down is not None
                assert (down.delivered, down.failed, down.attempts) == (False, False, 1)
                assert down.attempt_log[0].detail.startswith("HTTP 500")
                assert down.next_attempt_at is not None
                assert down.next_attempt_at > T0 + timedelta(seconds=40)
                for name in ("hook", "chat", "teams", "mail"):
                    sent = await storage.store.get_notification(f"INC-7:opened-v1:{name}")
                    assert sent is not None
                    assert (sent.delivered, sent.attempts) == (True, 1)
                    assert sent.attempt_log[0].ok

                # Its backoff doubles; after max_attempts it is given up, and stays so.
                for _ in range(4):
                    clock.advance(timedelta(minutes=10))
                    await _deliver(deliverer)
                down = await storage.store.get_notification("INC-7:opened-v1:down")
                assert down is not None
                assert (down.delivered, down.failed, down.attempts) == (False, True, 3)
                assert down.next_attempt_at is None
                assert len(receiver.got["down"]) == 3
                assert len(receiver.got["hook"]) == 1
                assert (
                    await storage.store.notifications_to_send(clock.now() + timedelta(days=1)) == []
                )


async def test_a_channel_that_recovers_gets_the_message_once(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_receiver() as receiver:
        receiver.status["down"] = 503
        with smtp_server() as mailbox:
            clock = VirtualClock(T0)
            deliverer = Deliverer(storage.store, _rules(receiver, mailbox, monkeypatch), clock,
                                  NotifySettings(backoff_s=30),
                                  make_notify_metrics(CollectorRegistry()))  # fmt: skip
            await storage.store.commit(Changes(notifications=[_message("down")]))
            async with deliverer:
                await _deliver(deliverer)
                receiver.status["down"] = 200
                await _deliver(deliverer)  # not due yet: nothing
                assert len(receiver.got["down"]) == 1
                clock.advance(timedelta(minutes=5))
                await _deliver(deliverer)
                clock.advance(timedelta(minutes=5))
                await _deliver(deliverer)
            assert len(receiver.got["down"]) == 2
            sent = await storage.store.get_notification("INC-7:opened-v1:down")
            assert sent is not None
            assert [a.ok for a in sent.attempt_log] == [False, True]
            assert sent.delivered


async def test_a_spanish_channel_gets_spanish_mail(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_receiver() as receiver:
        with smtp_server() as mailbox:
            deliverer = Deliverer(storage.store, _rules(receiver, mailbox, monkeypatch),
                                  VirtualClock(T0), NotifySettings(),
                                  make_notify_metrics(CollectorRegistry()))  # fmt: skip
            await storage.store.commit(Changes(notifications=[_message("mail", "es")]))
            async with deliverer:
                await _deliver(deliverer)
            [(_, mail)] = mailbox.messages
            assert mail["Subject"] == "[P2] Abierto: DiskFull on db-1"
            text = mail.get_body(("plain",))
            assert text is not None
            # Times in the configured zone, numbers as Spanish writes them.
            assert "desde 20 nov 2026 09:00 CET" in text.get_content()
            assert "Servicio: Payroll (3.000 usuarios)" in text.get_content()
