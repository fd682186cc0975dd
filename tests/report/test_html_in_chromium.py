"""The HTML report in a real headless Chromium (Debian package chromium, driven by
Playwright): it lays out without a console error, shows its three charts, and an alert's
hostile text is shown as text, never run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, sync_playwright

from report.compute import compute_daily
from report.render import ReportFormat, render
from tests.report.fixtures import END, HOSTILE, WINDOW, sample

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} missing: install Debian package chromium")
        pytest.skip(f"{CHROMIUM} not installed (Debian package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_report_lays_out_and_keeps_hostile_text_as_text(
    browser: Browser, tmp_path: Path, language: str
) -> None:
    page_file = tmp_path / "report.html"
    html = render(compute_daily(sample(), WINDOW, END), ReportFormat.HTML, language)  # type: ignore[arg-type]
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 800, "height": 1000})
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(message.text)

    def on_dialog(dialog: Dialog) -> None:
        problems.append("dialog: " + dialog.message)
        dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("dialog", on_dialog)
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    assert problems == []
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("img").count() == 0
    # Three charts, each drawn with bars or labels and laid out with a real size.
    charts = page.locator("svg[data-chart]")
    assert charts.count() == 3
    for index in range(3):
        box = charts.nth(index).bounding_box()
        assert box is not None
        assert box["width"] > 300
        assert box["height"] > 50
    assert page.locator("svg[data-chart] rect").count() > 0
    # The hostile title is there to read, as the very characters it was.
    body = page.inner_text("body")
    assert HOSTILE in body
    # Nothing sticks out sideways: readable at a glance in a narrow window or a mail client.
    assert page.evaluate("document.documentElement.scrollWidth") <= 800
    page.close()
