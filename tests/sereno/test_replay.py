"""Replay keeps its data file small: streams are trimmed as the virtual day goes on."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from core.config import Settings
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
