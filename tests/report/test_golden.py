"""Each template's output for the hand-made day, compared with a file a person has read
(tests/report/golden/). After a deliberate change to a template, rewrite them with
`SERENO_WRITE_GOLDEN=1 pytest tests/report/test_golden.py` and read the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from report.compute import compute_daily
from report.render import Language, ReportFormat, render
from tests.report.fixtures import END, WINDOW, sample

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(
    ("language", "report_format"),
    [("en", ReportFormat.MARKDOWN), ("es", ReportFormat.MARKDOWN), ("en", ReportFormat.HTML),
     ("es", ReportFormat.HTML)],
)  # fmt: skip
def test_template_output_is_the_golden_file(
    language: Language, report_format: ReportFormat
) -> None:
    text = render(compute_daily(sample(), WINDOW, END), report_format, language)
    path = GOLDEN / f"daily.{language}.{report_format.value}"
    if os.environ.get("SERENO_WRITE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")
