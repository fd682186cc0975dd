"""`sereno worker STAGE` for each stage, and `sereno serve --redis`, as real processes."""

from __future__ import annotations

import operator
from functools import partial

import pytest

from core.config import Settings
from tests.acceptance.conftest import SerenoFactory, WorkerFactory, eventually, http_json
from tests.sereno.test_app import webhook

pytestmark = pytest.mark.e2e


def test_every_stage_as_a_worker_process_of_its_own(
    redis_workers: WorkerFactory,
) -> None:
    ingest = redis_workers("ingest")
    others = [redis_workers(stage) for stage in ("correlate", "ticketer", "notify", "scheduler")]
    body = webhook("g", ("HostDown", "web-1"), ("HostDown", "web-2"))
    status, _ = http_json("POST", f"{ingest.url}/api/v1/alerts/alertmanager", body)
    assert status == 202

    def read(path: str) -> object:
        return http_json("GET", f"{ingest.url}{path}")[1]

    found = eventually(lambda: read("/api/v1/incidents"), lambda b: b["count"] == 1)
    assert found["incidents"][0]["alert_count"] == 2
    eventually(lambda: read("/api/v1/tickets"), lambda b: b["count"] == 1)
    # The scheduler's ticks reach correlate on the alerts stream, beside the two alerts, and
    # pass down through the ticketer to notify, beside the ticket's event.
    for worker, at_least in ((others[0], 3), (others[1], 2), (others[2], 2)):
        eventually(
            partial(worker.metric_sum, "sereno_stage_entries_processed_total"),
            partial(operator.le, at_least),
        )
    assert "scheduler ticking every" in others[3].tail()
    # SIGTERM: each finishes what it holds and exits cleanly.
    assert [w.stop() for w in [ingest, *others]] == [0] * 5
    assert all("Traceback" not in w.tail() for w in [ingest, *others])


def test_serve_with_redis_runs_every_stage_in_one_process(
    sereno: SerenoFactory, redis_settings: Settings
) -> None:
    server = sereno(redis=redis_settings)
    body = webhook("g", ("HostDown", "web-1"))
    status, _ = http_json("POST", f"{server.url}/api/v1/alerts/alertmanager", body)
    assert status == 202
    eventually(lambda: server.get("/api/v1/tickets"), lambda b: b["count"] == 1)
    ready = server.get("/readyz")
    assert (ready["storage"], ready["rules"]) == (True, True)
    assert ready["rules_version"]  # serve reads the rules from files: their version is known
    assert not (server.data / "sereno.db").exists()  # nothing went to the embedded file
