"""Every kind of mistake in the rules is explained with its file, its line and the fix, and
every mistake is reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.rules import RuleProblem, RulesError, load_rules, read_rules


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(folder: Path) -> list[RuleProblem]:
    with pytest.raises(RulesError) as caught:
        load_rules(folder)
    return caught.value.problems


def _only_problem(folder: Path) -> RuleProblem:
    [problem] = _problems(folder)
    return problem


SERVICES = """\
services:
  email:
    name: Email
    depends_on: [directory, dsn]
  directory:
    name: Directory
  dns:
    name: DNS
"""


def test_an_unknown_service_in_depends_on_names_the_services_there_are(tmp_path: Path) -> None:
    path = _write(tmp_path, "services.yaml", SERVICES)
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line) == (str(path), 4)
    assert problem.where == "services.email.depends_on[1]"
    assert problem.problem == (
        "unknown service 'dsn' (did you mean 'dns'?); write one of: directory, dns, email"
    )


def test_a_topology_loop_is_pointed_at(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "topology.yaml",
        "topology:\n  depends_on:\n    web-*: [sw-1]\n    sw-1: [rt-1]\n    rt-*: [sw-1]\n",
    )
    problems = _problems(tmp_path)
    # Both links of the loop are places to fix it; each is named once.
    assert [(p.file, p.line, p.where) for p in problems] == [
        (str(path), 4, "topology.depends_on.sw-1[0]"),
        (str(path), 5, "topology.depends_on.rt-*[0]"),
    ]
    assert "which depends back on it" in problems[0].problem
    assert "remove one of the links of the loop" in problems[0].problem


def test_a_resource_that_would_depend_on_itself(tmp_path: Path) -> None:
    _write(tmp_path, "topology.yaml", "topology:\n  depends_on:\n    sw-*: [sw-core]\n")
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (3, "topology.depends_on.sw-*[0]")
    assert "sw-core would depend on itself; narrow the pattern" in problem.problem


def test_services_that_need_each_other_are_one_loop_reported_once(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "services.yaml",
        "services:\n  a:\n    name: A\n    depends_on: [b]\n  b:\n    name: B\n"
        "    depends_on: [a]\n",
    )
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (4, "services.a.depends_on")
    assert problem.problem.startswith("services depend on each other in a loop: a → b → a")
    assert "remove one of these depends_on entries" in problem.problem


def test_a_correlation_rule_name_used_twice(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "correlation.yaml",
        "correlation:\n  rules:\n    - name: by-site\n      group_by: [site]\n"
        "    - name: by-site\n      group_by: [resource]\n",
    )
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line) == (str(path), 5)
    assert problem.where == "correlation.rules[1].name"
    assert problem.problem == (
        "rule name 'by-site' is already used by rules[0]; give each rule its own name"
    )


def test_a_yaml_syntax_error_names_its_line_and_what_to_check(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "# policy\ncorrelation:\n  rules: [unclosed\n")
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line, problem.where) == (str(path), 4, "yaml")
    assert "while parsing a flow sequence at line 3" in problem.problem
    assert "close the [ … ] list" in problem.problem


def test_a_tab_in_the_indentation(tmp_path: Path) -> None:
    _write(tmp_path, "s.yaml", "services:\n\temail: {name: Email}\n")
    problem = _only_problem(tmp_path)
    assert problem.line == 2
    assert "indent with spaces: YAML does not allow tabs" in problem.problem


def test_a_section_in_two_files_names_both(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yaml", "crisis: []\n")
    second = _write(tmp_path, "b.yaml", "# more\ncrisis: []\n")
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line, problem.where) == (str(second), 2, "crisis")
    assert problem.problem == f"section already in {first} (line 1); keep it in one file"


def test_a_key_written_twice_in_one_mapping(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "services.yaml",
        "services:\n  email:\n    name: Email\n  email:\n    name: Mail\n    users: many\n",
    )
    twice, invalid = _problems(tmp_path)
    assert (twice.line, twice.where) == (4, "services.email")
    assert "written twice in this mapping (first at line 2)" in twice.problem
    assert "merge the two or rename one" in twice.problem
    # YAML keeps the second: its mistakes are pointed at there, not in the first.
    assert (invalid.line, invalid.where) == (6, "services.email.users")


def test_a_maintenance_window_ending_before_it_starts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "maintenance.yaml",
        "maintenance:\n  windows:\n    - name: upgrade\n      match: {resources: db-1}\n"
        "      starts_at: 2026-11-20T22:00:00+01:00\n"
        "      ends_at: 2026-11-20T20:00:00+01:00\n",
    )
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line) == (str(path), 6)
    assert problem.where == "maintenance.windows[0].ends_at"
    assert problem.problem == (
        "ends_at (2026-11-20T19:00:00+00:00) must come after starts_at (2026-11-20T21:00:00+00:00)"
    )


def test_a_maintenance_window_that_never_says_when(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "maintenance.yaml",
        "maintenance:\n  windows:\n    - name: upgrade\n      match: {resources: db-1}\n",
    )
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (3, "maintenance.windows[0]")
    assert problem.problem.startswith('say when: add weekly: {days: [sun], start: "01:00"')


def test_an_unquoted_time_of_day_is_refused_not_misread(tmp_path: Path) -> None:
    # YAML 1.1 reads 22:00 as 1320 (sexagesimal); accepted, the window would run at 00:22.
    _write(
        tmp_path,
        "maintenance.yaml",
        "maintenance:\n  windows:\n    - name: patch\n      match: {}\n"
        '      weekly: {days: [thu], start: 22:00, end: "02:00"}\n',
    )
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (5, "maintenance.windows[0].weekly.start")
    assert problem.problem == (
        'YAML read this time as the number 1320; write it in quotes, e.g. "22:00"'
    )


def test_an_unknown_time_zone_suggests_the_closest(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.yaml", "maintenance:\n  timezone: Europe/Madird\n")
    problem = _only_problem(tmp_path)
    assert (problem.file, problem.line, problem.where) == (str(path), 2, "maintenance.timezone")
    assert problem.problem.startswith(
        "unknown time zone 'Europe/Madird' (did you mean 'Europe/Madrid'?); write a zone name"
    )


def test_a_missing_field_says_what_to_add(tmp_path: Path) -> None:
    _write(tmp_path, "c.yaml", "correlation:\n  rules:\n    - name: by-site\n")
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (3, "correlation.rules[0].group_by")
    assert problem.problem.startswith("'group_by' is required here; add group_by: …")
    assert "sender_group, service, resource, site" in problem.problem


def test_a_single_value_where_a_list_is_needed(tmp_path: Path) -> None:
    _write(tmp_path, "t.yaml", "topology:\n  depends_on:\n    web-*: sw-1\n")
    problem = _only_problem(tmp_path)
    assert problem.line == 3
    assert "(got 'sw-1'); write a list, e.g. [a, b]" in problem.problem


def test_an_unknown_section_suggests_the_closest(tmp_path: Path) -> None:
    _write(tmp_path, "s.yaml", "# severities\nsevrity: {}\n")
    problem = _only_problem(tmp_path)
    assert (problem.line, problem.where) == (2, "sevrity")
    assert "unknown key 'sevrity'; check its spelling (did you mean 'severity'?)" in (
        problem.problem
    )


def test_every_mistake_of_every_file_is_reported_at_once(tmp_path: Path) -> None:
    broken = _write(tmp_path, "a-broken.yaml", "routing: [\n")
    services = _write(tmp_path, "services.yaml", SERVICES.replace("name: DNS", "users: many"))
    crisis = _write(tmp_path, "crisis.yaml", "crisis:\n  - name: big\n    users_at_lest: 5\n")
    problems = _problems(tmp_path)
    assert [(p.file, p.line, p.where) for p in problems] == [
        (str(broken), 2, "yaml"),
        (str(crisis), 3, "crisis[0].users_at_lest"),
        (str(services), 8, "services.dns.name"),
        (str(services), 8, "services.dns.users"),
    ]
    # The services section failed its schema, so no unknown 'dsn' is claimed from a
    # catalogue that could not be read.
    assert "did you mean 'users_at_least'?" in problems[1].problem


def test_cross_checks_still_run_beside_a_broken_section(tmp_path: Path) -> None:
    _write(tmp_path, "services.yaml", SERVICES)
    _write(tmp_path, "correlation.yaml", "correlation:\n  reopen_window: soon\n")
    problems = _problems(tmp_path)
    assert [p.where for p in problems] == [
        "correlation.reopen_window",
        "services.email.depends_on[1]",
    ]


def test_a_heartbeat_for_a_service_in_an_unreadable_file_is_not_blamed(tmp_path: Path) -> None:
    _write(tmp_path, "heartbeats.yaml", "heartbeats:\n  - {name: w, match: {}, every: 5m, "
           "service: email}\n")  # fmt: skip
    _write(tmp_path, "services.yaml", "services: {email: {name: Email}\n")
    [problem] = _problems(tmp_path)
    assert problem.where == "yaml"


def test_the_version_changes_with_the_text(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", "correlation:\n  reopen_window: 5m\n")
    first = read_rules(tmp_path)
    assert read_rules(tmp_path).digest == first.digest
    path.write_text("correlation:\n  reopen_window: 6m\n", encoding="utf-8")
    second = read_rules(tmp_path)
    assert second.digest != first.digest
    assert second.files == (path,)


def test_ticket_policy_mistakes_name_file_and_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "tickets.yaml",
        "tickets:\n"
        "  open: {P1: soon}\n"
        "  sla:\n"
        "    targets:\n"
        "      P3: {response: 2h, resolution: 24h, business_hours: true}\n",
    )
    problems = {(p.line, p.where): p.problem for p in _problems(tmp_path)}
    assert any(line == 2 and "duration" in text for (line, _), text in problems.items())
    assert any(line == 3 and "business_hours" in text for (line, _), text in problems.items())
