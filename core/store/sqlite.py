"""The embedded store: state as JSON documents in the SQLite data file, beside the streams."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

from core.bus import Stream
from core.bus.sqlite import SqliteBus, acknowledge, append, bury
from core.matchers import Silence
from core.models import (
    AlertState,
    AlertVolume,
    Incident,
    IncidentAlert,
    Notification,
    NotifyState,
    Suppression,
    Ticket,
    TimelineEntry,
)
from core.sqlitedb import SqliteDatabase
from core.store import (
    ALERT_STATE,
    INCIDENT,
    NOTIFICATION,
    NOTIFY_STATE,
    TICKET,
    Changes,
    ConflictError,
    IncidentFilter,
)

_EXPECTED_BODY = {
    INCIDENT: "SELECT body FROM incidents WHERE id = ?",
    ALERT_STATE: "SELECT body FROM alert_states WHERE fingerprint = ?",
    TICKET: "SELECT body FROM tickets WHERE id = ?",
    NOTIFICATION: "SELECT body FROM notifications WHERE id = ?",
    NOTIFY_STATE: "SELECT body FROM notify_states WHERE incident_id = ?",
}


class SqliteStore:
    """`Store` on the embedded database. Commits publish through `bus` in one transaction."""

    def __init__(self, db: SqliteDatabase, bus: SqliteBus) -> None:
        self._db = db
        self._bus = bus

    async def next_id(self, prefix: str) -> str:
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (prefix,),
            )
            (value,) = conn.execute(
                "SELECT value FROM counters WHERE name = ?", (prefix,)
            ).fetchone()
        return f"{prefix}-{value}"

    async def commit(self, changes: Changes) -> None:
        try:
            with self._db.transaction() as conn:
                self._write(conn, changes)
        except sqlite3.IntegrityError as e:
            raise ConflictError(str(e)) from e
        for stream in {stream for stream, _ in changes.publish}:
            self._bus.notify(stream)

    @staticmethod
    def _check(conn: sqlite3.Connection, changes: Changes) -> None:
        """Refuse a commit resting on state that has changed since its stage read it."""
        for (kind, key), read in changes.expected.items():
            row = conn.execute(_EXPECTED_BODY[kind], (key,)).fetchone()
            if (None if row is None else row[0]) != read:
                raise ConflictError(f"{kind} {key} changed since it was read")

    @classmethod
    def _write(cls, conn: sqlite3.Connection, changes: Changes) -> None:
        cls._check(conn, changes)
        conn.executemany(
            "INSERT INTO incidents"
            " (id, key, status, priority, service, down_site, title_name, opened_at, due_at,"
            " body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " key = excluded.key, status = excluded.status, priority = excluded.priority,"
            " service = excluded.service, down_site = excluded.down_site,"
            " title_name = excluded.title_name, due_at = excluded.due_at, body = excluded.body",
            [
                (i.id, i.key, i.status.value, i.priority.value, i.service, i.down_site,
                 i.title_name, i.opened_at.isoformat(),
                 i.due_at.isoformat() if i.due_at else None, i.model_dump_json())
                for i in changes.incidents
            ],
        )  # fmt: skip
        conn.executemany(
            "INSERT INTO incident_members (incident_id, fingerprint, body) VALUES (?, ?, ?)"
            " ON CONFLICT (incident_id, fingerprint) DO UPDATE SET body = excluded.body",
            [(i, a.fingerprint, a.model_dump_json()) for i, a in changes.members],
        )
        conn.executemany(
            "INSERT INTO incident_timeline (incident_id, body) VALUES (?, ?)",
            [(i, e.model_dump_json()) for i, e in changes.timeline],
        )
        conn.executemany(
            "INSERT INTO incident_tallies (incident_id, dim, value, n) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (incident_id, dim, value) DO UPDATE SET n = n + excluded.n",
            [(i, dim, value, n) for (i, dim, value), n in changes.tallies.items() if n],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO silences (id, created_at, body) VALUES (?, ?, ?)",
            [(s.id, s.created_at.isoformat(), s.model_dump_json()) for s in changes.silences],
        )
        conn.executemany(
            "INSERT INTO suppressions (at, body) VALUES (?, ?)",
            [(s.at.isoformat(), s.model_dump_json()) for s in changes.suppressions],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO heartbeats (name, last_seen) VALUES (?, ?)",
            [(name, at.isoformat()) for name, at in changes.heartbeats.items()],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO alert_states (fingerprint, body) VALUES (?, ?)",
            [(s.fingerprint, s.model_dump_json()) for s in changes.alert_states],
        )
        conn.executemany(
            "INSERT INTO tickets (id, incident_id, backend, created_at, due_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " due_at = excluded.due_at, body = excluded.body",
            [
                (
                    t.id,
                    t.incident_id,
                    t.backend,
                    t.created_at.isoformat(),
                    t.due_at.isoformat() if t.due_at else None,
                    t.model_dump_json(),
                )
                for t in changes.tickets
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO notifications (id, at, incident_id, body) VALUES (?, ?, ?, ?)",
            [
                (n.id, n.at.isoformat(), n.incident_id, n.model_dump_json())
                for n in changes.notifications
            ],
        )
        conn.executemany(
            "INSERT INTO alert_volumes"
            " (hour, source, name, received, deduplicated, suppressed) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (hour, source, name) DO UPDATE SET"
            " received = received + excluded.received,"
            " deduplicated = deduplicated + excluded.deduplicated,"
            " suppressed = suppressed + excluded.suppressed",
            [
                (v.hour.isoformat(), v.source, v.name, v.received, v.deduplicated, v.suppressed)
                for v in changes.alert_volumes
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO markers (name, value) VALUES (?, ?)",
            list(changes.markers.items()),
        )
        conn.executemany(
            "DELETE FROM notification_outbox WHERE id = ?",
            [(n.id,) for n in changes.notifications if n.next_attempt_at is None],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO notification_outbox (id, due_at) VALUES (?, ?)",
            [
                (n.id, n.next_attempt_at.isoformat())
                for n in changes.notifications
                if n.next_attempt_at is not None
            ],
        )
        conn.executemany(
            "INSERT OR REPLACE INTO notify_states (incident_id, due_at, body) VALUES (?, ?, ?)",
            [
                (s.incident_id, s.due_at.isoformat() if s.due_at else None, s.model_dump_json())
                for s in changes.notify_states
            ],
        )
        by_stream: dict[Stream, list[str]] = {}
        for stream, body in changes.publish:
            by_stream.setdefault(stream, []).append(body)
        for stream, bodies in by_stream.items():
            append(conn, stream, bodies)
        bury(conn, changes.dead_letters, strict=True)
        for ack in changes.acks:
            acknowledge(conn, ack.stream, ack.group, ack.ids, strict=True)

    def _one(self, sql: str, args: Sequence[object]) -> str | None:
        row = self._db.conn.execute(sql, args).fetchone()
        return None if row is None else str(row[0])

    def _first(self, sql: str, args: Sequence[object]) -> Incident | None:
        body = self._one(sql, args)
        return None if body is None else Incident.model_validate_json(body)

    @staticmethod
    def _all(rows: list[tuple[str]]) -> list[Incident]:
        return [Incident.model_validate_json(body) for (body,) in rows]

    async def get_incident(self, incident_id: str) -> Incident | None:
        return self._first("SELECT body FROM incidents WHERE id = ?", (incident_id,))

    async def incident_members(
        self, incident_id: str, fingerprints: Sequence[str]
    ) -> dict[str, IncidentAlert]:
        found: dict[str, IncidentAlert] = {}
        unique = list(dict.fromkeys(fingerprints))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.conn.execute(
                "SELECT body FROM incident_members"  # noqa: S608 - placeholders only
                f" WHERE incident_id = ? AND fingerprint IN ({marks})",
                (incident_id, *chunk),
            ).fetchall()
            for (body,) in rows:
                alert = IncidentAlert.model_validate_json(body)
                found[alert.fingerprint] = alert
        return found

    async def members_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[IncidentAlert], int | None]:
        rows = self._db.conn.execute(
            "SELECT rowid, body FROM incident_members WHERE incident_id = ? AND rowid > ?"
            " ORDER BY rowid LIMIT ?",
            (incident_id, after, limit + 1),
        ).fetchall()
        page = [IncidentAlert.model_validate_json(body) for _, body in rows[:limit]]
        return page, (rows[limit - 1][0] if len(rows) > limit else None)

    async def timeline_page(
        self, incident_id: str, after: int = 0, limit: int = 500
    ) -> tuple[list[TimelineEntry], int | None]:
        rows = self._db.conn.execute(
            "SELECT seq, body FROM incident_timeline WHERE incident_id = ? AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (incident_id, after, limit + 1),
        ).fetchall()
        page = [TimelineEntry.model_validate_json(body) for _, body in rows[:limit]]
        return page, (rows[limit - 1][0] if len(rows) > limit else None)

    async def tallies(
        self, incident_id: str, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        by_dim: dict[str, list[str]] = {}
        for dim, value in dict.fromkeys(keys):
            by_dim.setdefault(dim, []).append(value)
        for dim, values in by_dim.items():
            for start in range(0, len(values), 500):
                chunk = values[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.conn.execute(
                    "SELECT value, n FROM incident_tallies"  # noqa: S608 - placeholders only
                    f" WHERE incident_id = ? AND dim = ? AND value IN ({marks})",
                    (incident_id, dim, *chunk),
                ).fetchall()
                found.update(((dim, value), n) for value, n in rows)
        return found

    async def open_incident_for_key(self, key: str) -> Incident | None:
        return self._first(
            "SELECT body FROM incidents WHERE key = ? AND status != 'resolved'", (key,)
        )

    async def latest_incident_for_key(self, key: str) -> Incident | None:
        return self._first(
            "SELECT body FROM incidents WHERE key = ? ORDER BY opened_at DESC, rowid DESC LIMIT 1",
            (key,),
        )

    async def list_incidents(self, where: IncidentFilter) -> list[Incident]:
        clauses, args = ["1 = 1"], []
        if where.status is not None:
            clauses.append("status = ?")
            args.append(where.status.value)
        if where.priority is not None:
            clauses.append("priority = ?")
            args.append(where.priority.value)
        if where.service is not None:
            clauses.append("service = ?")
            args.append(where.service)
        if where.name is not None:
            clauses.append("title_name = ?")
            args.append(where.name)
        if where.open_only:
            clauses.append("status != 'resolved'")
        if where.opened_since is not None:
            clauses.append("opened_at >= ?")
            args.append(where.opened_since.isoformat())
        rows = self._db.conn.execute(
            f"SELECT body FROM incidents WHERE {' AND '.join(clauses)}"  # noqa: S608 - clauses are fixed strings
            " ORDER BY opened_at DESC, rowid DESC LIMIT ?",
            (*args, where.limit),
        ).fetchall()
        return self._all(rows)

    async def alert_states(self, fingerprints: Sequence[str]) -> dict[str, AlertState]:
        states: dict[str, AlertState] = {}
        unique = list(dict.fromkeys(fingerprints))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.conn.execute(
                f"SELECT body FROM alert_states WHERE fingerprint IN ({marks})",  # noqa: S608 - placeholders only
                chunk,
            ).fetchall()
            for (body,) in rows:
                state = AlertState.model_validate_json(body)
                states[state.fingerprint] = state
        return states

    async def incidents_on_resources(self, resources: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(resources))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.conn.execute(
                "SELECT t.value, t.incident_id FROM incident_tallies t"  # noqa: S608 - placeholders only
                " JOIN incidents i ON i.id = t.incident_id"
                f" WHERE t.dim = 'failing' AND t.n > 0 AND t.value IN ({marks})"
                " AND i.status != 'resolved' ORDER BY t.incident_id",
                chunk,
            ).fetchall()
            for resource, incident_id in rows:
                found.setdefault(resource, incident_id)
        return found

    async def open_services_by_site(self) -> dict[str, set[str]]:
        rows = self._db.conn.execute(
            "SELECT DISTINCT down_site, service FROM incidents WHERE down_site != ''"
        ).fetchall()
        found: dict[str, set[str]] = {}
        for site, service in rows:
            found.setdefault(site, set()).add(service)
        return found

    async def incidents_due(self, now: datetime) -> list[Incident]:
        rows = self._db.conn.execute(
            "SELECT body FROM incidents WHERE due_at IS NOT NULL AND due_at <= ?"
            " AND status != 'resolved' ORDER BY due_at, rowid",
            (now.isoformat(),),
        ).fetchall()
        return self._all(rows)

    async def list_silences(self, limit: int = 1000) -> list[Silence]:
        rows = self._db.conn.execute(
            "SELECT body FROM silences ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [Silence.model_validate_json(body) for (body,) in rows]

    async def get_silence(self, silence_id: str) -> Silence | None:
        body = self._one("SELECT body FROM silences WHERE id = ?", (silence_id,))
        return None if body is None else Silence.model_validate_json(body)

    async def list_suppressions(self, limit: int = 5000) -> list[Suppression]:
        rows = self._db.conn.execute(
            "SELECT body FROM suppressions ORDER BY seq LIMIT ?", (limit,)
        ).fetchall()
        return [Suppression.model_validate_json(body) for (body,) in rows]

    async def heartbeats(self) -> dict[str, datetime]:
        rows = self._db.conn.execute("SELECT name, last_seen FROM heartbeats").fetchall()
        return {name: datetime.fromisoformat(at) for name, at in rows}

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        body = self._one("SELECT body FROM tickets WHERE id = ?", (ticket_id,))
        return None if body is None else Ticket.model_validate_json(body)

    async def ticket_for_incident(self, incident_id: str, backend: str) -> Ticket | None:
        body = self._one(
            "SELECT body FROM tickets WHERE incident_id = ? AND backend = ?", (incident_id, backend)
        )
        return None if body is None else Ticket.model_validate_json(body)

    async def tickets_due(self, now: datetime) -> list[Ticket]:
        rows = self._db.conn.execute(
            "SELECT body FROM tickets WHERE due_at IS NOT NULL AND due_at <= ?"
            " ORDER BY due_at, rowid",
            (now.isoformat(),),
        ).fetchall()
        return [Ticket.model_validate_json(body) for (body,) in rows]

    async def list_tickets(self, limit: int = 500) -> list[Ticket]:
        rows = self._db.conn.execute(
            "SELECT body FROM tickets ORDER BY created_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [Ticket.model_validate_json(body) for (body,) in rows]

    async def list_notifications(self, limit: int = 5000) -> list[Notification]:
        rows = self._db.conn.execute(
            "SELECT body FROM notifications ORDER BY at, rowid LIMIT ?", (limit,)
        ).fetchall()
        return [Notification.model_validate_json(body) for (body,) in rows]

    async def alert_volumes(self, since: datetime, until: datetime) -> list[AlertVolume]:
        rows = self._db.conn.execute(
            "SELECT hour, source, name, received, deduplicated, suppressed FROM alert_volumes"
            " WHERE hour >= ? AND hour < ? ORDER BY hour, source, name",
            (since.astimezone(UTC).isoformat(), until.astimezone(UTC).isoformat()),
        ).fetchall()
        return [
            AlertVolume(
                hour=datetime.fromisoformat(hour), source=source, name=name, received=received,
                deduplicated=deduplicated, suppressed=suppressed,
            )
            for hour, source, name, received, deduplicated, suppressed in rows
        ]  # fmt: skip

    async def marker(self, name: str) -> str | None:
        return self._one("SELECT value FROM markers WHERE name = ?", (name,))

    async def get_notification(self, notification_id: str) -> Notification | None:
        body = self._one("SELECT body FROM notifications WHERE id = ?", (notification_id,))
        return None if body is None else Notification.model_validate_json(body)

    async def notifications_to_send(self, now: datetime, limit: int = 100) -> list[Notification]:
        rows = self._db.conn.execute(
            "SELECT n.body FROM notification_outbox o JOIN notifications n ON n.id = o.id"
            " WHERE o.due_at <= ? ORDER BY o.due_at, o.id LIMIT ?",
            (now.isoformat(), limit),
        ).fetchall()
        return [Notification.model_validate_json(body) for (body,) in rows]

    async def get_notify_state(self, incident_id: str) -> NotifyState | None:
        body = self._one("SELECT body FROM notify_states WHERE incident_id = ?", (incident_id,))
        return None if body is None else NotifyState.model_validate_json(body)

    async def notify_states_due(self, now: datetime) -> list[NotifyState]:
        rows = self._db.conn.execute(
            "SELECT body FROM notify_states WHERE due_at IS NOT NULL AND due_at <= ?"
            " ORDER BY due_at, incident_id",
            (now.isoformat(),),
        ).fetchall()
        return [NotifyState.model_validate_json(body) for (body,) in rows]

    async def ping(self) -> bool:
        try:
            self._db.conn.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True
