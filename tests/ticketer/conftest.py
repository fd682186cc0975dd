"""Fixtures of the ticket backends' tests: the real Request Tracker server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ticketer.rt_server import RtServer, rt_missing


@pytest.fixture(scope="session")
def rt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtServer]:
    """One RT for the session; a test that stops it starts it again before it ends."""
    rt_missing()
    server = RtServer(tmp_path_factory.mktemp("rt") / "rt")
    server.init()
    server.start()
    yield server
    server.stop()
