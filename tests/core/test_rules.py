"""Rules: the example set loads; every mistake is explained with file, line and fix."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from core.models import Severity
from core.rules import RulesError, load_rules
from tests.conftest import EXAMPLE_RULES


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_rules_load() -> None:
    rules = load_rules(EXAMPLE_RULES)
    assert rules.correlation.reopen_window == timedelta(minutes=30)
    assert rules.severity_of("alertmanager", "page") is Severity.CRITICAL
    assert rules.services["email"].users == 55_000
    assert [r.name for r in rules.crisis] == ["mass-outage", "site-down", "long-p1"]


def test_unknown_words_fall_back_to_the_sources_default(tmp_path: Path) -> None:
    _write(tmp_path, "s.yaml", "severity:\n  zabbix:\n    default: minor\n")
    rules = load_rules(tmp_path)
    assert rules.severity_of("zabbix", "whatever") is Severity.MINOR
    assert rules.severity_of("zabbix", "Disaster") is Severity.CRITICAL
    assert rules.severity_of("other", None) is Severity.WARNING


def test_a_bad_duration_names_file_line_and_fix(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "# comment\ncorrelation:\n  reopen_window: five minutes\n")
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    [problem] = caught.value.problems
    assert problem.file == str(path)
    assert problem.line == 3
    assert problem.where == "correlation.reopen_window"
    assert "write for example 90s, 5m" in problem.problem


def test_a_misspelt_key_is_pointed_at(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "correlation:\n  hold_down: 5m\n  hold_dwn: 5m\n")
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.where) == (str(path), 3, "correlation.hold_dwn")
    assert "check its spelling (did you mean 'hold_down'?)" in problem.problem
    assert "the keys here are: reopen_window, hold_down, symptom_hold" in problem.problem


def test_an_unknown_severity_lists_the_choices(tmp_path: Path) -> None:
    path = _write(tmp_path, "s.yaml", "severity:\n  generic:\n    map:\n      sev1: urgent\n")
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line) == (str(path), 4)
    assert "'critical', 'major', 'minor', 'warning' or 'info'" in problem.problem


def test_broken_yaml_and_duplicate_sections(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "correlation:\n  window: 5m\n")
    _write(tmp_path, "b.yaml", "correlation:\n  window: 1m\n")
    _write(tmp_path, "c.yaml", "priority: [unclosed\n")
    with pytest.raises(RulesError) as caught:
        load_rules(tmp_path)
    text = str(caught.value)
    assert "b.yaml:1: correlation: section already in" in text
    assert "c.yaml:2: yaml:" in text


def test_a_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="folder not found"):
        load_rules(tmp_path / "nope")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("WEB-1.example.org:9100", "web-1"),
        ("web-1", "web-1"),
        ("db-1.corp.example", "db-1"),
        ("[2001:db8::1]:9100", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("10.0.0.7:9100", "10.0.0.7"),
        (".example.org", ".example.org"),
        ("old-name", "new-name"),
    ],
)
def test_resource_names_meet_across_sources(tmp_path: Path, raw: str, expected: str) -> None:
    _write(
        tmp_path,
        "r.yaml",
        "resources:\n  strip_domains: [.example.org, .corp.example]\n"
        "  aliases: {old-name: new-name}\n",
    )
    assert load_rules(tmp_path).resources.normalize(raw) == expected
