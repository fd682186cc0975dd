"""The store's correlation state: which resource fails where, timers, silences, suppressions
and heartbeats; kept by `commit` and read back as written."""

from __future__ import annotations

from datetime import timedelta

from core.matchers import AlertMatch, Silence
from core.models import (
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Priority,
    Severity,
    Suppression,
)
from core.storage import Storage
from core.store import Changes, IncidentFilter
from tests.conftest import T0


def _alert(resource: str, status: AlertStatus = AlertStatus.FIRING) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"fp-{resource}", source="generic", source_id=resource, name="Down",
        resource=resource, service="", severity=Severity.MAJOR, status=status,
        first_seen=T0, last_seen=T0,
    )  # fmt: skip


def _incident(incident_id: str, *alerts: IncidentAlert, **extra: object) -> Incident:
    return Incident.model_validate(
        {"id": incident_id, "key": incident_id, "title": "t", "severity": Severity.MAJOR,
         "priority": Priority.P2, "opened_at": T0, "alerts": alerts, **extra}
    )  # fmt: skip


async def test_failing_resources_follow_the_incidents_written(storage: Storage) -> None:
    store = storage.store
    switch = _incident("INC-1", _alert("sw-1"), _alert("web-1"))
    await store.commit(Changes(incidents=[switch]))
    assert await store.incidents_on_resources(["sw-1", "web-1", "db-1"]) == {
        "sw-1": "INC-1", "web-1": "INC-1",
    }  # fmt: skip
    recovered = switch.model_copy(
        update={"alerts": (_alert("sw-1"), _alert("web-1", AlertStatus.RESOLVED))}
    )
    await store.commit(Changes(incidents=[recovered]))
    assert await store.incidents_on_resources(["sw-1", "web-1"]) == {"sw-1": "INC-1"}
    over = recovered.model_copy(update={"status": IncidentStatus.RESOLVED})
    await store.commit(Changes(incidents=[over]))
    assert await store.incidents_on_resources(["sw-1", "web-1"]) == {}


async def test_due_incidents_are_the_unresolved_ones_whose_time_has_come(storage: Storage) -> None:
    store = storage.store
    soon = _incident("INC-1", _alert("a"), due_at=T0 + timedelta(minutes=1))
    later = _incident("INC-2", _alert("b"), due_at=T0 + timedelta(hours=1))
    done = _incident("INC-3", _alert("c"), due_at=T0, status=IncidentStatus.RESOLVED, key="other")
    never = _incident("INC-4", _alert("d"))
    await store.commit(Changes(incidents=[soon, later, done, never]))
    assert [i.id for i in await store.incidents_due(T0 + timedelta(minutes=5))] == ["INC-1"]
    assert [i.id for i in await store.incidents_due(T0 + timedelta(hours=2))] == ["INC-1", "INC-2"]


async def test_open_and_recent_incidents_can_be_listed(storage: Storage) -> None:
    store = storage.store
    old = _incident("INC-1", _alert("a"))
    new = _incident("INC-2", _alert("b"), opened_at=T0 + timedelta(minutes=10))
    gone = _incident("INC-3", _alert("c"), status=IncidentStatus.RESOLVED)
    await store.commit(Changes(incidents=[old, new, gone]))
    open_ = await store.list_incidents(IncidentFilter(open_only=True))
    assert [i.id for i in open_] == ["INC-2", "INC-1"]
    recent = await store.list_incidents(
        IncidentFilter(open_only=True, opened_since=T0 + timedelta(minutes=5))
    )
    assert [i.id for i in recent] == ["INC-2"]


async def test_silences_suppressions_and_heartbeats_are_kept(storage: Storage) -> None:
    store = storage.store
    silence = Silence(
        id="SIL-1", match=AlertMatch(resources=["web-*"]), starts_at=T0,
        ends_at=T0 + timedelta(hours=1), created_by="ana", comment="deploy", created_at=T0,
    )  # fmt: skip
    held = Suppression(
        at=T0, fingerprint="f", source="generic", source_id="x", name="Down", resource="web-1",
        service="", by="silence:SIL-1", reason="deploy",
    )  # fmt: skip
    await store.commit(
        Changes(silences=[silence], suppressions=[held, held], heartbeats={"watchdog": T0})
    )
    assert await store.get_silence("SIL-1") == silence
    expired = silence.model_copy(update={"ends_at": T0 + timedelta(minutes=5)})
    await store.commit(Changes(silences=[expired], heartbeats={"watchdog": T0 + timedelta(1)}))
    assert await store.list_silences() == [expired]
    assert await store.list_suppressions() == [held, held]
    assert await store.heartbeats() == {"watchdog": T0 + timedelta(1)}


async def test_services_down_are_counted_per_site(storage: Storage) -> None:
    store = storage.store
    await store.commit(
        Changes(
            incidents=[
                _incident("INC-1", _alert("a"), site="madrid", service="email"),
                _incident("INC-2", _alert("b"), site="madrid", service="dns"),
                _incident("INC-3", _alert("c"), site="madrid", service="email"),
                _incident("INC-4", _alert("d"), site="toledo", service="payroll",
                          status=IncidentStatus.RESOLVED),
            ]
        )
    )  # fmt: skip
    assert await store.open_services_by_site() == {"madrid": {"email", "dns"}}
