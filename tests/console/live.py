"""A real `sereno serve` with the example rules and runbooks, a real headless Chromium,
and the alerts that make the console worth looking at. Shared by the browser tests and
`make console-screenshots`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.acceptance.conftest import SerenoProcess, http_json
from tests.conftest import EXAMPLE_RULES, REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-extensions", "--disable-sync", "--no-first-run", "--mute-audio",
]  # fmt: skip


def chromium_or_skip() -> str:
    """Chromium's path; without it the browser tests skip, except under CI=1 where a
    missing browser is a failure."""
    if shutil.which(CHROMIUM) is None:
        message = f"headless Chromium not found at {CHROMIUM} (Debian package chromium)"
        if os.environ.get("CI") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


@contextmanager
def browser() -> Iterator[Browser]:
    """A headless Chromium from the system; Playwright never downloads one."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_or_skip(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


def serve(work: Path, language: str = "en") -> SerenoProcess:
    """`sereno serve` on a free loopback port with the example rules and runbooks."""
    config = work / "sereno.yaml"
    config.write_text(
        f"rules_dir: {EXAMPLE_RULES}\nrunbooks_dir: {REPO / 'runbooks'}\n"
        f"language: {language}\ntimezone: Europe/Madrid\n",
        encoding="utf-8",
    )
    return SerenoProcess(config, work / "data", work / "sereno.log").start()


def post(server: SerenoProcess, alerts: object) -> None:
    status, body = http_json("POST", f"{server.url}/api/v1/alerts/generic", alerts)
    assert status == 202, (status, body)
