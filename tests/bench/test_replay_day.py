"""bench/replay.py's day is valid replay input: every line accepted, every source present,
and correlation has work to do (symptoms behind a failed switch, a maintenance window)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from sereno.cli import main
from tests.conftest import REPO

ALERTS = 300


def _generate(path: Path, seed: int = 7) -> None:
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "replay.py"), "--alerts", str(ALERTS),
         "--seed", str(seed), "--generate-only", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip


def test_the_generated_day_replays_without_a_rejected_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    day = tmp_path / "day.jsonl"
    _generate(day)
    lines = [json.loads(line) for line in day.read_text().splitlines()]
    assert Counter(line["source"] for line in lines).keys() == {
        "alertmanager", "zabbix", "nagios", "generic",
    }  # fmt: skip
    moments = [line["at"] for line in lines]
    assert moments == sorted(moments)
    assert moments[0] >= "2026-11-20T00:00:00"
    assert moments[-1] < "2026-11-21T00:00:00"

    assert main(["replay", str(day), "--config", str(REPO / "sereno.yaml"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rejected"] == []
    assert (out["stats"]["requests"], out["stats"]["alerts"]) == (len(lines), ALERTS)
    assert 0 < out["stats"]["incidents"] < ALERTS
    # Hosts behind a failed switch or router join its incident as symptoms.
    assert any(a["role"] == "symptom" for i in out["incidents"] for a in i["alerts"])
    # Toledo servers rebooting in the Thursday patching window open nothing.
    assert {s["by"] for s in out["suppressed"]} == {"maintenance:patch-thursday"}


def test_the_same_seed_gives_the_same_day(tmp_path: Path) -> None:
    _generate(tmp_path / "a.jsonl")
    _generate(tmp_path / "b.jsonl")
    _generate(tmp_path / "c.jsonl", seed=8)
    first = (tmp_path / "a.jsonl").read_bytes()
    assert first == (tmp_path / "b.jsonl").read_bytes()
    assert first != (tmp_path / "c.jsonl").read_bytes()
