"""What a newcomer sees in the first minutes of `sereno serve` with the example rules and
none of their secrets: one warning per channel that cannot deliver, at start; each message
to such a channel recorded once as undeliverable, never retried; each stage loop named with
the stream it reads."""

from __future__ import annotations

import pytest

from tests.acceptance.conftest import SerenoFactory, eventually, http_json

pytestmark = pytest.mark.e2e

SECRETS = (
    "SERENO_REDES_SLACK_URL", "SERENO_SISTEMAS_TEAMS_URL", "SERENO_SERVICE_DESK_WEBHOOK_URL",
    "SERENO_SMTP_PASSWORD",
)  # fmt: skip


def test_unusable_channels_are_named_at_start_and_never_retried(
    sereno: SerenoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SECRETS:
        monkeypatch.delenv(name, raising=False)
    server = sereno()
    log = server.tail()
    for channel, why in (
        ("service-desk-webhook", "environment variable SERENO_SERVICE_DESK_WEBHOOK_URL is not set"),
        ("redes-chat", "environment variable SERENO_REDES_SLACK_URL is not set"),
        ("sistemas-teams", "environment variable SERENO_SISTEMAS_TEAMS_URL is not set"),
        ("comite-crisis-mail", "the SMTP host smtp.example.org is an example name"),
    ):
        assert f"channel {channel} cannot deliver: " in log
        assert why in log
    assert "stage notify started on stream incidents" in log
    assert "stage notify started on stream tickets" in log

    alert = {"name": "DiskFull", "resource": "db-1", "service": "payroll",
             "severity": "critical", "summary": "/var is 98% full"}  # fmt: skip
    assert http_json("POST", f"{server.url}/api/v1/alerts/generic", alert)[0] == 202
    eventually(lambda: server.metric_sum("sereno_notify_deliveries_total"), lambda sent: sent >= 1)
    server.wait_idle()
    deliveries = 'sereno_notify_deliveries_total{channel="service-desk-webhook",outcome='
    assert server.metric_sum(deliveries + '"undeliverable"}') >= 1
    for outcome in ("retry", "failed", "delivered"):
        assert server.metric_sum(deliveries + f'"{outcome}"}}') == 0
    assert server.tail().count("to service-desk-webhook: undeliverable") == server.metric_sum(
        deliveries + '"undeliverable"}'
    )
