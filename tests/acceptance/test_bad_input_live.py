"""A running server answers every malformed request with a 4xx JSON error, and keeps serving."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.acceptance.conftest import SerenoFactory, http_json

pytestmark = pytest.mark.e2e

CASES = [
    (b"{not json", "application/json", 400, "line 1 column 2"),
    (b'{"alerts": [{"status": "fir', "application/json", 400, "JSON"),
    (b"{}", "text/plain", 415, "Content-Type"),
    (b'{"version": "4"}', "application/json", 422, "alerts"),
    (b'{"alerts": "x"}', "application/json", 422, "alerts"),
    (
        (
            b'{"alerts": [{"status": "firing", "labels": {"job": "x"},'
            b' "startsAt": "2026-11-20T08:00:00Z"}]}'
        ),
        "application/json",
        422,
        "alerts[0].labels.alertname",
    ),
    (b"", "application/json", 400, "(body)"),
    (b"[" * 5000 + b"]" * 5000, "application/json", 400, "depth limit"),
    (b'{"alerts": [], "x": "\xff\xfe"}', "application/json", 400, "JSON"),
    (b'{"alerts": [], "x": "\\ud800"}', "application/json", 400, "JSON"),
    (b'{"alerts": [], "x": NaN}', "application/json", 400, "JSON"),
    (b"[1, 2, 3]", "application/json", 422, "(body)"),
    (
        b'{"alerts": [{"status": 5, "labels": {"alertname": "A"}}]}',
        "application/json",
        422,
        "alerts[0].status",
    ),
]


def _raw_post(url: str, body: bytes, content_type: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_every_bad_request_is_named_and_the_server_keeps_serving(sereno: SerenoFactory) -> None:
    server = sereno()
    url = f"{server.url}/api/v1/alerts/alertmanager"
    for body, content_type, status, mention in CASES:
        answered, error = _raw_post(url, body, content_type)
        assert answered == status, (body, error)
        assert set(error) == {"error", "detail"}
        assert mention in json.dumps(error), (body, error)
    assert http_json("GET", f"{server.url}/healthz") == (200, {"status": "ok"})
    good = {"alerts": [{"status": "firing", "labels": {"alertname": "Fine"},
                        "startsAt": "2026-11-20T08:00:00Z"}]}  # fmt: skip
    assert http_json("POST", url, good)[0] == 202
    assert server.process is not None
    assert server.process.poll() is None
    assert "Traceback" not in server.tail()
