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
    is_failing,
)
from core.storage import Storage
from core.store import Changes, IncidentFilter
from correlate.summary import Summary
from tests.conftest import T0


def _alert(resource: str, status: AlertStatus = AlertStatus.FIRING) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"fp-{resource}", source="generic", source_id=resource, name="Down",
        resource=resource, service="", severity=Severity.MAJOR, status=status,
        first_seen=T0, last_seen=T0,
    )  # fmt: skip


def _incident(incident_id: str, **extra: object) -> Incident:
    return Incident.model_validate(
        {"id": incident_id, "key": incident_id, "title": "t", "severity": Severity.MAJOR,
         "priority": Priority.P2, "opened_at": T0, **extra}
    )  # fmt: skip


async def test_failing_resources_follow_the_incidents_written(storage: Storage) -> None:
    store = storage.store
    switch = _incident("INC-1")
    # What correlate commits for a switch and a host failing in one incident.
    await store.commit(
        Changes(
            incidents=[switch], members=[("INC-1", _alert("sw-1")), ("INC-1", _alert("web-1"))],
            tallies={("INC-1", "failing", "sw-1"): 1, ("INC-1", "failing", "web-1"): 1},
        )
    )  # fmt: skip
    assert await store.incidents_on_resources(["sw-1", "web-1", "db-1"]) == {
        "sw-1": "INC-1", "web-1": "INC-1",
    }  # fmt: skip
    recovered = switch.model_copy(update={"version": 2})
    await store.commit(
        Changes(
            incidents=[recovered], members=[("INC-1", _alert("web-1", AlertStatus.RESOLVED))],
            tallies={("INC-1", "failing", "web-1"): -1},
        )
    )  # fmt: skip
    assert await store.incidents_on_resources(["sw-1", "web-1"]) == {"sw-1": "INC-1"}
    over = recovered.model_copy(update={"status": IncidentStatus.RESOLVED})
    await store.commit(Changes(incidents=[over]))
    assert await store.incidents_on_resources(["sw-1", "web-1"]) == {}


async def test_due_incidents_are_the_unresolved_ones_whose_time_has_come(storage: Storage) -> None:
    store = storage.store
    soon = _incident("INC-1", due_at=T0 + timedelta(minutes=1))
    later = _incident("INC-2", due_at=T0 + timedelta(hours=1))
    done = _incident("INC-3", due_at=T0, status=IncidentStatus.RESOLVED, key="other")
    never = _incident("INC-4")
    await store.commit(Changes(incidents=[soon, later, done, never]))
    assert [i.id for i in await store.incidents_due(T0 + timedelta(minutes=5))] == ["INC-1"]
    assert [i.id for i in await store.incidents_due(T0 + timedelta(hours=2))] == ["INC-1", "INC-2"]


async def test_open_and_recent_incidents_can_be_listed(storage: Storage) -> None:
    store = storage.store
    old = _incident("INC-1")
    new = _incident("INC-2", opened_at=T0 + timedelta(minutes=10))
    gone = _incident("INC-3", status=IncidentStatus.RESOLVED)
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


def _down(incident_id: str, **extra: object) -> Incident:
    return _incident(incident_id, **{"severity": Severity.CRITICAL, **extra})


async def test_services_down_are_counted_per_site(storage: Storage) -> None:
    store = storage.store
    await store.commit(
        Changes(
            incidents=[
                _down("INC-1", site="madrid", service="email"),
                _down("INC-2", site="madrid", service="dns"),
                _down("INC-3", site="madrid", service="email"),
                _down("INC-4", site="toledo", service="payroll",
                      status=IncidentStatus.RESOLVED),
                # A service with trouble short of critical is not down.
                _incident("INC-5", site="madrid", service="intranet"),
            ]
        )
    )  # fmt: skip
    assert await store.open_services_by_site() == {"madrid": {"email", "dns"}}
    calmer = _down("INC-2", site="madrid", service="dns", severity=Severity.MAJOR)
    await store.commit(Changes(incidents=[calmer]))
    assert await store.open_services_by_site() == {"madrid": {"email"}}


def test_a_resource_in_mere_trouble_is_not_failing() -> None:
    # High CPU on a switch explains nothing about the hosts behind it; the switch down does.
    busy = _alert("sw-1").model_copy(update={"severity": Severity.WARNING})
    summary = Summary(_incident("INC-1"), lambda _: 0)
    summary.change(None, busy)
    assert summary.deltas.get(("failing", "sw-1"), 0) == 0
    summary.change(busy, busy.model_copy(update={"severity": Severity.CRITICAL}))
    assert summary.deltas[("failing", "sw-1")] == 1
    assert not is_failing(_alert("sw-1", AlertStatus.RESOLVED))


