"""The store on both backends (SQLite file, real Redis): atomic commits, the uniqueness
rules and expectations that keep effects exactly-once, and the order of every list."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from redis.crc import key_slot

from core.bus import DeadLetter, NotPendingError, Stream
from core.config import Settings
from core.matchers import AlertMatch, Silence
from core.models import (
    AlertState,
    AlertStatus,
    Incident,
    IncidentAlert,
    IncidentStatus,
    Notification,
    Priority,
    Severity,
    Suppression,
    Ticket,
    TimelineEntry,
)
from core.storage import Storage
from core.store import Ack, Changes, ConflictError, IncidentFilter
from tests.conftest import REDIS_URL, T0, StorageFactory


def _incident(incident_id: str, key: str = "k", **update: object) -> Incident:
    incident = Incident(
        id=incident_id, key=key, title="t", severity=Severity.MAJOR, priority=Priority.P2,
        opened_at=T0,
    )  # fmt: skip
    return incident.model_copy(update=update)


def _ticket(ticket_id: str, incident_id: str, **update: object) -> Ticket:
    ticket = Ticket(
        id=ticket_id, incident_id=incident_id, backend="builtin", title="t",
        priority=Priority.P2, created_at=T0, updated_at=T0,
    )  # fmt: skip
    return ticket.model_copy(update=update)


def _state(fingerprint: str, count: int = 1) -> AlertState:
    return AlertState(
        fingerprint=fingerprint, incident_id="INC-1", status=AlertStatus.FIRING,
        first_seen=T0, last_seen=T0, count=count,
    )  # fmt: skip


def _firing(resource: str) -> IncidentAlert:
    return IncidentAlert(
        fingerprint=f"fp-{resource}", source="generic", source_id=resource, name="Down",
        resource=resource, service="", severity=Severity.MAJOR, status=AlertStatus.FIRING,
        first_seen=T0, last_seen=T0,
    )  # fmt: skip


def _notification(notification_id: str, minutes: int) -> Notification:
    return Notification(
        id=notification_id, at=T0 + timedelta(minutes=minutes), channel="log", kind="k",
        incident_id="INC-1", text=notification_id,
    )  # fmt: skip


async def test_ids_are_never_repeated(storage: Storage) -> None:
    ids = [await storage.store.next_id("INC") for _ in range(3)]
    assert ids == ["INC-1", "INC-2", "INC-3"]
    assert await storage.store.next_id("TKT") == "TKT-1"


async def test_one_open_incident_per_key(storage: Storage) -> None:
    await storage.store.commit(Changes(incidents=[_incident("INC-1")]))
    with pytest.raises(ConflictError):
        await storage.store.commit(Changes(incidents=[_incident("INC-2")]))
    resolved = _incident("INC-1", status=IncidentStatus.RESOLVED)
    await storage.store.commit(Changes(incidents=[resolved, _incident("INC-2")]))
    found = await storage.store.open_incident_for_key("k")
    assert found is not None
    assert found.id == "INC-2"


async def test_uniqueness_is_checked_row_by_row_in_commit_order(storage: Storage) -> None:
    await storage.store.commit(Changes(incidents=[_incident("INC-1")]))
    resolved = _incident("INC-1", status=IncidentStatus.RESOLVED)
    # Opening INC-2 before INC-1 resolves breaks the rule for a moment: refused, as a
    # unique index checks each row when it is written.
    with pytest.raises(ConflictError):
        await storage.store.commit(Changes(incidents=[_incident("INC-2"), resolved]))
    assert await storage.store.get_incident("INC-2") is None
    still = await storage.store.open_incident_for_key("k")
    assert still is not None
    assert still.id == "INC-1"


async def test_an_incident_moved_to_another_key_frees_its_old_key(storage: Storage) -> None:
    await storage.store.commit(Changes(incidents=[_incident("INC-1", "a")]))
    await storage.store.commit(Changes(incidents=[_incident("INC-1", "b")]))
    assert await storage.store.open_incident_for_key("a") is None
    await storage.store.commit(Changes(incidents=[_incident("INC-2", "a")]))
    latest = await storage.store.latest_incident_for_key("b")
    assert latest is not None
    assert latest.id == "INC-1"


async def test_one_ticket_per_incident_and_backend(storage: Storage) -> None:
    await storage.store.commit(Changes(tickets=[_ticket("TKT-1", "INC-1")]))
    with pytest.raises(ConflictError):
        await storage.store.commit(Changes(tickets=[_ticket("TKT-2", "INC-1")]))
    with pytest.raises(ConflictError):  # also two new ones in one commit
        await storage.store.commit(
            Changes(tickets=[_ticket("TKT-3", "INC-2"), _ticket("TKT-4", "INC-2")])
        )
    await storage.store.commit(Changes(tickets=[_ticket("TKT-1", "INC-1", title="new")]))
    await storage.store.commit(
        Changes(tickets=[_ticket("TKT-5", "INC-1", backend="jira")])
    )  # another backend may have its own
    assert [t.id for t in await storage.store.list_tickets()] == ["TKT-5", "TKT-1"]
    found = await storage.store.ticket_for_incident("INC-1", "builtin")
    assert found is not None
    assert found.title == "new"
    assert await storage.store.ticket_for_incident("INC-2", "builtin") is None


async def test_a_failed_commit_publishes_and_acknowledges_nothing(storage: Storage) -> None:
    bus, store = storage.bus, storage.store
    await bus.publish(Stream.ALERTS, ["a"])
    [entry] = await bus.read(Stream.ALERTS, "g", "w", 10)
    await store.commit(Changes(incidents=[_incident("INC-1")]))
    doomed = Changes(
        incidents=[_incident("INC-2")],
        alert_states=[_state("f")],
        publish=[(Stream.INCIDENTS, "event")],
        acks=[Ack(Stream.ALERTS, "g", (entry.id,))],
    )
    with pytest.raises(ConflictError):
        await store.commit(doomed)
    assert await bus.read(Stream.INCIDENTS, "t", "w", 10) == []
    lags = {(lag.stream, lag.group): lag for lag in await bus.backlog()}
    assert lags[Stream.ALERTS, "g"].pending == 1
    assert await store.get_incident("INC-2") is None
    assert await store.alert_states(["f"]) == {}


async def test_a_commit_publishes_and_acknowledges_with_its_state(storage: Storage) -> None:
    bus, store = storage.bus, storage.store
    await bus.publish(Stream.ALERTS, ["a"])
    [entry] = await bus.read(Stream.ALERTS, "g", "w", 10)
    await store.commit(
        Changes(
            alert_states=[_state("f")],
            publish=[(Stream.INCIDENTS, "event")],
            acks=[Ack(Stream.ALERTS, "g", (entry.id,))],
        )
    )
    [published] = await bus.read(Stream.INCIDENTS, "t", "w", 10)
    assert published.body == "event"
    lags = {(lag.stream, lag.group): lag for lag in await bus.backlog()}
    assert (lags[Stream.ALERTS, "g"].unread, lags[Stream.ALERTS, "g"].pending) == (0, 0)
    assert await store.alert_states(["f", "g"]) == {"f": _state("f")}


async def test_a_commit_whose_input_another_consumer_acknowledged_changes_nothing(
    open_storage: StorageFactory,
) -> None:
    storage = await open_storage(claim_idle_s=0)
    bus, store = storage.bus, storage.store
    await bus.publish(Stream.ALERTS, ["a"])
    [slow] = await bus.read(Stream.ALERTS, "g", "slow", 10)
    [fast] = await bus.read(Stream.ALERTS, "g", "fast", 10)  # idle: taken over
    assert fast.id == slow.id
    await store.commit(
        Changes(alert_states=[_state("f")], acks=[Ack(Stream.ALERTS, "g", (fast.id,))])
    )
    late = Changes(
        alert_states=[_state("f", count=2)],
        publish=[(Stream.INCIDENTS, "twice")],
        acks=[Ack(Stream.ALERTS, "g", (slow.id,))],
    )
    with pytest.raises(NotPendingError):
        await store.commit(late)
    assert (await store.alert_states(["f"]))["f"].count == 1
    assert await bus.read(Stream.INCIDENTS, "t", "w", 10) == []


async def test_a_commit_resting_on_a_changed_incident_is_refused(storage: Storage) -> None:
    store = storage.store
    await store.commit(Changes(incidents=[_incident("INC-1")]))
    read = await store.get_incident("INC-1")
    assert read is not None
    other = read.model_copy(update={"title": "changed by another worker", "version": 2})
    await store.commit(Changes(incidents=[other]))
    mine = Changes(incidents=[read.model_copy(update={"title": "mine", "version": 2})])
    mine.expect_incident("INC-1", read)
    with pytest.raises(ConflictError):
        await store.commit(mine)
    found = await store.get_incident("INC-1")
    assert found is not None
    assert found.title == "changed by another worker"


async def test_a_change_that_keeps_the_version_is_still_detected(storage: Storage) -> None:
    # Repeats change members' counts without a new version: the check compares what was
    # read, not the version number, so they are not lost either.
    store = storage.store
    await store.commit(Changes(incidents=[_incident("INC-1")]))
    read = await store.get_incident("INC-1")
    assert read is not None
    await store.commit(Changes(incidents=[read.model_copy(update={"title": "same version"})]))
    mine = Changes(incidents=[read.model_copy(update={"version": 2})])
    mine.expect_incident("INC-1", read)
    with pytest.raises(ConflictError):
        await store.commit(mine)


async def test_expecting_absence_is_refused_once_another_created_it(storage: Storage) -> None:
    store = storage.store
    first = Changes(alert_states=[_state("f")])
    first.expect_alert_state("f", None)
    second = Changes(alert_states=[_state("f", count=7)])
    second.expect_alert_state("f", None)
    await store.commit(first)
    with pytest.raises(ConflictError):
        await store.commit(second)
    assert (await store.alert_states(["f"]))["f"].count == 1
    ticket = Changes(tickets=[_ticket("TKT-1", "INC-1")])
    ticket.expect_ticket("TKT-1", None)
    await store.commit(ticket)
    again = Changes(tickets=[_ticket("TKT-1", "INC-1", title="again")])
    again.expect_ticket("TKT-1", None)
    with pytest.raises(ConflictError):
        await store.commit(again)


async def test_what_was_just_read_is_what_is_expected(storage: Storage) -> None:
    # Everything a model can hold survives storing and reading unchanged, so a commit
    # resting on a fresh read is never refused by mistake.
    member = IncidentAlert(
        fingerprint="f\u00e9\U0001f525", source="alertmanager", source_id='{}:{a="b"}',
        name="Disk|Full", resource="db-1\x00", service="n\u00f3mina", severity=Severity.MINOR,
        status=AlertStatus.FIRING, first_seen=T0 + timedelta(microseconds=7),
        last_seen=T0 + timedelta(seconds=1, microseconds=123456), count=3,
    )  # fmt: skip
    timeline = (TimelineEntry(at=T0, kind="opened", text='l\u00ednea "quoted" \\ \n'),)
    incident = _incident(
        "INC-1", key='group:alertmanager:{}:{alertname="X"}|\x00\u00f1',
        sample=(member,), acknowledged_at=T0, crisis=True, alert_count=1,
        firing_severities={Severity.MINOR: 1}, status=IncidentStatus.ACKNOWLEDGED,
        service="n\u00f3mina",
    )  # fmt: skip
    await storage.store.commit(
        Changes(
            incidents=[incident], alert_states=[_state("f\u00e9")],
            members=[("INC-1", member)], timeline=[("INC-1", e) for e in timeline],
        )
    )  # fmt: skip
    read = await storage.store.get_incident("INC-1")
    assert await storage.store.incident_members("INC-1", [member.fingerprint]) == {
        member.fingerprint: member
    }
    assert await storage.store.timeline_page("INC-1") == (list(timeline), None)
    state = (await storage.store.alert_states(["f\u00e9"]))["f\u00e9"]
    assert read == incident
    change = Changes(
        incidents=[incident.model_copy(update={"version": 2})], alert_states=[_state("f\u00e9", 2)]
    )
    change.expect_incident("INC-1", read)
    change.expect_alert_state("f\u00e9", state)
    await storage.store.commit(change)
    assert await storage.store.open_incident_for_key(incident.key) == incident.model_copy(
        update={"version": 2}
    )


def _entry(n: int) -> TimelineEntry:
    return TimelineEntry(at=T0 + timedelta(seconds=n), kind="joined", text=f"entry {n}")


async def test_an_incidents_alerts_are_keyed_by_fingerprint_and_paged_in_order(
    storage: Storage,
) -> None:
    store = storage.store
    first = [_firing(r) for r in ("a", "b", "c")]
    await store.commit(
        Changes(
            incidents=[_incident("INC-1")], members=[("INC-1", a) for a in first],
            timeline=[("INC-1", _entry(0))],
        )
    )  # fmt: skip
    # One alert resolved, one joined, one timeline entry more: only those rows are written.
    b = first[1].model_copy(update={"status": AlertStatus.RESOLVED})
    await store.commit(
        Changes(
            incidents=[_incident("INC-1", version=2)],
            members=[("INC-1", b), ("INC-1", _firing("d"))], timeline=[("INC-1", _entry(1))],
        )
    )  # fmt: skip
    page, after = await store.members_page("INC-1", 0, 3)
    assert [a.fingerprint for a in page] == ["fp-a", "fp-b", "fp-c"]
    assert page[1].status is AlertStatus.RESOLVED  # changed where it stands
    assert after is not None
    rest, end = await store.members_page("INC-1", after, 3)
    assert ([a.fingerprint for a in rest], end) == (["fp-d"], None)
    assert await store.members_page("INC-1", 0, 4) == ([*page, *rest], None)
    found = await store.incident_members("INC-1", ["fp-d", "fp-x", "fp-a"])
    assert sorted(found) == ["fp-a", "fp-d"]
    assert await store.incident_members("INC-2", ["fp-a"]) == {}
    entries, more = await store.timeline_page("INC-1", 0, 1)
    assert (entries, more is not None) == ([_entry(0)], True)
    assert more is not None
    assert await store.timeline_page("INC-1", more, 1) == ([_entry(1)], None)
    assert await store.timeline_page("INC-2") == ([], None)


async def test_tallies_add_up_and_failing_ones_index_their_resources(storage: Storage) -> None:
    store = storage.store
    await store.commit(
        Changes(
            incidents=[_incident("INC-1", "k1"), _incident("INC-2", "k2")],
            tallies={("INC-1", "failing", "a"): 1, ("INC-1", "failing", "b"): 2,
                     ("INC-2", "failing", "a"): 1, ("INC-1", "resource", "a"): 1},
        )
    )  # fmt: skip
    assert await store.incidents_on_resources(["a", "b", "c"]) == {"a": "INC-1", "b": "INC-1"}
    await store.commit(
        Changes(
            incidents=[_incident("INC-1", "k1", version=2)],
            tallies={("INC-1", "failing", "a"): -1, ("INC-1", "failing", "b"): -1,
                     ("INC-1", "resource", "a"): 2},
        )
    )  # fmt: skip
    assert await store.tallies("INC-1", [("failing", "a"), ("failing", "b"),
                                         ("resource", "a"), ("name", "x")]) == {
        ("failing", "a"): 0, ("failing", "b"): 1, ("resource", "a"): 3,
    }  # fmt: skip
    assert await store.incidents_on_resources(["a", "b"]) == {"a": "INC-2", "b": "INC-1"}
    # A resolved incident holds nothing failing any more.
    resolved = _incident("INC-1", "k1", version=3, status=IncidentStatus.RESOLVED)
    await store.commit(Changes(incidents=[resolved]))
    assert await store.incidents_on_resources(["a", "b"]) == {"a": "INC-2"}


async def test_odd_correlation_keys_stay_apart(storage: Storage) -> None:
    store = storage.store
    keys = ["a", "a\x00", "ab", "a|b", "{x}", "\u00f1", ""]
    await store.commit(Changes(incidents=[_incident(f"INC-{i}", k) for i, k in enumerate(keys)]))
    for i, key in enumerate(keys):
        found = await store.open_incident_for_key(key)
        latest = await store.latest_incident_for_key(key)
        assert found is not None
        assert latest is not None
        assert (found.id, latest.id) == (f"INC-{i}", f"INC-{i}")
    assert await store.open_incident_for_key("b") is None
    assert await store.latest_incident_for_key("a\x01") is None


async def test_latest_incident_for_key_is_the_last_opened(storage: Storage) -> None:
    store = storage.store
    resolved = {"status": IncidentStatus.RESOLVED}
    await store.commit(
        Changes(
            incidents=[
                _incident("INC-1", opened_at=T0 + timedelta(minutes=5), **resolved),
                _incident("INC-2", **resolved),
                _incident("INC-3", **resolved),  # same time as INC-2, written later
                _incident("INC-4", "other", opened_at=T0 + timedelta(hours=1)),
            ]
        )
    )
    latest = await store.latest_incident_for_key("k")
    assert latest is not None
    assert latest.id == "INC-1"
    await store.commit(Changes(incidents=[_incident("INC-1", opened_at=T0, **resolved)]))
    latest = await store.latest_incident_for_key("k")
    assert latest is not None
    assert latest.id == "INC-1"  # opened_at is kept from the first write, as a row's is
    assert await store.open_incident_for_key("k") is None


async def test_incidents_list_newest_first_and_filter(storage: Storage) -> None:
    store = storage.store
    await store.commit(
        Changes(
            incidents=[
                _incident("INC-1", "a", status=IncidentStatus.RESOLVED),
                _incident("INC-2", "b", opened_at=T0 + timedelta(minutes=1), service="mail"),
                _incident("INC-3", "c", priority=Priority.P1),
                _incident("INC-4", "d", opened_at=T0 - timedelta(minutes=1), service="mail"),
            ]
        )
    )
    listed = await store.list_incidents(IncidentFilter())
    assert [i.id for i in listed] == ["INC-2", "INC-3", "INC-1", "INC-4"]
    by_status = await store.list_incidents(IncidentFilter(status=IncidentStatus.OPEN))
    assert [i.id for i in by_status] == ["INC-2", "INC-3", "INC-4"]
    by_priority = await store.list_incidents(IncidentFilter(priority=Priority.P1))
    assert [i.id for i in by_priority] == ["INC-3"]
    by_service = await store.list_incidents(IncidentFilter(service="mail", limit=1))
    assert [i.id for i in by_service] == ["INC-2"]
    assert [i.id for i in await store.list_incidents(IncidentFilter(limit=2))] == [
        "INC-2",
        "INC-3",
    ]


async def test_tickets_newest_first_and_notifications_oldest_first(storage: Storage) -> None:
    store = storage.store
    await store.commit(
        Changes(
            tickets=[
                _ticket("TKT-1", "INC-1"),
                _ticket("TKT-2", "INC-2", created_at=T0 + timedelta(minutes=1)),
                _ticket("TKT-3", "INC-3"),
            ],
            notifications=[_notification("n1", 5), _notification("n2", 0), _notification("n3", 5)],
        )
    )
    assert [t.id for t in await store.list_tickets()] == ["TKT-2", "TKT-3", "TKT-1"]
    assert [t.id for t in await store.list_tickets(limit=1)] == ["TKT-2"]
    assert [n.id for n in await store.list_notifications()] == ["n2", "n1", "n3"]
    # Recorded again (a redelivered event): replaced, and now the latest of its moment.
    await store.commit(Changes(notifications=[_notification("n1", 5)]))
    assert [n.id for n in await store.list_notifications()] == ["n2", "n3", "n1"]
    assert [n.id for n in await store.list_notifications(limit=2)] == ["n2", "n3"]


async def test_dead_letters_are_committed_with_the_changes(storage: Storage) -> None:
    bus, store = storage.bus, storage.store
    await bus.publish(Stream.TICKETS, ["{not json"])
    [entry] = await bus.read(Stream.TICKETS, "notify", "w", 10)
    letter = DeadLetter(Stream.TICKETS, "notify", entry.id, entry.body, "malformed_entry", 1, 1.0)
    await store.commit(Changes(dead_letters=[letter]))
    assert await bus.dead_letters(Stream.TICKETS) == [letter]
    assert [(lag.unread, lag.pending) for lag in await bus.backlog()] == [(0, 0)]
    with pytest.raises(NotPendingError):
        await store.commit(Changes(dead_letters=[letter]))
    assert len(await bus.dead_letters(Stream.TICKETS)) == 1


async def test_every_redis_key_is_under_the_prefix_in_one_cluster_slot(
    settings: Settings, redis_prefix: str
) -> None:
    on_redis = settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": redis_prefix})
    async with Storage(on_redis) as storage:
        bus, store = storage.bus, storage.store
        await bus.publish(Stream.ALERTS, ["a", "b"])
        first, second = await bus.read(Stream.ALERTS, "correlate", "w", 10)
        await bus.dead_letter(Stream.ALERTS, "correlate", [second], "poison")
        incident = _incident(
            await store.next_id("INC"), key="{other}:tag", site="madrid", service="email",
            due_at=T0,
        )  # fmt: skip
        silence = Silence(
            id="SIL-1", match=AlertMatch(), starts_at=T0, ends_at=T0 + timedelta(hours=1),
            created_by="ana", comment="c", created_at=T0,
        )  # fmt: skip
        held = Suppression(
            at=T0, fingerprint="f", source="generic", source_id="x", name="Down", resource="",
            service="", by="silence:SIL-1", reason="r",
        )  # fmt: skip
        await store.commit(
            Changes(
                incidents=[incident], alert_states=[_state("f")],
                members=[(incident.id, _firing("{x}"))], timeline=[(incident.id, _entry(0))],
                tallies={(incident.id, "failing", "{x}"): 1},
                tickets=[_ticket("TKT-1", incident.id)],
                notifications=[_notification("n1", 0)],
                silences=[silence], suppressions=[held], heartbeats={"watchdog": T0},
                publish=[(Stream.INCIDENTS, "e"), (Stream.TICKETS, "t")],
                acks=[Ack(Stream.ALERTS, "correlate", (first.id,))],
            )
        )  # fmt: skip
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{redis_prefix}*", count=1000))
    finally:
        client.close()
    assert len(keys) > 25
    assert all(k.decode().startswith(f"{redis_prefix}:") for k in keys)
    # Redis Cluster hashes only the {tag}: one slot, so one script may touch them all.
    assert len({key_slot(k) for k in keys}) == 1


async def test_tickets_fall_due_in_time_order_and_leave_when_untimed(storage: Storage) -> None:
    store = storage.store
    minute = T0 + timedelta(minutes=1)
    await store.commit(
        Changes(
            tickets=[
                _ticket("TKT-2", "INC-2", due_at=minute),
                _ticket("TKT-1", "INC-1", due_at=minute),
                _ticket("TKT-3", "INC-3", due_at=T0),
                _ticket("TKT-4", "INC-4"),
            ]
        )
    )
    assert [t.id for t in await store.tickets_due(minute)] == ["TKT-3", "TKT-2", "TKT-1"]
    assert [t.id for t in await store.tickets_due(T0)] == ["TKT-3"]
    assert await store.tickets_due(T0 - timedelta(microseconds=1)) == []
    later = _ticket("TKT-2", "INC-2", due_at=T0 + timedelta(hours=1), title="later")
    await store.commit(Changes(tickets=[later, _ticket("TKT-3", "INC-3")]))
    assert [t.id for t in await store.tickets_due(minute)] == ["TKT-1"]
    due = await store.tickets_due(T0 + timedelta(hours=1))
    assert [(t.id, t.title) for t in due] == [("TKT-1", "t"), ("TKT-2", "later")]
    assert len(await store.list_tickets()) == 4
