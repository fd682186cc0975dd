"""The command line: replay, rules check, and serve refusing bad rules."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from sereno.cli import main
from tests.conftest import REPO
from tests.sereno.test_app import webhook


def _write_config(tmp_path: Path, rules_dir: Path) -> Path:
    config = tmp_path / "sereno.yaml"
    config.write_text(f"rules_dir: {rules_dir}\ndata_dir: {tmp_path / 'data'}\n")
    return config


def _line(at: str, source: str, payload: object) -> str:
    return json.dumps({"at": at, "source": source, "payload": payload})


def test_replay_json_shows_incidents_tickets_and_notifications(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = tmp_path / "day.jsonl"
    fire = webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"))
    recording.write_text(
        "\n".join(
            [
                _line("2026-11-20T08:00:03Z", "alertmanager", fire),
                _line("2026-11-20T08:05:03Z", "alertmanager", fire),
                json.dumps({"offset_s": 60, "source": "generic", "payload": {"name": "Lone"}}),
                _line("2026-11-20T08:30:00Z", "generic", {"wrong": 1}),
                _line(
                    "2026-11-20T09:00:00Z",
                    "alertmanager",
                    webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"), status="resolved"),
                ),
            ]
        )
    )
    config = _write_config(tmp_path, REPO / "rules")
    assert main(["replay", str(recording), "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"incidents", "tickets", "notifications", "suppressed", "stats"}
    first, lone = out["incidents"]
    assert first["status"] == "resolved"
    assert first["opened_at"] == "2026-11-20T08:00:03Z"
    assert first["resolved_at"] == "2026-11-20T09:00:00Z"
    assert {(a["source"], a["source_id"], a["role"]) for a in first["alerts"]} == {
        ("alertmanager", "HostDown-web-1", "member"),
        ("alertmanager", "HostDown-web-2", "member"),
    }
    assert lone["opened_at"] == "2026-11-20T08:01:03Z"  # offset from the first timestamp
    assert [t["incident_id"] for t in out["tickets"]] == [first["id"], lone["id"]]
    kinds = [
        (n["incident"], n["kind"], n["at"])
        for n in out["notifications"]
        if n["kind"] in ("opened", "resolved")
    ]
    assert kinds == [
        (first["id"], "opened", "2026-11-20T08:00:03Z"),
        (lone["id"], "opened", "2026-11-20T08:01:03Z"),
        (first["id"], "resolved", "2026-11-20T09:00:00Z"),
    ]
    assert out["rejected"][0]["line"] == 4
    assert out["stats"]["alerts"] == 7
    assert out["stats"]["incidents"] == 2


def test_replay_names_the_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recording = tmp_path / "bad.jsonl"
    recording.write_text('{"at": "2026-11-20T08:00:00Z", "source": "generic", "payload": {}}\n{')
    config = _write_config(tmp_path, REPO / "rules")
    assert main(["replay", str(recording), "--config", str(config)]) == 2
    assert f"{recording}:2:" in capsys.readouterr().err


def test_rules_check_accepts_the_examples_and_sums_them_up(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REDES_SLACK", "SISTEMAS_TEAMS", "SERVICE_DESK_WEBHOOK"):
        monkeypatch.delenv(f"SERENO_{name}_URL", raising=False)
    assert main(["rules", "check", "--config", str(REPO / "sereno.yaml")]) == 0
    summary, *warnings = capsys.readouterr().out.splitlines()
    assert summary.startswith(f"rules in {REPO / 'rules'} are valid (13 files, version ")
    assert summary.endswith(
        "): 11 services, 12 topology links, 2 sites, 2 correlation rules, 3 crisis rules, "
        "2 maintenance windows, 2 heartbeats, 2 routes, 1 mapping, 5 notification channels; "
        f"5 runbooks in {REPO / 'runbooks'} are valid"
    )
    # Valid, but not every channel can deliver as configured here: each one says why.
    assert len(warnings) == 5
    assert all(w.startswith("warning: channel ") for w in warnings)


def test_rules_check_names_the_channels_that_cannot_deliver(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SERENO_REDES_SLACK_URL", raising=False)
    for name in ("SERENO_SISTEMAS_TEAMS_URL", "SERENO_SERVICE_DESK_WEBHOOK_URL"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/x")
    assert main(["rules", "check", "--config", str(REPO / "sereno.yaml")]) == 0
    warnings = capsys.readouterr().out.splitlines()[1:]
    tail = "; its messages are recorded as undeliverable"
    example = "the SMTP host smtp.example.org is an example name (RFC 2606); set smtp.host"
    unset = "environment variable SERENO_REDES_SLACK_URL is not set or empty"
    assert warnings == [
        f"warning: channel comite-crisis-mail cannot deliver: {example}{tail}",
        f"warning: channel redes-chat cannot deliver: webhook URL: {unset}{tail}",
        f"warning: channel redes-guardia-mail cannot deliver: {example}{tail}",
    ]


def test_rules_check_explains_every_problem_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "c.yaml").write_text("correlation:\n  reopen_window: soon\n  hold_dwn: 5m\n")
    (rules / "s.yaml").write_text("services:\n  mail:\n    name: Mail\n    depends_on: [dns]\n")
    config = _write_config(tmp_path, rules)
    assert main(["rules", "check", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "sereno: invalid rules (3 problems):",
        (
            f"  {rules / 'c.yaml'}:2: correlation.reopen_window: 'soon' is not a duration; write "
            "for example 90s, 5m, 2h or 1d"
        ),
        (
            f"  {rules / 'c.yaml'}:3: correlation.hold_dwn: unknown key 'hold_dwn'; check its "
            "spelling (did you mean 'hold_down'?); the keys here are: reopen_window, hold_down, "
            "symptom_hold, settle, flapping, rules"
        ),
        (
            f"  {rules / 's.yaml'}:4: services.mail.depends_on[0]: unknown service 'dns'; write "
            "one of: mail"
        ),
    ]


def test_serve_refuses_to_start_on_invalid_rules(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "c.yaml").write_text("correlation:\n  reopen_window: soon\n")
    config = _write_config(tmp_path, rules)
    done = subprocess.run(
        [sys.executable, "-m", "sereno.cli", "serve", "--config", str(config),
         "--listen", "127.0.0.1:0"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{rules / 'c.yaml'}:2: correlation.reopen_window:" in done.stderr
    assert "write for example 90s" in done.stderr


def test_an_alert_firing_again_within_the_window_reopens_the_same_incident(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def alert(status: str) -> dict[str, str]:
        return {"name": "Disk", "resource": "db-1", "service": "pay", "status": status}

    recording = tmp_path / "flap.jsonl"
    recording.write_text(
        "\n".join(
            [
                _line("2026-11-20T08:00:00Z", "generic", alert("firing")),
                _line("2026-11-20T08:01:00Z", "generic", alert("resolved")),
                _line("2026-11-20T08:04:00Z", "generic", alert("firing")),  # 3 min: reopens
                _line("2026-11-20T08:05:00Z", "generic", alert("resolved")),
                _line("2026-11-20T08:40:00Z", "generic", alert("firing")),  # 35 min: new one
            ]
        )
    )
    config = _write_config(tmp_path, REPO / "rules")
    assert main(["replay", str(recording), "--config", str(config), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first, second = out["incidents"]
    lifecycle = [e for e in first["timeline"] if e["kind"] not in ("priority", "routing")]
    assert [e["kind"] for e in lifecycle] == [
        "opened", "alert", "resolved", "reopened", "alert", "alert", "resolved",
    ]  # fmt: skip
    assert "within the reopen window of 1800s" in lifecycle[3]["text"]
    assert (first["status"], second["status"]) == ("resolved", "open")
    first_ticket, second_ticket = out["tickets"]
    assert [c["new"] for c in first_ticket["history"] if c["field"] == "status"] == [
        "open", "resolved", "open", "resolved",
    ]  # fmt: skip
    assert second_ticket["incident_id"] == second["id"]


def test_a_worker_without_redis_says_how_to_give_it_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, REPO / "rules")
    assert main(["worker", "correlate", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "--redis redis://HOST:PORT/DB" in err
    assert "sereno serve" in err


def test_a_redis_prefix_without_a_hash_tag_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _write_config(tmp_path, REPO / "rules")
    config.write_text(config.read_text() + "redis_prefix: sereno\n")
    assert main(["worker", "correlate", "--config", str(config), "--redis", "redis://x"]) == 2
    assert "sereno.yaml:3: redis_prefix: start with a non-empty hash tag" in capsys.readouterr().err


def test_rules_check_checks_the_runbooks_too(tmp_path: Path) -> None:
    runbooks = tmp_path / "runbooks"
    runbooks.mkdir()
    (runbooks / "mail.md").write_text(
        "---\ntitle: Mail\nowner: sistemas\napplies_to: {services: [emial]}\n---\n1. Look.\n",
        encoding="utf-8",
    )
    config = tmp_path / "sereno.yaml"
    config.write_text(f"rules_dir: {REPO / 'rules'}\nrunbooks_dir: {runbooks}\n")
    done = subprocess.run(
        [sys.executable, "-m", "sereno.cli", "rules", "check", "--config", str(config)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"{runbooks / 'mail.md'}:4: applies_to.services: unknown service 'emial'" in done.stderr


def test_version_names_the_installed_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"sereno {version('sereno')}"
