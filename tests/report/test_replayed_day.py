"""A generated day (bench/replay.py, fixed seed) replayed through the real pipeline, its
report produced in all three formats, and its figures checked against what this test counts
itself from the same recording and the incidents the replay left."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from statistics import fmean

import pytest

from core.config import Settings
from core.models import Incident
from core.rules import load_rules
from report.render import ReportFormat, render
from sereno.replay import ReplayResult, run_replay
from tests.conftest import EXAMPLE_RULES, REPO

ALERTS = 400
START = datetime(2026, 11, 20, tzinfo=UTC)
END = datetime(2026, 11, 21, tzinfo=UTC)
"""01:00 in Madrid on the 21st: the report covers the generated UTC day exactly."""


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("day") / "day.jsonl"
    subprocess.run(
        [sys.executable, str(REPO / "bench" / "replay.py"), "--alerts", str(ALERTS),
         "--seed", "11", "--generate-only", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def replayed(recording: Path) -> ReplayResult:
    settings = Settings(
        rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks", timezone="Europe/Madrid",
        report={"hour": 1, "top": 100},
    )  # fmt: skip
    return asyncio.run(
        run_replay(recording, settings, load_rules(EXAMPLE_RULES), report=True,
                   report_day=date(2026, 11, 21))
    )  # fmt: skip


def _alerts_per_source(recording: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in recording.read_text().splitlines():
        request = json.loads(line)
        payload = request["payload"]
        counts[request["source"]] += len(payload["alerts"]) if "alerts" in payload else 1
    return counts


def _real(result: ReplayResult) -> list[Incident]:
    return [i for i in result.incidents if i.merged_into is None]


def _during(moment: datetime | None) -> bool:
    return moment is not None and START <= moment < END


def test_alert_figures_match_the_recording(replayed: ReplayResult, recording: Path) -> None:
    report = replayed.report
    assert report is not None
    expected = _alerts_per_source(recording)
    assert sum(expected.values()) == ALERTS
    assert {s.source: s.received.value for s in report.alerts.by_source} == expected
    assert report.alerts.received.value == ALERTS
    assert report.alerts.suppressed.value == len(replayed.suppressed) > 0
    assert dict(report.alerts.suppressed_by) == Counter(s.by for s in replayed.suppressed)
    assert 0 < (report.alerts.deduplicated.value or 0) < ALERTS
    opened = [i for i in _real(replayed) if _during(i.opened_at)]
    assert report.alerts.incidents.value == len(opened)
    assert report.alerts.compression.value == round(ALERTS / len(opened), 2)
    assert sum(h.received for h in report.alerts.by_hour) == ALERTS
    # Nothing before the generated day: the day before counts zero.
    assert report.alerts.received.previous == 0


def test_incident_figures_match_the_incidents(replayed: ReplayResult) -> None:
    report = replayed.report
    assert report is not None
    real = _real(replayed)
    opened = [i for i in real if _during(i.opened_at)]
    resolved = [i for i in real if _during(i.resolved_at)]
    assert report.incidents.opened.value == len(opened)
    assert report.incidents.resolved.value == len(resolved)
    assert report.incidents.merged == sum(1 for i in replayed.incidents if i.merged_into)
    assert {b.name: (b.opened, b.resolved) for b in report.incidents.by_priority} == {
        p: (sum(1 for i in opened if i.priority.value == p),
            sum(1 for i in resolved if i.priority.value == p))
        for p in {i.priority.value for i in opened + resolved}
    }  # fmt: skip
    acknowledged = [i for i in real if i.acknowledged_at and _during(i.acknowledged_at)]
    if acknowledged:
        assert report.incidents.mtta_minutes.value == round(
            fmean((i.acknowledged_at - i.opened_at).total_seconds() / 60  # type: ignore[operator]
                  for i in acknowledged), 1)  # fmt: skip
    assert report.incidents.mttr_minutes.value == round(
        fmean((i.resolved_at - i.opened_at).total_seconds() / 60  # type: ignore[operator]
              for i in resolved), 1)  # fmt: skip
    still_open = [i for i in real if i.resolved_at is None or i.resolved_at >= END]
    assert report.backlog.open.value == len(still_open)
    assert sorted(i.id for i in report.backlog.oldest) == sorted(i.id for i in still_open)
    crises = [i for i in replayed.incidents if i.crisis]
    assert sorted(c.id for c in report.crises) == sorted(i.id for i in crises)
    assert report.crises[0].priority == min(i.priority for i in crises)  # the worst first
    assert sorted(i.id for i in report.without_runbook) == sorted(
        i.id for i in opened if not i.runbook
    )


def test_all_three_formats_carry_the_figures(replayed: ReplayResult) -> None:
    report = replayed.report
    assert report is not None
    as_json = json.loads(render(report, ReportFormat.JSON))
    assert as_json["alerts"]["received"]["value"] == ALERTS
    assert as_json["date"] == "2026-11-21"
    markdown = render(report, ReportFormat.MARKDOWN)
    html = render(report, ReportFormat.HTML)
    for source in report.alerts.by_source:
        assert f"| {source.source} | {source.received.value:,.0f} |" in markdown
        assert f"<td>{source.source}</td>" in html
    assert f"{len(report.crises)}" in html


def test_a_flapping_check_is_a_candidate_for_tuning() -> None:
    settings = Settings(rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks")
    result = asyncio.run(
        run_replay(REPO / "examples" / "flapping" / "alerts.jsonl", settings,
                   load_rules(EXAMPLE_RULES), report=True)
    )  # fmt: skip
    assert result.report is not None
    alerts = result.alerts_of
    flapping = [(i.id, a.name, a.resource, a.count)
                for i in result.incidents for a in alerts[i.id] if a.flapping]  # fmt: skip
    assert flapping
    assert [(c.incident_id, c.name, c.resource, c.count) for c in result.report.flapping] == (
        flapping
    )


def test_the_switch_outage_report_agrees_with_itself() -> None:
    """Replayed, the core switch's storm merges four incidents into their cause. Every SLA
    response the report counts as missed is in its breach list, and the tickets it leaves
    out (those of the merged incidents) are said so."""
    settings = Settings(rules_dir=EXAMPLE_RULES, runbooks_dir=REPO / "runbooks")
    replayed = asyncio.run(
        run_replay(REPO / "examples" / "switch-outage" / "alerts.jsonl", settings,
                   load_rules(EXAMPLE_RULES), report=True)
    )  # fmt: skip
    assert replayed.report is not None
    sla = replayed.report.sla
    merged = sum(1 for i in replayed.incidents if i.merged_into is not None)
    assert merged > 0
    missed = sla.response_settled - sla.response_met
    assert missed == sum(1 for b in sla.breaches if b.target.value == "response")
    assert sla.merged_left_out == merged
    markdown = render(replayed.report, ReportFormat.MARKDOWN)
    assert f"Left out today: {merged}." in markdown
