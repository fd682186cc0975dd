"""The safe defaults of a real `sereno serve`: open only on loopback with no user (and says
so), refusing any other address until the first admin is made with `sereno users add`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.acceptance.conftest import (
    SERENO,
    SerenoFactory,
    free_port,
    http_json,
    wait_ready,
)
from tests.conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "sereno.yaml"
    config.write_text(f"rules_dir: {EXAMPLE_RULES}\ndata_dir: {tmp_path / 'data'}\n")
    return config


def test_no_user_beyond_loopback_refuses_to_start(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(SERENO), "serve", "--config", str(_config(tmp_path)),
         "--listen", f"0.0.0.0:{free_port()}"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "refusing to serve on 0.0.0.0" in done.stderr
    assert "sereno users add NAME --role admin" in done.stderr


def test_the_first_admin_closes_the_api_and_lets_it_listen_wide(tmp_path: Path) -> None:
    config = _config(tmp_path)
    added = subprocess.run(
        [str(SERENO), "users", "add", "root", "--role", "admin", "--password-file", "-",
         "--config", str(config)],
        input="a long admin password\n", capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    port = free_port()
    log = tmp_path / "sereno.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(SERENO), "serve", "--config", str(config), "--listen", f"0.0.0.0:{port}"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(process, url, "sereno", lambda: log.read_text(errors="replace"))
        status, body = http_json("GET", f"{url}/api/v1/incidents")
        assert status == 401, body
        assert "is OPEN" not in log.read_text()
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_make_run_on_loopback_is_open_and_says_so(tmp_path: Path, sereno: SerenoFactory) -> None:
    served = sereno()
    assert http_json("GET", f"{served.url}/api/v1/incidents")[0] == 200
    assert "the API is OPEN" in served.tail()
