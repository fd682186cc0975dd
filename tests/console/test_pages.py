"""The console's pages through the whole app over loopback: what they show, what they
refuse, and that nothing from an alert becomes markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.config import Settings
from sereno.app import create_app
from sereno.console import data
from sereno.console.page import supported_commands
from sereno.console.who import ConsolePrincipal
from sereno.keys import PIPELINE
from tests.conftest import REPO
from tests.console.conftest import (
    STORM_HOSTS,
    Client,
    ClientFactory,
    as_principal,
    hostile,
    post_storm,
)
from tests.sereno.test_app import wait_for


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data", rules_dir=REPO / "rules", runbooks_dir=REPO / "runbooks"
    )


def _incident_links(page: str) -> list[str]:
    return re.findall(r'<a href="/incidents/(INC-\d+)">', page)


async def test_a_storm_is_one_row_with_its_count(console: Client) -> None:
    incident_id = await post_storm(console)
    response = await console.get("/")
    page = await response.text()
    assert response.status == 200
    assert response.content_type == "text/html"
    assert _incident_links(page) == [incident_id]
    assert f'<td data-label="Alerts" class="num">{STORM_HOSTS + 1}</td>' in page
    live = await (await console.get("/_live/incidents")).text()
    assert _incident_links(live) == [incident_id]
    assert "<html" not in live


async def test_the_incident_page_shows_header_timeline_members_and_runbook(
    console: Client,
) -> None:
    incident_id = await post_storm(console)
    response = await console.get(f"/incidents/{incident_id}")
    page = await response.text()
    assert response.status == 200
    assert "SwitchDown on sw-mad-core-1" in page
    assert "Why this priority" in page
    assert "55,000" in page  # users affected
    assert page.count('class="member-group"') == STORM_HOSTS + 1  # one per resource and name
    assert "joined as a symptom" in page  # the timeline says why each one joined
    assert 'href="/runbooks/switch-down"' in page
    assert 'data-api="/api/v1/incidents/' + incident_id + '/ack"' in page
    assert "names=HostDown" in page  # silence from here, filled in


async def test_filters_narrow_the_list_and_bad_ones_are_named(console: Client) -> None:
    incident_id = await post_storm(console)
    assert _incident_links(await (await console.get("/?q=sw-mad")).text()) == [incident_id]
    assert _incident_links(await (await console.get("/?group=redes&priority=P1")).text()) == [
        incident_id
    ]
    assert _incident_links(await (await console.get("/?group=nobody-here")).text()) == []
    assert _incident_links(await (await console.get("/?source=zabbix")).text()) == []
    assert _incident_links(await (await console.get("/?status=resolved")).text()) == []
    bad = await console.get("/?priority=P9")
    assert bad.status == 400
    assert (await bad.json())["detail"][0]["field"] == "priority"


async def test_an_unknown_incident_is_a_page_saying_so(console: Client) -> None:
    response = await console.get("/incidents/INC-404")
    assert response.status == 404
    assert "INC-404" in await response.text()


async def test_alert_text_stays_text(console: Client) -> None:
    assert (await console.post("/api/v1/alerts/generic", json=hostile())).status == 202
    body = await wait_for(console, "/api/v1/incidents", lambda b: b["count"] == 1)
    incident_id = body["incidents"][0]["id"]
    for path in ("/", f"/incidents/{incident_id}", "/silences?resources=db-1"):
        page = await (await console.get(path)).text()
        assert "<script>alert" not in page, path
        assert "<img src=x" not in page, path
        assert "&lt;script&gt;alert(" in page, path


async def test_pages_carry_a_policy_without_inline_scripts(console: Client) -> None:
    for path in ("/", "/mine", "/silences", "/tickets", "/runbooks", "/_live/incidents"):
        response = await console.get(path)
        assert response.status == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        page = await response.text()
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
        assert not re.search(r"\son[a-z]+=", page), path
        assert not re.search(r"<style|\sstyle=", page), path
    script = await console.get("/static/console/console.js")
    assert script.status == 200
    assert script.headers["X-Content-Type-Options"] == "nosniff"


async def test_language_follows_the_setting_and_the_readers_choice(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    spanish = await aiohttp_client(create_app(settings.model_copy(update={"language": "es"})))
    page = await (await spanish.get("/")).text()
    assert '<html lang="es">' in page
    assert "Incidencias" in page
    switched = await spanish.get("/language/en?next=/tickets", allow_redirects=False)
    assert switched.status == 303
    assert switched.headers["Location"] == "/tickets"
    assert '<html lang="en">' in await (await spanish.get("/tickets")).text()
    elsewhere = await spanish.get("/language/es?next=//evil.example/", allow_redirects=False)
    assert elsewhere.headers["Location"] == "/"
    assert (await spanish.get("/language/fr")).status == 404


async def test_mine_lists_what_i_hold_and_what_nobody_holds(console: Client) -> None:
    incident_id = await post_storm(console)
    before = await (await console.get("/_live/mine")).text()
    mine, _, unheld = before.partition('id="held-none"')
    assert _incident_links(mine) == []
    assert _incident_links(unheld) == [incident_id]
    acked = await console.post(f"/api/v1/incidents/{incident_id}/ack", json={})
    assert acked.status == 202
    await wait_for(
        console, f"/api/v1/incidents/{incident_id}", lambda b: b["status"] == "acknowledged"
    )
    after = await (await console.get("/mine")).text()
    mine, _, unheld = after.partition('id="held-none"')
    assert _incident_links(mine) == [incident_id]
    assert _incident_links(unheld) == []


async def test_silence_preview_shows_what_it_would_hold_back(console: Client) -> None:
    await post_storm(console)
    hosts = await (await console.get("/_live/silence-preview?names=HostDown")).text()
    assert f"<strong data-preview-count>{STORM_HOSTS}</strong>" in hosts
    some = await (await console.get("/silences?resources=web-1,web-2&preview=1")).text()
    assert "<strong data-preview-count>2</strong>" in some
    nothing = await (await console.get("/_live/silence-preview")).text()
    assert "data-preview-count" not in nothing
    bad = await (await console.get("/_live/silence-preview?severities=dreadful")).text()
    assert 'class="error"' in bad
    assert "severities" in bad


async def test_crisis_view_speaks_plainly(console: Client) -> None:
    incident_id = await post_storm(console)
    await wait_for(console, f"/api/v1/incidents/{incident_id}", lambda b: b["crisis"])
    page = await (await console.get(f"/incidents/{incident_id}/crisis")).text()
    assert "About 55,000 people are affected." in page
    assert "the Office network, Madrid data centre service" in page
    assert "The redes team is working on it." in page
    assert "Next update due" in page


async def test_runbooks_are_listed(console: Client) -> None:
    page = await (await console.get("/runbooks")).text()
    assert 'href="/runbooks/switch-down"' in page
    assert 'href="/runbooks/email"' in page


async def test_the_console_offers_only_the_commands_the_api_has(console: Client) -> None:
    assert {"acknowledge", "resolve"} <= supported_commands(console.app)


async def test_members_and_timeline_come_a_page_at_a_time(console: Client) -> None:
    incident_id = await post_storm(console)
    store = console.app[PIPELINE].storage.store
    seen: list[str] = []
    cursor, pages = "", 0
    while True:
        items, cursor = await data.members_page(store, incident_id, cursor, 10)
        page = [m.resource for m in items]
        assert page == sorted(page)  # grouped by resource, then name, within its page
        seen += page
        pages += 1
        if not cursor:
            break
    assert pages == 4
    assert len(seen) == len(set(seen)) == STORM_HOSTS + 1
    first, after = await data.timeline_page(store, incident_id, "", 5)
    assert len(first) == 5
    assert after.isdigit()
    rest, _ = await data.timeline_page(store, incident_id, after, 100)
    assert rest[0] not in first
    paged = await (await console.get(f"/incidents/{incident_id}?members=30")).text()
    assert paged.count('class="member-group"') == 1


async def test_a_viewer_reads_and_sees_their_groups_work(
    aiohttp_client: ClientFactory, settings: Settings
) -> None:
    viewer = ConsolePrincipal(name="eva.ruiz", role="viewer", groups=("redes",), kind="user")
    client = await aiohttp_client(as_principal(create_app(settings), viewer))
    incident_id = await post_storm(client)
    page = await (await client.get(f"/incidents/{incident_id}")).text()
    assert "Signed in as <strong>eva.ruiz</strong>" in page
    assert "data-api=" not in page
    assert "acting on it needs the operator role" in page
    mine = await (await client.get("/mine")).text()
    groups = mine.partition('id="held-group"')[2].partition('id="held-none"')[0]
    assert _incident_links(groups) == [incident_id]
    assert "(redes)" in groups
