"""Runbooks: the examples load and apply to the right incidents; every mistake is named with
file, line and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.models import Alert, AlertStatus, Severity
from core.rules import Rules, RulesError
from core.runbooks import load_runbooks
from tests.conftest import REPO, T0


def _alert(name: str, resource: str = "", source: str = "generic") -> Alert:
    return Alert(
        source=source, source_id="x", fingerprint="f", status=AlertStatus.FIRING, name=name,
        resource=resource, severity=Severity.MAJOR, starts_at=T0, received_at=T0,
    )  # fmt: skip


def test_the_examples_apply_to_the_example_incidents(rules: Rules) -> None:
    runbooks = load_runbooks(REPO / "runbooks", rules)
    host = runbooks.for_alert(_alert("HostDown", "srv-mad-3"), "office-lan-madrid")
    assert host is not None
    assert host.name == "host-down"
    assert host.first_steps[0] == "Check whether the host answers ping from the monitoring server."
    assert len(host.first_steps) == 4
    mail = runbooks.for_alert(_alert("QueueTooLong", "mail-1"), "email")
    assert mail is not None
    assert mail.name == "email"
    silent = runbooks.for_alert(_alert("zabbix-heartbeat silent", source="sereno"), "")
    assert silent is not None
    assert silent.name == "monitor-silent"
    assert runbooks.for_alert(_alert("Something"), "") is None


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "where", "hint"),
    [
        ("# no front matter\n1. step\n", 1, "front matter", "start the file with front matter"),
        ("---\ntitle: T\nowner: o\napplies_to: {services: [emial]}\n---\n", 4,
         "applies_to.services", "write one of: "),
        ("---\ntitle: T\nowner: o\napplies_to: {}\n---\n", 4, "applies_to", "matches every"),
        ("---\ntitle: T\napplies_to: {names: X}\n---\n", 1, "owner", "Field required"),
        ("---\ntitle: T\nowner: o\napplies_to: {namez: X}\n---\n", 4, "applies_to.namez",
         "Extra inputs"),
        ("---\ntitle: [unclosed\nowner: o\n---\n", 3, "front matter", ""),
    ],
)  # fmt: skip
def test_a_bad_runbook_is_named_with_file_and_line(
    tmp_path: Path, rules: Rules, text: str, line: int, where: str, hint: str
) -> None:
    path = _write(tmp_path, "bad.md", text)
    with pytest.raises(RulesError) as caught:
        load_runbooks(tmp_path, rules)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.where) == (str(path), line, where)
    assert hint in problem.problem


def test_a_file_name_must_be_an_address(tmp_path: Path, rules: Rules) -> None:
    _write(tmp_path, "Host Down.md", "---\ntitle: T\nowner: o\napplies_to: {names: X}\n---\n")
    with pytest.raises(RulesError) as caught:
        load_runbooks(tmp_path, rules)
    assert "lower-case letters" in caught.value.problems[0].problem
