"""Notifications from a running `sereno serve`: an incident reaches its group's Teams
webhook and the crisis committee's mailbox (a real SMTP server), while a channel answering
500 is retried without holding back the others; at recovery both hear it is over."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.acceptance.conftest import SerenoProcess, http_json
from tests.conftest import EXAMPLE_RULES
from tests.notify.receivers import Mailbox, Receiver, smtp_server, webhook_receiver

pytestmark = pytest.mark.e2e

ALERT = {
    "name": "ProbeFailure", "resource": "mail-01", "service": "email", "severity": "critical",
    "summary": "SMTP probe of mail-01:25 failed", "id": "probe-mail-01",
}  # fmt: skip


def _rules(folder: Path, mailbox: Mailbox) -> Path:
    rules = folder / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    (rules / "notifications.yaml").write_text(f"""
notifications:
  channels:
    sistemas-teams: {{type: teams, url: {{env: LIVE_TEAMS_URL}}}}
    broken-hook: {{type: webhook, url: {{env: LIVE_BROKEN_URL}}}}
    desk-hook: {{type: webhook, url: {{env: LIVE_DESK_URL}}}}
    comite: {{type: email, to: [comite@example.org], language: es}}
  smtp: {{host: 127.0.0.1, port: {mailbox.port}, security: none, sender: sereno@example.org}}
  groups:
    sistemas: {{channels: [broken-hook, sistemas-teams]}}
  default: {{channels: [desk-hook]}}
  crisis_committee: {{channels: [comite], update_every: 30m}}
""")
    return rules


async def _until(ready: Callable[[], bool], what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ready():
            return
        await asyncio.sleep(0.1)
    pytest.fail(f"not within {within_s}s: {what}")


async def test_a_running_sereno_notifies_its_channels_and_a_broken_one_holds_back_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with webhook_receiver() as receiver:
        receiver.status["broken"] = 500
        with smtp_server() as mailbox:
            monkeypatch.setenv("LIVE_TEAMS_URL", receiver.url("teams"))
            monkeypatch.setenv("LIVE_BROKEN_URL", receiver.url("broken"))
            monkeypatch.setenv("LIVE_DESK_URL", receiver.url("desk"))
            config = tmp_path / "sereno.yaml"
            config.write_text(
                f"rules_dir: {_rules(tmp_path, mailbox)}\n"
                f"runbooks_dir: {EXAMPLE_RULES.parent / 'runbooks'}\n"
                "language: en\nnotify: {backoff_s: 0.2, max_backoff_s: 0.5, poll_s: 0.1}\n"
            )
            server = SerenoProcess(config, tmp_path / "data", tmp_path / "sereno.log")
            await asyncio.to_thread(server.start)
            try:
                await _scenario(server, receiver, mailbox)
            finally:
                await asyncio.to_thread(server.stop)


def _texts(receiver: Receiver, path: str) -> list[str]:
    return [
        body["attachments"][0]["content"]["body"][0]["text"]
        for body, _ in receiver.got.get(path, [])
    ]


async def _post(server: SerenoProcess, alert: dict[str, str]) -> None:
    status, _ = await asyncio.to_thread(
        http_json, "POST", f"{server.url}/api/v1/alerts/generic", alert
    )
    assert status == 202


async def _scenario(server: SerenoProcess, receiver: Receiver, mailbox: Mailbox) -> None:
    await _post(server, ALERT)
    await _until(lambda: len(_texts(receiver, "teams")) == 1, "Teams gets the opening")
    await _until(lambda: len(mailbox.messages) == 1, "the committee gets the declaration")
    # Markdown punctuation comes backslash-escaped: Teams shows it as written.
    assert _texts(receiver, "teams") == [r"\[P1\] Opened: ProbeFailure on mail-01"]
    envelope, mail = mailbox.messages[0]
    assert envelope.rcpt_tos == ["comite@example.org"]
    assert mail["Subject"] == "Incidente grave: Email no funciona"
    assert mail.get_body(("plain",)) is not None
    assert mail.get_body(("html",)) is not None
    # The broken channel keeps being retried, and held back nobody.
    await _until(lambda: len(receiver.got.get("broken", [])) >= 2, "the broken hook is retried")

    await _post(server, {**ALERT, "status": "resolved"})
    await _until(lambda: len(_texts(receiver, "teams")) == 2, "Teams hears of the recovery")
    await _until(lambda: len(mailbox.messages) == 2, "the committee hears it is over")
    assert _texts(receiver, "teams")[1].startswith(r"\[P1\] Resolved: ")
    assert mailbox.messages[1][1]["Subject"] == "Fin del incidente grave: Email vuelve a funcionar"
    assert "desk" not in receiver.got  # another group's channel heard nothing
    # Once each: nothing was sent twice while the broken channel failed.
    assert [m["Subject"] for _, m in mailbox.messages] == [
        "Incidente grave: Email no funciona",
        "Fin del incidente grave: Email vuelve a funcionar",
    ]
