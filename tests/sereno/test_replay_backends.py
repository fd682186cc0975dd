"""`replay` lists what the configured external ticket backends would have been asked, and
asks them nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from core.config import JiraBackend, Secret, Settings, TicketBackends, WebhookBackend
from core.rules import load_rules
from sereno.replay import run_replay
from tests.conftest import REPO
from tests.sereno.test_app import webhook
from tests.ticketer.jira_fake import EMAIL, TOKEN, FakeJira


@pytest.fixture
async def fake() -> AsyncIterator[FakeJira]:
    jira = FakeJira()
    await jira.start()
    yield jira
    await jira.close()


def _line(at: str, payload: object) -> str:
    return json.dumps({"at": at, "source": "alertmanager", "payload": payload})


async def test_replay_lists_would_be_backend_calls_and_makes_none(
    tmp_path: Path, fake: FakeJira
) -> None:
    assert fake.server is not None
    url = str(fake.server.make_url("")).rstrip("/")
    fire = webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"))
    more = webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"), ("HostDown", "web-3"))
    gone = webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"), ("HostDown", "web-3"),
                   status="resolved")  # fmt: skip
    recording = tmp_path / "day.jsonl"
    recording.write_text(
        "\n".join(
            [
                _line("2026-11-20T08:00:03Z", fire),
                _line("2026-11-20T08:20:00Z", more),
                _line("2026-11-20T09:00:00Z", gone),
            ]
        )
    )
    backends = TicketBackends(
        # Both point at the fake over loopback: any call made would be counted there.
        webhook=WebhookBackend(url=f"{url}/rest/api/2/issue", secret=Secret(value=SecretStr("s"))),
        jira=JiraBackend(url=url, project="OPS", email=EMAIL, token=Secret(value=SecretStr(TOKEN))),
    )
    settings = Settings(rules_dir=REPO / "rules", data_dir=tmp_path / "data",
                        ticket_backends=backends)  # fmt: skip
    result = await run_replay(recording, settings, load_rules(settings.rules_dir))

    assert sum(fake.calls.values()) == 0
    [ticket] = result.tickets
    calls = [(c.backend, c.action, c.event) for c in result.backend_calls]
    # Opened, its response target missed, the alert that joined, resolved.
    assert calls == [
        ("webhook", "create", "created"),
        ("jira", "create", "created"),
        ("webhook", "comment", "sla_breached"),
        ("jira", "comment", "sla_breached"),
        ("webhook", "comment", "updated"),
        ("jira", "comment", "updated"),
        ("webhook", "transition", "resolved"),
        ("jira", "comment", "resolved"),
        ("jira", "transition", "resolved"),
    ]
    assert {(c.ticket, c.incident) for c in result.backend_calls} == {
        (ticket.id, ticket.incident_id)
    }
    assert [c.at for c in result.backend_calls] == sorted(c.at for c in result.backend_calls)
    first = result.as_dict()["backend_calls"][0]  # type: ignore[index]
    assert set(first) == {"backend", "action", "ticket", "incident", "at", "event"}
    assert result.as_dict()["stats"]["backend_calls"] == len(calls)  # type: ignore[index]


async def test_replay_without_external_backends_lists_no_calls(tmp_path: Path) -> None:
    recording = tmp_path / "day.jsonl"
    recording.write_text(_line("2026-11-20T08:00:03Z", webhook("g", ("HostDown", "web-1"))))
    settings = Settings(rules_dir=REPO / "rules", data_dir=tmp_path / "data")
    result = await run_replay(recording, settings, load_rules(settings.rules_dir))
    assert result.tickets
    assert result.as_dict()["backend_calls"] == []
