"""Alert volumes and markers on both backends: counts add up across commits, a range
reads whole hours, and a refused commit counts nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import AlertVolume, Incident, Priority, Severity
from core.storage import Storage
from core.store import Changes, ConflictError
from tests.conftest import T0

HOUR = timedelta(hours=1)


def _incident(incident_id: str) -> Incident:
    return Incident(id=incident_id, key="k", title="t", severity=Severity.MAJOR,
                    priority=Priority.P2, opened_at=T0)  # fmt: skip


def _volume(hour: int, source: str, name: str, received: int, **counts: int) -> AlertVolume:
    return AlertVolume(hour=T0 + hour * HOUR, source=source, name=name, received=received,
                       **counts)  # fmt: skip


async def test_volumes_add_up_per_hour_source_and_name(storage: Storage) -> None:
    store = storage.store
    await store.commit(Changes(alert_volumes=[_volume(0, "zabbix", "Down", 3, deduplicated=1)]))
    await store.commit(
        Changes(alert_volumes=[
            _volume(0, "zabbix", "Down", 2, suppressed=2),
            _volume(0, "alertmanager", "Down", 1),
            _volume(1, "zabbix", "Down", 4, deduplicated=3),
            _volume(2, "nagios", "Disk|full\x00odd", 5),
        ])
    )  # fmt: skip
    assert await store.alert_volumes(T0, T0 + 2 * HOUR) == [
        _volume(0, "alertmanager", "Down", 1),
        _volume(0, "zabbix", "Down", 5, deduplicated=1, suppressed=2),
        _volume(1, "zabbix", "Down", 4, deduplicated=3),
    ]
    assert await store.alert_volumes(T0 + 2 * HOUR, T0 + 3 * HOUR) == [
        _volume(2, "nagios", "Disk|full\x00odd", 5)
    ]
    assert await store.alert_volumes(T0 - HOUR, T0) == []


async def test_a_refused_commit_counts_nothing(storage: Storage) -> None:
    store = storage.store
    refused = Changes(
        alert_volumes=[_volume(0, "zabbix", "Down", 3)], markers={"report:daily": "2026-11-20"}
    )
    refused.expect_incident("INC-1", _incident("INC-1"))  # it was never stored
    with pytest.raises(ConflictError):
        await store.commit(refused)
    assert await store.alert_volumes(T0, T0 + HOUR) == []
    assert await store.marker("report:daily") is None


async def test_markers_keep_the_last_value(storage: Storage) -> None:
    store = storage.store
    assert await store.marker("report:daily") is None
    await store.commit(Changes(markers={"report:daily": "2026-11-20"}))
    await store.commit(Changes(markers={"report:daily": "2026-11-21", "other": "x"}))
    assert await store.marker("report:daily") == "2026-11-21"
    assert await store.marker("other") == "x"
