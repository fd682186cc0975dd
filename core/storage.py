"""The storage a process runs on: the bus and the store, created together, opened by one owner."""

from __future__ import annotations

from pathlib import Path

from core.bus import Bus
from core.bus.sqlite import SqliteBus
from core.config import Settings
from core.sqlitedb import SqliteDatabase
from core.store import Store
from core.store.sqlite import SqliteStore

DATA_FILE = "sereno.db"


class Storage:
    """Bus and store over the embedded database in `settings.data_dir`.

    Creating it touches nothing; `open` creates or opens the file and `close` releases it.
    """

    def __init__(self, settings: Settings) -> None:
        self._db = SqliteDatabase(Path(settings.data_dir) / DATA_FILE, settings.sqlite_synchronous)
        self._bus = SqliteBus(self._db)
        self._store = SqliteStore(self._db, self._bus)

    @property
    def bus(self) -> Bus:
        return self._bus

    @property
    def store(self) -> Store:
        return self._store

    def open(self) -> None:
        self._db.open()

    def close(self) -> None:
        self._db.close()
