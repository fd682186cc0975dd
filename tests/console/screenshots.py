"""PNGs of the console's main pages for the README, as headless Chromium lays them out:

    python -m tests.console.screenshots [--out docs/img] [--language en]

A fresh `sereno serve` gets a morning's worth of alerts (a core switch down behind which
thirty web servers stop answering, a slow mail queue, a payroll warning, a recovered disk),
an acknowledgement and a silence; then each page is taken at 1440 px, and the incident
page also at 390 px, as a phone shows it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from tests.acceptance.conftest import http_json
from tests.console.conftest import storm
from tests.console.live import browser, post, serve

MORNING = [
    {"name": "MailQueueHigh", "resource": "mx-1", "severity": "major", "id": "mailq-mx-1",
     "summary": "Outgoing mail queue above 5,000 messages for 10 minutes"},
    {"name": "PayrollBatchSlow", "resource": "pay-1", "severity": "warning", "id": "pay-1",
     "summary": "Nightly payroll batch still running after 4 hours"},
    {"name": "DiskAlmostFull", "resource": "db-1", "severity": "minor", "id": "disk-db-1",
     "summary": "/var/lib/postgresql at 91%"},
]  # fmt: skip


def _wait(url: str, ready: object, within_s: float = 20.0) -> object:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        status, body = http_json("GET", url)
        if status == 200 and callable(ready) and ready(body):
            return body
        time.sleep(0.2)
    raise SystemExit(f"{url} never got ready")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument("--language", choices=["en", "es"], default="en")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sereno-console-") as work:
        server = serve(Path(work), args.language)
        try:
            post(server, storm())
            post(server, MORNING)
            post(server, {**MORNING[2], "status": "resolved"})
            body = _wait(f"{server.url}/api/v1/incidents", lambda b: b["count"] >= 4)
            assert isinstance(body, dict)
            by_title = {i["title"]: i["id"] for i in body["incidents"]}
            storm_id = next(v for k, v in by_title.items() if k.startswith("SwitchDown"))
            mail_id = next(v for k, v in by_title.items() if k.startswith("MailQueue"))
            http_json("POST", f"{server.url}/api/v1/incidents/{mail_id}/ack",
                      {"by": "ana.garcia", "note": "draining the queue"})  # fmt: skip
            http_json("POST", f"{server.url}/api/v1/silences", {
                "match": {"names": ["PayrollBatchSlow"]}, "duration": "4h",
                "created_by": "luis.martin", "comment": "Year-end payroll run, expected to be slow",
            })  # fmt: skip
            _wait(f"{server.url}/api/v1/incidents/{mail_id}",
                  lambda b: b["status"] == "acknowledged")  # fmt: skip
            pages = {
                "console-incidents": "/",
                "console-incident": f"/incidents/{storm_id}",
                "console-silences": "/silences?names=HostDown&resources=web-1*&comment=Rack+B+work",
                "console-tickets": "/tickets",
                "console-crisis": f"/incidents/{storm_id}/crisis",
            }
            with browser() as chromium:
                desk = chromium.new_page(viewport={"width": 1440, "height": 900})
                for name, path in pages.items():
                    desk.goto(server.url + path)
                    desk.screenshot(
                        path=str(args.out / f"{name}.png"), full_page=name != "console-incident"
                    )
                phone = chromium.new_page(
                    viewport={"width": 390, "height": 844}, device_scale_factor=2
                )
                phone.goto(f"{server.url}/incidents/{storm_id}")
                phone.screenshot(path=str(args.out / "console-incident-phone.png"))
        finally:
            server.stop()
    print(f"screenshots in {args.out}")  # noqa: T201 - a script that says where its output went


if __name__ == "__main__":
    main()
