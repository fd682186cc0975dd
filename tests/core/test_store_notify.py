"""The notify stage's state and the delivery outbox, on both backends: what is due, what is
pending, and expectations that keep two workers from sending one message twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.models import DeliveryAttempt, Notification, NotifyState
from core.storage import Storage
from core.store import Changes, ConflictError
from tests.conftest import T0


def _pending(notification_id: str, due_in_s: float = 0) -> Notification:
    return Notification(
        id=notification_id, at=T0, channel="mail", kind="opened", incident_id="INC-1",
        text="Opened\nbody", delivered=False, attempts=0,
        next_attempt_at=T0 + timedelta(seconds=due_in_s),
    )  # fmt: skip


async def test_the_outbox_holds_pending_notifications_by_their_next_attempt(
    storage: Storage,
) -> None:
    store = storage.store
    changes = Changes()
    for n in (_pending("b", 10), _pending("a", 10), _pending("c", 30), _pending("d", 0)):
        changes.put_notification(n)
    await store.commit(changes)
    assert [n.id for n in await store.notifications_to_send(T0)] == ["d"]
    due = await store.notifications_to_send(T0 + timedelta(seconds=10))
    assert [n.id for n in due] == ["d", "a", "b"]
    assert [n.id for n in await store.notifications_to_send(T0 + timedelta(hours=1), 2)] == [
        "d",
        "a",
    ]


async def test_a_settled_notification_leaves_the_outbox_and_keeps_its_attempts(
    storage: Storage,
) -> None:
    store = storage.store
    await store.commit(Changes(notifications=[_pending("a"), _pending("b")]))
    attempt = DeliveryAttempt(at=T0, ok=True, detail="HTTP 200")
    done = _pending("a").model_copy(
        update={"delivered": True, "attempts": 1, "next_attempt_at": None,
                "attempt_log": (attempt,)}
    )  # fmt: skip
    await store.commit(Changes(notifications=[done]))
    assert [n.id for n in await store.notifications_to_send(T0 + timedelta(days=1))] == ["b"]
    assert await store.get_notification("a") == done
    assert [n.id for n in await store.list_notifications()] == ["b", "a"]


async def test_a_lease_taken_by_another_worker_is_refused(storage: Storage) -> None:
    store = storage.store
    read = _pending("a")
    await store.commit(Changes(notifications=[read]))
    mine, theirs = Changes(), Changes()
    for changes, lease_s in ((mine, 30), (theirs, 31)):
        changes.expect_notification("a", read)
        changes.put_notification(read.model_copy(
            update={"next_attempt_at": T0 + timedelta(seconds=lease_s)}))  # fmt: skip
    await store.commit(mine)
    with pytest.raises(ConflictError):
        await store.commit(theirs)
    [stored] = await store.notifications_to_send(T0 + timedelta(seconds=60))
    assert stored.next_attempt_at == T0 + timedelta(seconds=30)


async def test_notify_states_fall_due_by_their_earliest_timer(storage: Storage) -> None:
    store = storage.store
    states = [
        NotifyState(incident_id="INC-1", escalate_at=T0 + timedelta(minutes=15),
                    crisis_update_at=T0 + timedelta(minutes=5)),
        NotifyState(incident_id="INC-2", escalate_at=T0 + timedelta(minutes=10)),
        NotifyState(incident_id="INC-3"),
    ]  # fmt: skip
    await store.commit(Changes(notify_states=states))
    assert await store.notify_states_due(T0) == []
    due = await store.notify_states_due(T0 + timedelta(minutes=10))
    assert [s.incident_id for s in due] == ["INC-1", "INC-2"]
    # Its timers stopped: it is due no more, and is still there to read.
    stopped = states[0].model_copy(update={"escalate_at": None, "crisis_update_at": None})
    await store.commit(Changes(notify_states=[stopped]))
    due = await store.notify_states_due(T0 + timedelta(days=1))
    assert [s.incident_id for s in due] == ["INC-2"]
    assert await store.get_notify_state("INC-1") == stopped
    assert await store.get_notify_state("INC-9") is None


async def test_a_notify_state_changed_since_it_was_read_is_refused(storage: Storage) -> None:
    store = storage.store
    first = NotifyState(incident_id="INC-1", incident_version=1)
    late = Changes()
    late.expect_notify_state("INC-1", None)
    late.put_notify_state(first)
    await store.commit(Changes(notify_states=[first.model_copy(update={"incident_version": 2})]))
    with pytest.raises(ConflictError):
        await store.commit(late)
    assert (await store.get_notify_state("INC-1")) == first.model_copy(
        update={"incident_version": 2}
    )
