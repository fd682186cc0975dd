"""The embedded bus against a real SQLite file: durability, groups, redelivery."""

from __future__ import annotations

from pathlib import Path

from core.bus import Stream
from core.bus.sqlite import SqliteBus
from core.sqlitedb import SqliteDatabase


def _open(path: Path) -> tuple[SqliteDatabase, SqliteBus]:
    db = SqliteDatabase(path)
    db.open()
    return db, SqliteBus(db, claim_idle_s=3600)


async def test_published_entries_survive_reopening(tmp_path: Path) -> None:
    db, bus = _open(tmp_path / "s.db")
    ids = await bus.publish(Stream.ALERTS, ["a", "b"])
    db.close()
    db, bus = _open(tmp_path / "s.db")
    entries = await bus.read(Stream.ALERTS, "correlate", "c-1", 10)
    assert [e.id for e in entries] == ids
    assert [e.body for e in entries] == ["a", "b"]
    db.close()


async def test_each_group_reads_every_entry_once(tmp_path: Path) -> None:
    db, bus = _open(tmp_path / "s.db")
    await bus.publish(Stream.ALERTS, ["a", "b", "c"])
    first = await bus.read(Stream.ALERTS, "g1", "c-1", 2)
    second = await bus.read(Stream.ALERTS, "g1", "c-1", 10)
    other = await bus.read(Stream.ALERTS, "g2", "c-1", 10)
    assert [e.body for e in first] == ["a", "b"]
    assert [e.body for e in second] == ["c"]
    assert [e.body for e in other] == ["a", "b", "c"]
    assert await bus.read(Stream.ALERTS, "g1", "c-1", 10) == []
    db.close()


async def test_unacknowledged_entries_come_back_after_a_crash(tmp_path: Path) -> None:
    db, bus = _open(tmp_path / "s.db")
    await bus.publish(Stream.ALERTS, ["a", "b", "c"])
    batch = await bus.read(Stream.ALERTS, "g", "worker-1", 10)
    await bus.ack(Stream.ALERTS, "g", [batch[0].id])
    db.close()  # the process dies before acknowledging b and c

    db, bus = _open(tmp_path / "s.db")
    again = await bus.read(Stream.ALERTS, "g", "worker-1", 10)
    assert [e.body for e in again] == ["b", "c"]
    assert all(e.deliveries == 2 for e in again)
    # Once taken back, they are not handed out twice in the same life.
    assert await bus.read(Stream.ALERTS, "g", "worker-1", 10) == []
    db.close()


async def test_idle_pending_entries_are_reclaimed_by_another_consumer(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "s.db")
    db.open()
    bus = SqliteBus(db, claim_idle_s=0)
    await bus.publish(Stream.ALERTS, ["a"])
    await bus.read(Stream.ALERTS, "g", "worker-1", 10)
    taken = await bus.read(Stream.ALERTS, "g", "worker-2", 10)
    assert [e.body for e in taken] == ["a"]
    db.close()


async def test_backlog_counts_unread_and_pending(tmp_path: Path) -> None:
    db, bus = _open(tmp_path / "s.db")
    await bus.publish(Stream.ALERTS, ["a", "b", "c"])
    await bus.read(Stream.ALERTS, "g", "w", 1)
    [lag] = await bus.backlog()
    assert (lag.stream, lag.group, lag.unread, lag.pending) == (Stream.ALERTS, "g", 2, 1)
    db.close()