def _failing(incident_id: str, *resources: str, n: int = 1) -> Changes:
    return Changes(
        incidents=[_incident(incident_id)],
        tallies={(incident_id, "failing", r): n for r in resources},
    )


async def test_a_resource_failing_in_two_incidents_answers_the_lowest_id(storage: Storage) -> None:
    store = storage.store
    await store.commit(_failing("INC-7", "sw-1", "\u00fc-2"))
    await store.commit(_failing("INC-10", "sw-1"))
    assert await store.incidents_on_resources(["sw-1", "sw-1", "\u00fc-2", "sw"]) == {
        "sw-1": "INC-10", "\u00fc-2": "INC-7",
    }  # fmt: skip
    await store.commit(_failing("INC-10", "sw-1", n=-1))
    await store.commit(_failing("INC-10", "sw-9"))
    assert await store.incidents_on_resources(["sw-1", "sw-9"]) == {
        "sw-1": "INC-7",
        "sw-9": "INC-10",
    }


async def test_due_incidents_come_in_time_order_then_insertion_and_follow_their_timer(
    storage: Storage,
) -> None:
    store = storage.store
    minute = T0 + timedelta(minutes=1)
    second = _incident("INC-2", due_at=minute)
    first = _incident("INC-1", due_at=minute)
    earlier = _incident("INC-3", due_at=T0)
    await store.commit(Changes(incidents=[second, first, earlier]))
    assert [i.id for i in await store.incidents_due(minute)] == ["INC-3", "INC-2", "INC-1"]
    assert [i.id for i in await store.incidents_due(T0)] == ["INC-3"]
    assert await store.incidents_due(T0 - timedelta(microseconds=1)) == []
    later = second.model_copy(update={"due_at": T0 + timedelta(hours=1)})
    await store.commit(Changes(incidents=[later, earlier.model_copy(update={"due_at": None})]))
    due = await store.incidents_due(minute)
    assert due == [first]
    assert [i.id for i in await store.incidents_due(T0 + timedelta(hours=1))] == ["INC-1", "INC-2"]


async def test_a_site_loses_a_service_when_its_last_open_incident_there_resolves(
    storage: Storage,
) -> None:
    store = storage.store
    one = _down("INC-1", site="madrid", service="email")
    two = _down("INC-2", key="k2", site="madrid", service="email")
    await store.commit(Changes(incidents=[one, two]))
    await store.commit(
        Changes(incidents=[one.model_copy(update={"status": IncidentStatus.RESOLVED})])
    )
    assert await store.open_services_by_site() == {"madrid": {"email"}}
    await store.commit(Changes(incidents=[two.model_copy(update={"site": "toledo"})]))
    assert await store.open_services_by_site() == {"toledo": {"email"}}
    await store.commit(
        Changes(incidents=[two.model_copy(update={"status": IncidentStatus.RESOLVED})])
    )
    assert await store.open_services_by_site() == {}


async def test_silences_newest_first_and_suppressions_oldest_first_within_limits(
    storage: Storage,
) -> None:
    store = storage.store

    def silence(silence_id: str, minutes: int) -> Silence:
        return Silence(
            id=silence_id, match=AlertMatch(), starts_at=T0, ends_at=T0 + timedelta(hours=1),
            created_by="ana", comment="c", created_at=T0 + timedelta(minutes=minutes),
        )  # fmt: skip

    def held(name: str) -> Suppression:
        return Suppression(
            at=T0, fingerprint=name, source="generic", source_id=name, name=name, resource="",
            service="", by="silence:SIL-1", reason="r",
        )  # fmt: skip

    await store.commit(Changes(silences=[silence("SIL-1", 0), silence("SIL-2", 5)]))
    await store.commit(Changes(silences=[silence("SIL-3", 5)], suppressions=[held("a"), held("b")]))
    await store.commit(Changes(suppressions=[held("c")]))
    assert [s.id for s in await store.list_silences()] == ["SIL-3", "SIL-2", "SIL-1"]
    assert [s.id for s in await store.list_silences(limit=2)] == ["SIL-3", "SIL-2"]
    assert await store.get_silence("SIL-9") is None
    assert [s.name for s in await store.list_suppressions()] == ["a", "b", "c"]
    assert [s.name for s in await store.list_suppressions(limit=2)] == ["a", "b"]
    assert await store.heartbeats() == {}
