"""Look at the daily report: a sample day through `sereno replay --report`, and a PNG of the
HTML page as headless Chromium lays it out.

    python bench/report_screenshot.py                 # report.png and report.html here
    python bench/report_screenshot.py --language es --out /tmp/informe.png

The day is bench/replay.py's (fixed seed), reported at 01:00 Madrid time so the report
covers exactly that UTC day. Needs Chromium at /usr/bin/chromium (Debian package chromium).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SERENO = Path(sys.executable).with_name("sereno")
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("report.png"))
    parser.add_argument("--alerts", type=int, default=2000, help="alerts in the sample day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--language", choices=["en", "es"], default="en")
    args = parser.parse_args()
    page_file = args.out.with_suffix(".html").resolve()
    with tempfile.TemporaryDirectory(prefix="sereno-report-") as work:
        day, config = Path(work) / "day.jsonl", Path(work) / "sereno.yaml"
        subprocess.run(
            [sys.executable, str(HERE / "replay.py"), "--alerts", str(args.alerts),
             "--seed", str(args.seed), "--generate-only", str(day)],
            check=True, capture_output=True,
        )  # fmt: skip
        config.write_text(
            f"rules_dir: {REPO / 'rules'}\nrunbooks_dir: {REPO / 'runbooks'}\n"
            f"timezone: Europe/Madrid\nlanguage: {args.language}\nreport:\n  hour: 1\n",
            encoding="utf-8",
        )
        subprocess.run(
            [str(SERENO), "replay", str(day), "--config", str(config), "--report",
             str(page_file), "--report-date", "2026-11-21"],
            check=True, capture_output=True,
        )  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        page = browser.new_page(viewport={"width": 800, "height": 1000})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    print(f"{args.out} (the page: {page_file})")


if __name__ == "__main__":
    main()
