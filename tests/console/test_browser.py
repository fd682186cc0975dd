"""The console in a real headless Chromium against a real `sereno serve`: what a person
on call does with it, with the keyboard too, on a phone and on the meeting room's screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Error, Page, expect

from tests.acceptance.conftest import SerenoProcess, eventually, http_json
from tests.console.conftest import STORM_HOSTS, hostile, sign_in, storm
from tests.console.live import browser, post, serve

pytestmark = pytest.mark.e2e
WAIT_MS = 15_000
PAGES = ("/", "/mine", "/silences", "/tickets", "/runbooks")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SerenoProcess]:
    started = serve(tmp_path_factory.mktemp("console"))
    try:
        post(started, storm())
        post(started, hostile())
        eventually(
            lambda: started.get("/api/v1/incidents"),
            lambda b: sum(i["alert_count"] for i in b["incidents"]) == STORM_HOSTS + 2,
        )
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with browser() as launched:
        yield launched


class Watched:
    """A page that remembers console errors, uncaught exceptions and dialogs."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", self._error)
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _error(self, error: Error) -> None:
        self.problems.append(f"page error: {error}")

    def _dialog(self, dialog: Dialog) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def watched(chromium: Browser) -> Iterator[Watched]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = Watched(context.new_page())
    yield page
    context.close()
    assert page.problems == []


def _incident_id(server: SerenoProcess, title_start: str) -> str:
    body = server.get("/api/v1/incidents")
    return str(next(i["id"] for i in body["incidents"] if i["title"].startswith(title_start)))


def test_a_storm_is_one_incident_and_acknowledging_names_the_actor(
    server: SerenoProcess, watched: Watched
) -> None:
    page = watched.page
    me = sign_in(page, server.url)
    row = page.locator("tbody tr", has_text="SwitchDown on sw-mad-core-1")
    expect(row).to_have_count(1)
    expect(row.locator("td.num")).to_have_text(str(STORM_HOSTS + 1))
    row.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SwitchDown on sw-mad-core-1")
    page.get_by_label("Note (optional)", exact=True).fill("on it, checking the switch")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("status")).to_contain_text("Acknowledged.")
    # The command goes through the pipeline; the page shows the outcome without a reload.
    timeline = page.locator(".timeline")
    expect(timeline).to_contain_text(f"acknowledged by {me}", timeout=WAIT_MS)
    expect(timeline).to_contain_text("on it, checking the switch")
    expect(page.locator("[data-holder]")).to_have_text(me)


def test_assigning_to_me_shows_me_as_holder_and_on_the_timeline(
    server: SerenoProcess, watched: Watched
) -> None:
    page = watched.page
    me = sign_in(page, server.url)
    page.goto(f"{server.url}/incidents/{_incident_id(server, 'DiskFull')}")
    page.get_by_role("button", name="Assign to me").click(timeout=2000)
    expect(page.locator("[data-holder]")).to_have_text(me, timeout=WAIT_MS)
    expect(page.locator(".timeline")).to_contain_text(f"held by {me} ")


