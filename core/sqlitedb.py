"""The embedded database: one SQLite file in WAL mode holding streams and state.

Calls run on the event loop's thread. In WAL mode with synchronous=NORMAL a commit
is a write to the OS page cache and takes microseconds, less than a hop to a worker
thread would; it survives the process being killed. synchronous=FULL adds an fsync
per commit and also survives losing power. synchronous=OFF never waits for the disk, not
even at checkpoints: for data thrown away afterwards (a replay's), where a storm's writes
would otherwise leave it waiting on the disk half the time.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

Synchronous = Literal["NORMAL", "FULL", "OFF"]
SCHEMA_VERSION = 5
"""Version of the data file's tables; a file of another version is refused, never guessed."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    body TEXT NOT NULL,
    published_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_stream ON entries (stream, seq);
CREATE TABLE IF NOT EXISTS groups (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (stream, grp)
);
CREATE TABLE IF NOT EXISTS pending (
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    seq INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    delivered_at REAL NOT NULL,
    deliveries INTEGER NOT NULL,
    PRIMARY KEY (stream, grp, seq)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    grp TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    body TEXT NOT NULL,
    reason TEXT NOT NULL,
    deliveries INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS dead_letters_by_stream ON dead_letters (stream, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    service TEXT NOT NULL,
    down_site TEXT NOT NULL DEFAULT '',  -- Incident.down_site
    title_name TEXT NOT NULL DEFAULT '',  -- Incident.title_name
    opened_at TEXT NOT NULL,
    due_at TEXT,
    body TEXT NOT NULL  -- its header (core.models.Incident)
);
-- An incident's alerts, keyed by fingerprint; rowid is the order they joined in.
CREATE TABLE IF NOT EXISTS incident_members (
    incident_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (incident_id, fingerprint)
);
-- An index on incident_id alone keeps each incident's rows in rowid order, for paging.
CREATE INDEX IF NOT EXISTS incident_members_in_order ON incident_members (incident_id);
CREATE TABLE IF NOT EXISTS incident_timeline (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incident_timeline_in_order ON incident_timeline (incident_id, seq);
-- Counts kept as an incident's alerts change (core.store.Changes.tallies): distinct
-- resources and names, and the resources failing in it (topology's lookup).
CREATE TABLE IF NOT EXISTS incident_tallies (
    incident_id TEXT NOT NULL,
    dim TEXT NOT NULL,
    value TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (incident_id, dim, value)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS failing_resources ON incident_tallies (value, incident_id)
    WHERE dim = 'failing' AND n > 0;
-- One open incident per correlation key, enforced by the database itself.
CREATE UNIQUE INDEX IF NOT EXISTS one_open_incident_per_key
    ON incidents (key) WHERE status != 'resolved';
CREATE INDEX IF NOT EXISTS incidents_by_key ON incidents (key, opened_at);
-- Recurrences (the same service and alert name) and services down per site, found without
-- reading every incident.
CREATE INDEX IF NOT EXISTS incidents_by_service_and_name
    ON incidents (service, title_name, opened_at);
CREATE INDEX IF NOT EXISTS incidents_down_site ON incidents (down_site, service)
    WHERE down_site != '';
CREATE TABLE IF NOT EXISTS alert_states (fingerprint TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    backend TEXT NOT NULL,
    created_at TEXT NOT NULL,
    due_at TEXT,
    body TEXT NOT NULL,
    -- One ticket per incident and backend, whatever is retried.
    UNIQUE (incident_id, backend)
);
CREATE INDEX IF NOT EXISTS tickets_due ON tickets (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS incidents_due ON incidents (due_at) WHERE due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS silences (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS suppressions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS heartbeats (name TEXT PRIMARY KEY, last_seen TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    body TEXT NOT NULL
);
-- Alerts received per hour, source and name, and what became of them: the daily report's.
CREATE TABLE IF NOT EXISTS alert_volumes (
    hour TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    received INTEGER NOT NULL,
    deduplicated INTEGER NOT NULL,
    suppressed INTEGER NOT NULL,
    PRIMARY KEY (hour, source, name)
);
CREATE TABLE IF NOT EXISTS markers (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- The delivery outbox: pending notifications by their next attempt.
CREATE TABLE IF NOT EXISTS notification_outbox (
    id TEXT PRIMARY KEY,
    due_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notification_outbox_by_due ON notification_outbox (due_at, id);
CREATE TABLE IF NOT EXISTS notify_states (
    incident_id TEXT PRIMARY KEY,
    due_at TEXT,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notify_states_due ON notify_states (due_at) WHERE due_at IS NOT NULL;
"""


class SqliteDatabase:
    """Owns the connection to the data file; opened and closed by its owner only."""

    def __init__(self, path: Path, synchronous: Synchronous = "NORMAL") -> None:
        self.path = path
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None

    def open(self) -> None:
        """Open (creating) the file, set WAL mode and create the schema."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={self._synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        (version,) = conn.execute("PRAGMA user_version").fetchone()
        if (
            version == 0
            and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'incidents'"
            ).fetchone()
        ):
            version = 1  # written before the format was versioned
        if version not in (0, SCHEMA_VERSION):
            conn.close()
            raise RuntimeError(
                f"{self.path} was written by an older Sereno (data format {version}, this one "
                f"reads {SCHEMA_VERSION}); move it aside to start afresh"
            )
        conn.executescript(_SCHEMA)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
