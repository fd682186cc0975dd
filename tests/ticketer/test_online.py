"""`sereno rules check --online`: each configured ticket system is tried, and each queue,
category or group the rules map to, against the real RT, the local GLPI and Jira."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.config import TicketBackends
from core.rules.ticket_systems import RtMapping, TicketSystems
from sereno.cli import EXIT_USAGE, main
from tests.ticketer.glpi_fake import FakeGlpi
from tests.ticketer.jira_fake import FakeJira
from tests.ticketer.mapping import SYSTEMS
from tests.ticketer.rt_server import RtServer
from tests.ticketer.test_glpi import glpi_settings
from tests.ticketer.test_jira import settings as jira_settings
from ticketer.backends.online import try_backends


async def test_every_system_and_every_mapped_place_is_tried(rt_server: RtServer) -> None:
    glpi, jira = FakeGlpi(), FakeJira()
    await glpi.start()
    await jira.start()
    try:
        configured = TicketBackends(rt=rt_server.settings(), glpi=glpi_settings(glpi),
                                    jira=jira_settings(jira))  # fmt: skip
        good = await try_backends(configured, SYSTEMS)
        assert [f for f in good if f.problem] == []
        assert {f.backend for f in good} == {"rt", "glpi", "jira"}
        wrong = SYSTEMS.model_copy(update={"rt": RtMapping(queues={"redes": "Redes"})})
        found = await try_backends(configured, wrong)
        assert [f.what for f in found if f.problem] == ["queue 'Redes'"]
        unreachable = TicketBackends(rt=rt_server.settings(url="http://127.0.0.1:9"))
        down = await try_backends(unreachable, TicketSystems())
        assert len(down) == 1  # the connection failed: nothing else is tried
        assert down[0].problem
    finally:
        await glpi.close()
        await jira.close()


def test_the_command_says_what_failed(
    tmp_path: Path, rt_server: RtServer, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    config = tmp_path / "sereno.yaml"
    rules = Path(__file__).parents[2] / "rules"
    config.write_text(yaml.safe_dump({
        "rules_dir": str(rules), "runbooks_dir": str(rules.parent / "runbooks"),
        "ticket_backends": {"rt": {"url": rt_server.url, "token": {"env": "RT_TEST_TOKEN"}}},
    }))  # fmt: skip
    monkeypatch.setenv("RT_TEST_TOKEN", rt_server.token())
    # The shipped rules map queues this test RT does not have (Systems, Applications...).
    assert main(["rules", "check", "--config", str(config), "--online"]) == EXIT_USAGE
    said = capsys.readouterr().out
    assert "rt: queue 'Network': ok" in said
    assert "rt: queue 'Systems': FAILED: GET /queue/Systems: HTTP 404" in said
