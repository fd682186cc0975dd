"""The report rendered: JSON that reads back to the same report, Markdown and HTML in both
languages with times in Madrid time, and an alert's hostile text kept as text."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from core.models import Priority
from report.compute import compute_daily
from report.model import DailyReport
from report.render import ReportFormat, markdown_text, render
from tests.report.fixtures import END, HOSTILE, WINDOW, sample


@pytest.fixture
def report() -> DailyReport:
    return compute_daily(sample(), WINDOW, END)


def test_json_reads_back_as_the_same_report(report: DailyReport) -> None:
    text = render(report, ReportFormat.JSON)
    assert DailyReport.model_validate_json(text) == report
    assert json.loads(text)["alerts"]["received"] == {"value": 46, "previous": 8,
                                                      "average_7d": 4.0}  # fmt: skip


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", ["Daily operations report", "Open backlog", "Crises of the day"]),
     ("es", ["Informe diario de operaciones", "Pendientes abiertos", "Crisis del día"])],
)  # fmt: skip
def test_both_languages_in_madrid_time(
    report: DailyReport, language: str, words: list[str]
) -> None:
    for report_format in (ReportFormat.HTML, ReportFormat.MARKDOWN):
        text = render(report, report_format, language)  # type: ignore[arg-type]
        for word in words:
            assert word in text
        # 08:00 UTC is 09:00 in Madrid: the meeting's hour, not the server's.
        assert "2026-11-19 09:00" in text
        assert "2026-11-20 09:00" in text


def test_spanish_numbers_use_a_decimal_comma(report: DailyReport) -> None:
    text = render(report, ReportFormat.MARKDOWN, "es")
    assert "15,3" in text  # alerts per incident, 46 / 3


def test_html_escapes_what_came_from_alerts(report: DailyReport) -> None:
    html = render(report, ReportFormat.HTML)
    assert "<script>" not in html
    assert "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&#34;&gt;&lt;img" in html
    assert html.count("<svg") == 3


def test_markdown_keeps_hostile_text_literal(report: DailyReport) -> None:
    markdown = render(report, ReportFormat.MARKDOWN)
    assert "<script>" not in markdown
    assert "<img" not in markdown
    assert markdown_text("a|b *c* <d>") == "a\\|b \\*c\\* &lt;d&gt;"
    # A table row stays one row: no line of the breakdowns is broken by a title.
    assert all(line.count("|") >= 2 for line in markdown.splitlines() if line.startswith("| INC"))
    assert HOSTILE not in markdown


def test_a_long_breach_list_shows_the_most_urgent_first_and_counts_the_rest(
    report: DailyReport,
) -> None:
    [first, *_] = report.sla.breaches
    urgent = first.model_copy(update={"ticket_id": "TKT-99", "priority": Priority.P1})
    many = report.model_copy(
        update={"sla": report.sla.model_copy(update={"breaches": (first, first, urgent)})}
    )
    for report_format in (ReportFormat.HTML, ReportFormat.MARKDOWN):
        text = render(many, report_format, limit=1)
        listed = text[text.index("TKT-") : text.index("+ 2 more")]
        assert "TKT-99" in listed
        assert first.ticket_id not in listed


@pytest.mark.parametrize("report_format", [ReportFormat.HTML, ReportFormat.MARKDOWN])
def test_no_nul_or_control_byte_from_an_alert_reaches_a_page(report_format: ReportFormat) -> None:
    data = sample()
    dirty = tuple(
        i.model_copy(update={"title": "Disk\x00 full\x1b[31m\x7f", "group": "sis\x00temas"})
        for i in data.incidents
    )
    report = compute_daily(replace(data, incidents=dirty), WINDOW, END)
    text = render(report, report_format)
    assert not [c for c in text if ord(c) < 32 and c not in "\t\n\r"]
    assert "\x7f" not in text
    assert "Disk full[31m" in text.replace("\\[", "[")
