"""Replay keeps its data file small: streams are trimmed as the virtual day goes on."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest

from core.config import Settings
from core.models import IncidentStatus, TicketStatus
from core.rules import load_rules
from sereno import replay
from sereno.replay import read_lines, run_replay
from tests.conftest import EXAMPLE_RULES, REPO

STORM = REPO / "examples" / "switch-outage" / "alerts.jsonl"


def test_streams_are_trimmed_while_the_replay_runs(tmp_path: Path) -> None:
    # A tick every second: streams are trimmed every 20 virtual seconds of the storm.
    settings = Settings(rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks", tick_s=1)
    result = asyncio.run(run_replay(STORM, settings, load_rules(EXAMPLE_RULES), data_dir=tmp_path))
    requests = len(read_lines(STORM))
    assert result.requests == requests
    with sqlite3.connect(tmp_path / "sereno.db") as db:
        (published,) = db.execute("SELECT MAX(seq) FROM entries").fetchone()
        (kept,) = db.execute("SELECT COUNT(*) FROM entries").fetchone()
    # Every request and every incident change was an entry; only those since the last
    # tick of the virtual clock are still there.
    assert published > requests
    assert kept < requests / 4, (kept, published)


def test_a_long_replay_says_how_far_it_has_got(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every request counts as long here: progress after each one.
    monkeypatch.setattr(replay, "PROGRESS_EVERY_S", 0.0)
    settings = Settings(rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks")
    said: list[str] = []
    result = asyncio.run(
        run_replay(STORM, settings, load_rules(EXAMPLE_RULES), progress=said.append)
    )
    assert len(said) == result.requests
    assert said[0].startswith(f"0 of {result.requests:,} requests, virtual time 2026-11-20 07:59")
    assert said[-1].startswith(f"{result.requests - 1:,} of {result.requests:,} requests")
    last_count = int(said[-1].split(", ")[2].split()[0].replace(",", ""))
    assert 0 < last_count <= result.alerts


def _flapping_day(path: Path) -> datetime:
    """A check that goes down and up eight times in 40 minutes, then stays up; returns the
    moment of its last line. Its incident waits 30 calm minutes before it resolves."""
    start = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    lines = []
    for n in range(16):
        status = "firing" if n % 2 == 0 else "resolved"
        at = start + timedelta(minutes=2.5 * n)
        payload = {"name": "VPNTunnelDown", "resource": "vpn-gw-9", "severity": "major",
                   "id": "vpn-gw-9", "status": status}  # fmt: skip
        lines.append(json.dumps({"at": at.isoformat(), "source": "generic", "payload": payload}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return start + timedelta(minutes=2.5 * 15)


@pytest.mark.parametrize("past", ["none", "until", "drain"])
def test_time_goes_on_past_the_last_line_when_asked(tmp_path: Path, past: str) -> None:
    # Live, the flapping incident resolves once its calm period has passed after the last
    # alert; a replay that stops at its last line cannot show that unless asked to go on.
    day = tmp_path / "day.jsonl"
    last = _flapping_day(day)
    settings = Settings(rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks")
    until: datetime | Literal["drain"] | None = {
        "none": None, "until": last + timedelta(minutes=31), "drain": "drain",
    }[past]  # fmt: skip
    result = asyncio.run(run_replay(day, settings, load_rules(EXAMPLE_RULES), until=until))
    [incident] = [i for i in result.incidents if i.title.startswith("VPNTunnelDown")]
    assert incident.flapping
    if past == "none":
        assert incident.status is IncidentStatus.OPEN
        return
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.resolved_at is not None
    assert last + timedelta(minutes=30) <= incident.resolved_at <= last + timedelta(minutes=31)
    [ticket] = [t for t in result.tickets if t.incident_id == incident.id]
    assert ticket.status is TicketStatus.RESOLVED
