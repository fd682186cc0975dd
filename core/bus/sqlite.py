"""The embedded bus: streams as rows of the SQLite data file.

Mirrors Redis Streams consumer groups: a group remembers the last entry it read and
which entries are pending for which consumer. The functions taking a connection are
used by the store's commit too, so publishing and acknowledging join its transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Sequence

from core.bus import Backlog, DeadLetter, Entry, NotPendingError, Stream
from core.errors import StorageUnavailableError
from core.metrics import BusMetrics
from core.sqlitedb import SqliteDatabase


def append(conn: sqlite3.Connection, stream: Stream, bodies: Sequence[str]) -> list[str]:
    """Insert entries inside the caller's transaction; returns their ids."""
    now = time.time()
    ids = []
    for body in bodies:
        cur = conn.execute(
            "INSERT INTO entries (stream, body, published_at) VALUES (?, ?, ?)",
            (stream.value, body, now),
        )
        ids.append(str(cur.lastrowid))
    return ids


def acknowledge(
    conn: sqlite3.Connection,
    stream: Stream,
    group: str,
    ids: Sequence[str],
    *,
    strict: bool = False,
) -> None:
    """Drop entries from the group's pending list inside the caller's transaction.

    With `strict`, raise NotPendingError when one of them is not pending any more: the
    caller's transaction then rolls back, so an effect is never committed twice."""
    cur = conn.executemany(
        "DELETE FROM pending WHERE stream = ? AND grp = ? AND seq = ?",
        [(stream.value, group, int(i)) for i in ids],
    )
    if strict and cur.rowcount != len(set(ids)):
        raise NotPendingError(f"{stream.value}/{group}: some of {len(ids)} entries not pending")


def bury(conn: sqlite3.Connection, letters: Sequence[DeadLetter], *, strict: bool = False) -> int:
    """Move pending entries to the dead letters, acknowledging them, inside the caller's
    transaction; returns how many moved. An entry no longer pending is left alone, or
    with `strict` raises NotPendingError."""
    moved = 0
    for letter in letters:
        cur = conn.execute(
            "DELETE FROM pending WHERE stream = ? AND grp = ? AND seq = ?",
            (letter.stream.value, letter.group, int(letter.entry_id)),
        )
        if cur.rowcount == 0:
            if strict:
                raise NotPendingError(f"{letter.stream.value}/{letter.group} {letter.entry_id}")
            continue
        conn.execute(
            "INSERT INTO dead_letters (stream, grp, entry_id, body, reason, deliveries, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (letter.stream.value, letter.group, letter.entry_id, letter.body, letter.reason,
             letter.deliveries, letter.at),
        )  # fmt: skip
        moved += 1
    return moved


