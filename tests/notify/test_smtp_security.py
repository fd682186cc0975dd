"""Mail through a real SMTP server (aiosmtpd) that requires STARTTLS and a login, as a
corporate relay does: the certificate is checked against a CA the test makes (trustme),
found through SSL_CERT_FILE as any OpenSSL client finds an operator's CA."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from prometheus_client import CollectorRegistry

from core.clock import VirtualClock
from core.config import NotifySettings
from core.metrics import make_notify_metrics
from core.models import Notification
from core.rules import NotificationRules, Rules, RulesRef
from core.storage import Storage
from core.store import Changes
from notify.delivery import Deliverer
from tests.conftest import T0
from tests.notify.receivers import Logins, Mailbox, secure_smtp_server


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusted(ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's CA is the one OpenSSL trusts, as an operator's would be."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[tuple[Mailbox, Logins]]:
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    logins = Logins(user=b"sereno", password=b"correct horse")
    with secure_smtp_server(tls, logins) as (mailbox, _):
        yield mailbox, logins


def _rules(port: int, security: str = "starttls") -> RulesRef:
    notifications = NotificationRules.model_validate(
        {"channels": {"mail": {"type": "email", "to": ["ops@example.org"]}},
         "smtp": {"host": "127.0.0.1", "port": port, "security": security,
                  "username": "sereno", "password": {"env": "TEST_SMTP_PASSWORD"},
                  "sender": "sereno@example.org"}}
    )  # fmt: skip
    return RulesRef(Rules(notifications=notifications))


def _message() -> Notification:
    return Notification(
        id="INC-1:opened-v1:mail", at=T0, channel="mail", kind="opened", incident_id="INC-1",
        text="[P2] Opened: Disk full on db-1\n\nIt is full.\n", delivered=False, attempts=0,
        next_attempt_at=T0,
    )  # fmt: skip


async def _send(storage: Storage, rules: RulesRef) -> Notification:
    registry = CollectorRegistry()
    deliverer = Deliverer(storage.store, rules, VirtualClock(T0), NotifySettings(max_attempts=1),
                          make_notify_metrics(registry))  # fmt: skip
    await storage.store.commit(Changes(notifications=[_message()]))
    async with deliverer:
        await deliverer.deliver_due()
        await deliverer.settle()
    settled = await storage.store.get_notification("INC-1:opened-v1:mail")
    assert settled is not None
    return settled


@pytest.mark.usefixtures("trusted")
async def test_starttls_then_login_then_the_mail(
    storage: Storage, server: tuple[Mailbox, Logins], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, logins = server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct horse")
    sent = await _send(storage, _rules(mailbox.port))
    assert (sent.delivered, sent.attempts) == (True, 1), sent.attempt_log
    assert [(user, ok) for _, user, ok in logins.tried] == [(b"sereno", True)]
    [(envelope, mail)] = mailbox.messages
    assert envelope.rcpt_tos == ["ops@example.org"]
    assert mail["Subject"] == "[P2] Opened: Disk full on db-1"


@pytest.mark.usefixtures("trusted")
async def test_a_wrong_password_is_refused_for_good(
    storage: Storage, server: tuple[Mailbox, Logins], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, logins = server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "wrong")
    sent = await _send(storage, _rules(mailbox.port))
    assert (sent.delivered, sent.failed) == (False, True)
    assert sent.attempt_log[0].detail.startswith("SMTP 535")
    # aiosmtplib tries each mechanism the server offers before it gives up.
    assert [(mechanism, ok) for mechanism, _, ok in logins.tried] == [
        ("PLAIN", False), ("LOGIN", False),
    ]  # fmt: skip
    assert mailbox.messages == []


@pytest.mark.usefixtures("trusted")
async def test_without_starttls_the_server_refuses_the_login(
    storage: Storage, server: tuple[Mailbox, Logins], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, logins = server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct horse")
    sent = await _send(storage, _rules(mailbox.port, security="none"))
    assert sent.delivered is False
    assert logins.tried == []  # the password never crossed the wire in clear
    assert mailbox.messages == []


async def test_an_untrusted_certificate_is_not_accepted(
    storage: Storage, server: tuple[Mailbox, Logins], monkeypatch: pytest.MonkeyPatch
) -> None:
    mailbox, logins = server
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "correct horse")
    sent = await _send(storage, _rules(mailbox.port))
    assert sent.delivered is False
    assert "CERTIFICATE_VERIFY_FAILED" in sent.attempt_log[0].detail
    assert logins.tried == []
    assert mailbox.messages == []
