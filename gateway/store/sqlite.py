"""The store on SQLite: one file, WAL journal, ``synchronous=FULL`` (a committed CDR survives a
killed process and a power cut), ``BEGIN IMMEDIATE`` as the pool lock (several gateway processes
on one machine may share the file)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.store._sql import Cursor, SqlStore

__all__ = ["SqliteStore"]


class SqliteStore(SqlStore):
    """``SqliteStore(path, ttl)``; creates the file, its directory and the schema if missing."""

    def __init__(self, path: Path | str, ttl: float = 90.0, *, busy_timeout: float = 30.0) -> None:
        super().__init__(ttl)
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        with self._tx(pool_lock=True) as cur:
            for statement in self._schema():
                cur.run(statement)

    @contextmanager
    def _transaction(self, *, pool_lock: bool) -> Iterator[Cursor]:
        if self._conn is None:
            raise RuntimeError("the store is closed")
        raw = self._conn.cursor()
        # IMMEDIATE takes the write lock now, so count-then-insert cannot interleave with another
        # process; plain reads use DEFERRED (WAL readers never block).
        raw.execute("BEGIN IMMEDIATE" if pool_lock else "BEGIN")
        try:
            yield Cursor(raw, "?")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        else:
            raw.execute("COMMIT")
        finally:
            raw.close()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