class SqliteBus:
    """`Bus` on the embedded database, for one process running every stage."""

    def __init__(
        self, db: SqliteDatabase, claim_idle_s: float = 60.0, metrics: BusMetrics | None = None
    ) -> None:
        self._db = db
        self._claim_idle_s = claim_idle_s
        self._metrics = metrics
        self._signals: dict[Stream, asyncio.Event] = {}
        self._recovered: set[tuple[Stream, str, str]] = set()

    def notify(self, stream: Stream) -> None:
        """Wake consumers waiting on `stream`; called after any commit that published to it."""
        self._signal(stream).set()

    def _signal(self, stream: Stream) -> asyncio.Event:
        if stream not in self._signals:
            self._signals[stream] = asyncio.Event()
        return self._signals[stream]

    async def publish(self, stream: Stream, bodies: Sequence[str]) -> list[str]:
        try:
            with self._db.transaction() as conn:
                ids = append(conn, stream, bodies)
        except sqlite3.OperationalError as e:  # disk full, locked past the busy timeout
            raise StorageUnavailableError(str(e)) from e
        self.notify(stream)
        return ids

    async def read(self, stream: Stream, group: str, consumer: str, count: int) -> list[Entry]:
        now = time.time()
        if (stream, group, consumer) in self._recovered and not self._anything_to_read(
            stream, group, now
        ):
            # Most polls find nothing: answering them without a write transaction keeps
            # idle stages (and replay's many small drains) cheap.
            return []
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO groups (stream, grp, last_seq) VALUES (?, ?, 0)",
                (stream.value, group),
            )
            # A consumer starting under its old name first takes back what it held when
            # it died; anyone takes entries another consumer has held too long.
            first_read = (stream, group, consumer) not in self._recovered
            rows = conn.execute(
                "SELECT p.seq, e.body, e.published_at, p.deliveries, p.consumer = ?"
                " FROM pending p JOIN entries e ON e.seq = p.seq"
                " WHERE p.stream = ? AND p.grp = ?"
                " AND (p.delivered_at < ? OR (? AND p.consumer = ?))"
                " ORDER BY p.seq LIMIT ?",
                (consumer, stream.value, group, now - self._claim_idle_s, first_read, consumer,
                 count),
            ).fetchall()  # fmt: skip
            own = sum(1 for *_, mine in rows if mine)
            if len(rows) < count:
                # Everything it held is back in hand; later reads take only what is idle.
                self._recovered.add((stream, group, consumer))
            entries = [
                Entry(stream, str(seq), body, published, deliveries + 1)
                for seq, body, published, deliveries, _ in rows
            ]
            conn.executemany(
                "UPDATE pending SET consumer = ?, delivered_at = ?, deliveries = deliveries + 1"
                " WHERE stream = ? AND grp = ? AND seq = ?",
                [(consumer, now, stream.value, group, int(e.id)) for e in entries],
            )
            if len(entries) < count:
                entries += self._read_new(conn, stream, group, consumer, count - len(entries), now)
        reclaimed = len(rows) - (own if first_read else 0)
        if self._metrics is not None and reclaimed:
            self._metrics.reclaimed.labels(stream.value, group).inc(reclaimed)
        return entries

    def _anything_to_read(self, stream: Stream, group: str, now: float) -> bool:
        """Whether `group` has unread entries, or pending ones idle long enough to reclaim."""
        (found,) = self._db.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE stream = ? AND seq >"
            " COALESCE((SELECT last_seq FROM groups WHERE stream = ? AND grp = ?), 0))"
            " OR EXISTS (SELECT 1 FROM pending WHERE stream = ? AND grp = ? AND delivered_at < ?)",
            (stream.value, stream.value, group, stream.value, group, now - self._claim_idle_s),
        ).fetchone()
        return bool(found)

    def _read_new(
        self,
        conn: sqlite3.Connection,
        stream: Stream,
        group: str,
        consumer: str,
        count: int,
        now: float,
    ) -> list[Entry]:
        (last_seq,) = conn.execute(
            "SELECT last_seq FROM groups WHERE stream = ? AND grp = ?", (stream.value, group)
        ).fetchone()
        rows = conn.execute(
            "SELECT seq, body, published_at FROM entries WHERE stream = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (stream.value, last_seq, count),
        ).fetchall()
        if not rows:
            return []
        conn.executemany(
            "INSERT INTO pending (stream, grp, seq, consumer, delivered_at, deliveries)"
            " VALUES (?, ?, ?, ?, ?, 1)",
            [(stream.value, group, seq, consumer, now) for seq, _, _ in rows],
        )
        conn.execute(
            "UPDATE groups SET last_seq = ? WHERE stream = ? AND grp = ?",
            (rows[-1][0], stream.value, group),
        )
        return [Entry(stream, str(seq), body, published, 1) for seq, body, published in rows]

    async def ack(self, stream: Stream, group: str, ids: Sequence[str]) -> None:
        with self._db.transaction() as conn:
            acknowledge(conn, stream, group, ids)

    async def wait(self, stream: Stream, at_most_s: float) -> None:
        signal = self._signal(stream)
        try:
            await asyncio.wait_for(signal.wait(), at_most_s)
        except TimeoutError:
            return
        signal.clear()

    async def backlog(self) -> list[Backlog]:
        conn = self._db.conn
        rows = conn.execute(
            "SELECT g.stream, g.grp,"
            " (SELECT COUNT(*) FROM entries e WHERE e.stream = g.stream AND e.seq > g.last_seq),"
            " (SELECT COUNT(*) FROM pending p WHERE p.stream = g.stream AND p.grp = g.grp)"
            " FROM groups g ORDER BY g.stream, g.grp"
        ).fetchall()
        return [Backlog(Stream(s), g, unread, pending) for s, g, unread, pending in rows]

    async def redeliver(self, stream: Stream, group: str, consumer: str) -> None:
        self._recovered.discard((stream, group, consumer))

    async def dead_letter(
        self, stream: Stream, group: str, entries: Sequence[Entry], reason: str
    ) -> int:
        now = time.time()
        letters = [
            DeadLetter(stream, group, e.id, e.body, reason, e.deliveries, now) for e in entries
        ]
        with self._db.transaction() as conn:
            return bury(conn, letters)

    async def dead_letters(self, stream: Stream, limit: int = 1000) -> list[DeadLetter]:
        rows = self._db.conn.execute(
            "SELECT grp, entry_id, body, reason, deliveries, at FROM dead_letters"
            " WHERE stream = ? ORDER BY seq LIMIT ?",
            (stream.value, limit),
        ).fetchall()
        return [DeadLetter(stream, *row) for row in rows]

    async def trim(self, stream: Stream) -> int:
        with self._db.transaction() as conn:
            # Per group, the first entry it may still need: its oldest pending entry, or
            # the one after the last it read. Below the lowest of these, nobody needs any.
            (floor,) = conn.execute(
                "SELECT MIN(COALESCE("
                " (SELECT MIN(p.seq) FROM pending p WHERE p.stream = g.stream AND p.grp = g.grp),"
                " g.last_seq + 1)) FROM groups g WHERE g.stream = ?",
                (stream.value,),
            ).fetchone()
            if floor is None:  # no group yet: every entry is still unread by someone to come
                return 0
            cur = conn.execute(
                "DELETE FROM entries WHERE stream = ? AND seq < ?", (stream.value, floor)
            )
            return cur.rowcount