def test_a_silence_is_made_from_its_preview(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    me = sign_in(page, server.url)
    page.goto(f"{server.url}/incidents/{_incident_id(server, 'SwitchDown')}")
    page.get_by_role("link", name="Silence these alerts…").click()
    count = page.locator("[data-preview-count]")
    expect(count).to_have_text(str(STORM_HOSTS + 1))  # every alert of the incident
    page.get_by_label("Alert names").fill("HostDown")
    page.get_by_label("Resources").fill("web-1, web-2")
    expect(count).to_have_text("2")  # the preview follows the typing
    page.get_by_label("Why").fill("Rack B power work")
    page.get_by_role("button", name="Create silence").click()
    row = page.locator("table.silences tbody tr", has_text="Rack B power work")
    expect(row).to_have_count(1, timeout=WAIT_MS)
    expect(row).to_contain_text(me)
    expect(row).to_contain_text("resources=web-1,web-2")
    silences = http_json("GET", f"{server.url}/api/v1/silences")[1]["silences"]
    made = next(s for s in silences if s["comment"] == "Rack B power work")
    given = {k: v for k, v in made["match"].items() if v}
    assert given == {"names": ["HostDown"], "resources": ["web-1", "web-2"]}
    assert made["created_by"] == me
    row.get_by_role("button", name=f"Expire {made['id']}").click()
    expired = page.locator("table.silences tbody tr.expired", has_text="Rack B power work")
    expect(expired).to_have_count(1, timeout=WAIT_MS)


def test_a_hostile_summary_stays_text(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server.url)
    expect(
        page.get_by_role("link", name="DiskFull<script>alert(1)</script> on db-1")
    ).to_be_visible()
    page.goto(f"{server.url}/incidents/{_incident_id(server, 'DiskFull')}")
    members = page.locator("ul.members")
    expect(members).to_contain_text("<img src=x onerror=\"document.title='pwned'\">")
    expect(members).to_contain_text("<script>alert(2)</script>")
    assert page.locator("main img, main script").count() == 0
    assert "pwned" not in page.title()


def test_no_page_logs_an_error(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server.url)
    incident_id = _incident_id(server, "SwitchDown")
    for path in (*PAGES, f"/incidents/{incident_id}", f"/incidents/{incident_id}/crisis"):
        page.goto(server.url + path)
        expect(page.locator("main h1")).to_be_visible()
    # One round of live updates runs too.
    with page.expect_response(lambda r: "/_live/" in r.url, timeout=WAIT_MS) as refreshed:
        pass
    assert refreshed.value.ok


def test_the_keyboard_reaches_everything_in_order(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server.url)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.type("sw-mad")
    page.keyboard.press("Enter")  # submits the filters
    expect(page.locator("tbody tr")).to_have_count(1)
    link = page.get_by_role("link", name="SwitchDown on sw-mad-core-1", exact=False)
    for _ in range(20):
        page.keyboard.press("Tab")
        if link.evaluate("e => e === document.activeElement"):
            break
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("SwitchDown")


@pytest.mark.parametrize("width", [390, 1920])
def test_pages_fit_the_screen(server: SerenoProcess, chromium: Browser, width: int) -> None:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    incident_id = _incident_id(server, "SwitchDown")
    for path in (*PAGES, f"/incidents/{incident_id}", f"/incidents/{incident_id}/crisis"):
        page.goto(server.url + path)
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {width}px"
    context.close()


def test_english_and_spanish(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server.url)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("link", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Incidencias")
    page.get_by_role("link", name="Silencios").click()  # the choice holds on every page
    expect(page.get_by_role("heading", level=1)).to_have_text("Silencios")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Silences")


def test_the_list_updates_in_place(server: SerenoProcess, watched: Watched) -> None:
    page = watched.page
    sign_in(page, server.url)
    page.evaluate("() => { window.loadedOnce = true; }")
    new = page.locator("tbody tr", has_text="CertificateExpiring on intra-1")
    expect(new).to_have_count(0)
    alert = {"name": "CertificateExpiring", "resource": "intra-1", "severity": "warning",
             "id": "cert-intra-1", "summary": "TLS certificate expires in 5 days"}  # fmt: skip
    post(server, alert)
    expect(new).to_have_count(1, timeout=WAIT_MS)
    assert page.evaluate("() => window.loadedOnce") is True  # the same page, not a reload


def test_the_page_stays_put_without_javascript(server: SerenoProcess, chromium: Browser) -> None:
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server.url + "/")
    expect(page.locator("tbody tr", has_text="SwitchDown")).to_have_count(1)
    page.goto(f"{server.url}/silences?names=HostDown&preview=1")
    expect(page.locator("[data-preview-count]")).to_have_text(str(STORM_HOSTS))
    context.close()
