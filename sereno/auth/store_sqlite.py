"""The auth store in the pipeline's SQLite file, in tables of its own."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

from sereno.auth.records import ApiToken, AuditEntry, Session, User

_SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_users (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS auth_tokens (
    id TEXT PRIMARY KEY, digest TEXT NOT NULL UNIQUE, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_sessions (
    digest TEXT PRIMARY KEY, expires_at TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS auth_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS auth_audit_append_only_update BEFORE UPDATE ON auth_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS auth_audit_append_only_delete BEFORE DELETE ON auth_audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"""


class SqliteAuthStore:
    """Opens its own connection to the data file (WAL lets it share the file with the
    pipeline's) and creates its tables if they are missing."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None

    @property
    def _conn(self) -> sqlite3.Connection:
        """Opened on first use, so making the store touches no file."""
        if self._db is None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout=5000")
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._db = db
        return self._db

    async def add_user(self, user: User) -> bool:
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO auth_users (name, body) VALUES (?, ?)",
            (user.name, user.model_dump_json()),
        )
        return cursor.rowcount == 1

    async def put_user(self, user: User) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO auth_users (name, body) VALUES (?, ?)",
            (user.name, user.model_dump_json()),
        )

    async def get_user(self, name: str) -> User | None:
        row = self._conn.execute("SELECT body FROM auth_users WHERE name = ?", (name,)).fetchone()
        return None if row is None else User.model_validate_json(row[0])

    async def list_users(self) -> list[User]:
        rows = self._conn.execute("SELECT body FROM auth_users ORDER BY name").fetchall()
        return [User.model_validate_json(body) for (body,) in rows]

    async def has_users(self) -> bool:
        return self._conn.execute("SELECT 1 FROM auth_users LIMIT 1").fetchone() is not None

    async def add_token(self, token: ApiToken) -> None:
        self._conn.execute(
            "INSERT INTO auth_tokens (id, digest, body) VALUES (?, ?, ?)",
            (token.id, token.digest, token.model_dump_json()),
        )

    async def put_token(self, token: ApiToken) -> None:
        self._conn.execute(
            "UPDATE auth_tokens SET body = ? WHERE id = ?", (token.model_dump_json(), token.id)
        )

    async def get_token(self, token_id: str) -> ApiToken | None:
        row = self._conn.execute(
            "SELECT body FROM auth_tokens WHERE id = ?", (token_id,)
        ).fetchone()
        return None if row is None else ApiToken.model_validate_json(row[0])

    async def find_token(self, digest: str) -> ApiToken | None:
        row = self._conn.execute(
            "SELECT body FROM auth_tokens WHERE digest = ?", (digest,)
        ).fetchone()
        return None if row is None else ApiToken.model_validate_json(row[0])

    async def list_tokens(self) -> list[ApiToken]:
        rows = self._conn.execute("SELECT body FROM auth_tokens ORDER BY id").fetchall()
        return [ApiToken.model_validate_json(body) for (body,) in rows]

    async def add_session(self, session: Session) -> None:
        with self._conn:
            self._conn.execute(
                "DELETE FROM auth_sessions WHERE expires_at <= ?",
                (session.created_at.isoformat(),),
            )
            self._conn.execute(
                "INSERT INTO auth_sessions (digest, expires_at, body) VALUES (?, ?, ?)",
                (session.digest, session.expires_at.isoformat(), session.model_dump_json()),
            )

    async def get_session(self, digest: str, now: datetime) -> Session | None:
        row = self._conn.execute(
            "SELECT body FROM auth_sessions WHERE digest = ?", (digest,)
        ).fetchone()
        if row is None:
            return None
        session = Session.model_validate_json(row[0])
        return session if now < session.expires_at else None

    async def delete_session(self, digest: str) -> None:
        self._conn.execute("DELETE FROM auth_sessions WHERE digest = ?", (digest,))

    async def append_audit(self, entry: AuditEntry) -> None:
        self._conn.execute(
            "INSERT INTO auth_audit (at, body) VALUES (?, ?)",
            (entry.at.isoformat(), entry.model_dump_json()),
        )

    async def list_audit(self, limit: int) -> list[AuditEntry]:
        rows = self._conn.execute(
            "SELECT body FROM auth_audit ORDER BY seq DESC LIMIT ?", (limit,)
        ).fetchall()
        return [AuditEntry.model_validate_json(body) for (body,) in rows]

    async def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
