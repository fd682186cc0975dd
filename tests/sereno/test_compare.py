"""`sereno replay --compare-config`: the same alerts under two rule sets, and the difference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sereno.cli import main

BASE_RULES = """\
notifications:
  channels:
    desk: {type: webhook, url: {env: SERENO_DESK_URL}}
  default: {channels: [desk]}
services:
  payroll: {name: Payroll, criticality: high, users: 3000, hosts: ["pay-*"]}
  billing: {name: Billing, criticality: high, users: 1200, hosts: ["bill-*"]}
topology:
  sites:
    toledo: ["pay-*", "bill-*"]
"""

# The other rules: disk alerts of one site are one incident, db-9 is in maintenance,
# payroll counts more users (so its incident's impact, and priority, rise), and a P1 is a
# crisis.
OTHER_RULES = (
    BASE_RULES.replace("users: 3000", "users: 6000")
    + """\
correlation:
  rules:
    - name: site-disks
      match: {names: DiskFull}
      group_by: [site]
maintenance:
  windows:
    - name: db-9-move
      match: {resources: db-9}
      starts_at: 2026-11-20T07:00:00Z
      ends_at: 2026-11-20T10:00:00Z
crisis:
  - {name: any-p1, priority: P1}
"""
)


def _alert(at: str, name: str, resource: str, severity: str, status: str = "firing") -> str:
    payload = {"name": name, "resource": resource, "severity": severity, "status": status}
    return json.dumps({"at": at, "source": "generic", "payload": payload})


def _recording(tmp_path: Path) -> Path:
    fired = [
        ("08:00:00", "DiskFull", "pay-1", "critical"),
        ("08:01:00", "DiskFull", "pay-2", "critical"),
        ("08:02:00", "DiskFull", "bill-1", "critical"),
        ("08:03:00", "HighLoad", "db-9", "warning"),
    ]
    lines = [_alert(f"2026-11-20T{t}Z", n, r, s) for t, n, r, s in fired]
    lines += [_alert("2026-11-20T09:00:00Z", n, r, s, "resolved") for _, n, r, s in fired]
    path = tmp_path / "day.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _config(tmp_path: Path, name: str, rules: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "rules.yaml").write_text(rules)
    config = tmp_path / f"{name}.yaml"
    config.write_text(f"rules_dir: {folder}\n")
    return config


def test_the_text_says_what_the_other_rules_change_at_a_glance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = _recording(tmp_path)
    base = _config(tmp_path, "base", BASE_RULES)
    other = _config(tmp_path, "other", OTHER_RULES)
    argv = ["replay", str(recording), "--config", str(base), "--compare-config", str(other)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{base}: 8 alerts -> 4 incidents, 4 tickets, 8 pages, 0 suppressed",
        f"{other}: 8 alerts -> 1 incident, 1 ticket, 2 pages, 1 suppressed",
        (
            f"with {other}: 3 incidents fewer ('DiskFull on pay-2', 'DiskFull on bill-1', "
            "'HighLoad on db-9'), 3 tickets fewer, 6 pages fewer, 1 suppressed alert more; "
            "INC-1 'DiskFull on pay-1' P2 → P1, no crisis → crisis (any-p1)"
        ),
        f"  only with {base}: INC-2 P2 'DiskFull on pay-2'",
        f"  only with {base}: INC-3 P2 'DiskFull on bill-1'",
        f"  only with {base}: INC-4 P5 'HighLoad on db-9'",
    ]


def test_the_json_names_each_difference_and_a_rules_folder_will_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = _recording(tmp_path)
    other = _config(tmp_path, "other", OTHER_RULES)
    _config(tmp_path, "base", BASE_RULES)
    # The other way round: from the grouping rules back to the plain ones, given as a folder.
    argv = [
        "replay", str(recording), "--config", str(other),
        "--compare-config", str(tmp_path / "base"), "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["base"] == {
        "config": str(other), "alerts": 8, "incidents": 1, "tickets": 1, "pages": 2,
        "suppressed": 1,
    }  # fmt: skip
    assert out["other"]["incidents"] == 4
    assert out["incidents"]["lost"] == []
    gained = out["incidents"]["gained"]
    assert [(i["id"], i["title"], i["priority"]) for i in gained] == [
        ("INC-2", "DiskFull on pay-2", "P2"),
        ("INC-3", "DiskFull on bill-1", "P2"),
        ("INC-4", "HighLoad on db-9", "P5"),
    ]
    assert gained[2]["opened_by"]["source"] == "generic"
    assert out["tickets"]["lost"] == []
    assert [t["incident"] for t in out["tickets"]["gained"]] == ["INC-2", "INC-3", "INC-4"]
    assert out["pages"]["lost"] == []
    assert sorted((p["incident"], p["kind"]) for p in out["pages"]["gained"]) == [
        (incident, kind)
        for incident in ("INC-2", "INC-3", "INC-4")
        for kind in ("opened", "resolved")
    ]
    [change] = out["priority_changes"]
    assert (change["base_id"], change["other_id"], change["from"], change["to"]) == (
        "INC-1", "INC-1", "P1", "P2",
    )  # fmt: skip
    assert change["title"] == "DiskFull on 3 resources"
    assert "3,000 users" in change["reason"]
    assert out["crisis_changes"] == [
        {"base_id": "INC-1", "other_id": "INC-1", "title": "DiskFull on 3 resources",
         "from": "any-p1", "to": None},
    ]  # fmt: skip


def test_the_same_rules_make_no_difference(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = _recording(tmp_path)
    base = _config(tmp_path, "base", BASE_RULES)
    argv = ["replay", str(recording), "--config", str(base), "--compare-config", str(base)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"with {base}: the same incidents, tickets and pages as with {base}"
    )


def test_invalid_other_rules_are_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = _recording(tmp_path)
    base = _config(tmp_path, "base", BASE_RULES)
    other = _config(tmp_path, "other", "correlation:\n  reopen_window: soon\n")
    argv = ["replay", str(recording), "--config", str(base), "--compare-config", str(other)]
    assert main(argv) == 2
    assert f"{tmp_path / 'other' / 'rules.yaml'}:2: correlation.reopen_window:" in (
        capsys.readouterr().err
    )
