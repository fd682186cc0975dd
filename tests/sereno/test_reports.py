"""The daily report's entry points on both backends: GET /api/v1/reports/daily over a real
loopback socket, the scheduler's once-a-day production, and `sereno report daily`."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from core.clock import VirtualClock
from core.config import ConfigError, Settings, load_settings
from core.storage import Storage
from report.daily import MARKER
from sereno.app import create_app
from sereno.cli import main
from sereno.reports import produce_due, run_daily_reports
from tests.sereno.test_app import Client, ClientFactory, wait_for

BEFORE_MEETING = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)
"""08:30 in Madrid, half an hour before the meeting of 2026-11-20."""


@pytest.fixture
async def client(aiohttp_client: ClientFactory, storage_settings: Settings) -> Client:
    clock = VirtualClock(BEFORE_MEETING)
    return await aiohttp_client(create_app(storage_settings, clock=clock))


def _report_ready(received: int) -> Any:
    return lambda body: body.get("alerts", {}).get("received", {}).get("value") == received


async def test_the_report_counts_what_was_received(client: Client) -> None:
    alerts = [
        {"name": "HighLatency", "service": "payroll", "resource": "app-1", "severity": "major"},
        {"name": "HighLatency", "service": "payroll", "resource": "app-1", "severity": "major"},
        {"name": "DiskFull", "service": "email", "resource": "mx-1"},
    ]
    response = await client.post("/api/v1/alerts/generic", json=alerts)
    assert response.status == 202
    body = await wait_for(client, "/api/v1/reports/daily?date=2026-11-20", _report_ready(3))
    assert body["date"] == "2026-11-20"
    assert body["alerts"]["deduplicated"]["value"] == 1
    assert [s["source"] for s in body["alerts"]["by_source"]] == ["generic"]
    html = await client.get("/api/v1/reports/daily?date=2026-11-20&format=html")
    assert html.status == 200
    assert html.content_type == "text/html"
    assert (await html.text()).count("<svg") == 3
    markdown = await client.get("/api/v1/reports/daily?date=2026-11-20&format=md")
    assert markdown.content_type == "text/markdown"
    assert "| generic | 3 |" in await markdown.text()


async def test_an_alerts_hostile_words_stay_text(client: Client) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    alerts = [{"name": hostile, "service": "payroll", "resource": "app-1",
               "summary": hostile, "severity": "major"}]  # fmt: skip
    assert (await client.post("/api/v1/alerts/generic", json=alerts)).status == 202
    await wait_for(client, "/api/v1/reports/daily?date=2026-11-20", _report_ready(1))
    for report_format in ("html", "md"):
        response = await client.get(f"/api/v1/reports/daily?date=2026-11-20&format={report_format}")
        text = await response.text()
        assert "<script>" not in text
        assert "<img" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


async def test_the_scheduler_runs_when_the_hour_comes(
    storage: Storage, storage_settings: Settings, tmp_path: Path
) -> None:
    settings = storage_settings.model_copy(
        update={"report": storage_settings.report.model_copy(update={"folder": tmp_path / "r"})}
    )
    clock = VirtualClock(datetime(2026, 11, 20, 8, 5, tzinfo=UTC))
    stopping = asyncio.Event()
    task = asyncio.create_task(run_daily_reports(storage.store, settings, clock, stopping))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if await storage.store.marker(MARKER) == "2026-11-20":
            break
        await asyncio.sleep(0.01)
    stopping.set()
    await task
    assert (tmp_path / "r" / "daily-2026-11-20.json").exists()


def test_a_relative_report_folder_lies_beside_the_settings_file(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "sereno.yaml"
    config.parent.mkdir()
    config.write_text("report:\n  folder: reports\n  hour: 8\n", encoding="utf-8")
    settings = load_settings(config)
    assert settings.report.folder == tmp_path / "etc" / "reports"
    assert settings.report.hour == 8
    config.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="timezone"):
        load_settings(config)


@pytest.mark.parametrize(
    ("query", "field"),
    [("date=20-11-2026", "date"), ("date=2026-02-30", "date"), ("format=pdf", "format"),
     ("date=2026-11-21", "date")],
)  # fmt: skip
async def test_bad_parameters_are_named(client: Client, query: str, field: str) -> None:
    response = await client.get(f"/api/v1/reports/daily?{query}")
    assert response.status == 400
    body = await response.json()
    assert body["detail"][0]["field"] == field
    assert field in body["error"]


async def test_the_scheduler_produces_each_day_once(
    storage: Storage, storage_settings: Settings, tmp_path: Path
) -> None:
    settings = storage_settings.model_copy(
        update={"report": storage_settings.report.model_copy(update={"folder": tmp_path / "r"})}
    )
    morning = datetime(2026, 11, 20, 8, 5, tzinfo=UTC)  # 09:05 in Madrid
    assert await produce_due(storage.store, settings, morning) == date(2026, 11, 20)
    assert await storage.store.marker(MARKER) == "2026-11-20"
    first = (tmp_path / "r" / "daily-2026-11-20.html").stat().st_mtime_ns
    # Restarted later the same day: nothing again.
    assert await produce_due(storage.store, settings, morning.replace(hour=15)) is None
    assert (tmp_path / "r" / "daily-2026-11-20.html").stat().st_mtime_ns == first
    # The next morning, the next report.
    next_morning = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert await produce_due(storage.store, settings, next_morning) == date(2026, 11, 21)
    assert (tmp_path / "r" / "daily-2026-11-21.md").exists()


def test_the_command_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    code = main(["report", "daily", "--data", str(tmp_path / "data"), "--date", "2026-11-20",
                 "--format", "md", "--out", str(out)])  # fmt: skip
    assert code == 0
    assert out.read_text().startswith("# Daily operations report 2026-11-20")


def test_the_command_refuses_a_bad_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "daily", "--data", str(tmp_path), "--date", "tomorrow"])
    assert exit_info.value.code == 2
    assert "write YYYY-MM-DD" in capsys.readouterr().err
