"""The store on SQLite: one file, WAL journal, ``synchronous=FULL`` (a committed CDR survives a
killed process and a power cut), ``BEGIN IMMEDIATE`` as the pool lock (several gateway processes
on one machine may share the file).

Faults stay bounded: an operation waits at most ``busy_timeout`` seconds for another process's
lock, and a locked, full or read-only database raises
:class:`~gateway.store._sql.StoreUnavailableError` (nothing half-written). Reads go through a
second, read-only connection: in WAL mode they never wait behind a writer, ours or another
process's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from gateway.store._sql import Cursor, SqlStore, StoreUnavailableError

__all__ = ["SqliteStore"]


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"sqlite: {text}"


class SqliteStore(SqlStore):
    """``SqliteStore(path, ttl)``; creates the file, its directory and the schema if missing."""

    def __init__(self, path: Path | str, ttl: float = 90.0, *, busy_timeout: float = 30.0) -> None:
        super().__init__(ttl)
        self.busy_timeout = float(busy_timeout)
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = self._connect()
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = FULL")
        with self._tx(pool_lock=True) as cur:
            for statement in self._schema():
                cur.run(statement)
            self._upgrade(cur)
        self._reader: sqlite3.Connection | None = self._connect()
        self._reader.execute("PRAGMA query_only = ON")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                               timeout=self.busy_timeout)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        return conn

    def _columns(self, cur: Cursor, table: str) -> set[str]:
        return {str(row[1]) for row in cur.run(f"PRAGMA table_info({table})").all()}

    def _separate_reads(self) -> bool:
        return True

    @contextmanager
    def _transaction(self, *, pool_lock: bool) -> Iterator[Cursor]:
        if self._conn is None:
            raise RuntimeError("the store is closed")
        # IMMEDIATE takes the write lock now, so count-then-insert cannot interleave with another
        # process; plain reads use DEFERRED (WAL readers never block).
        with self._run(self._conn, "BEGIN IMMEDIATE" if pool_lock else "BEGIN") as cur:
            yield cur

    @contextmanager
    def _read_transaction(self) -> Iterator[Cursor]:
        if self._reader is None:
            raise RuntimeError("the store is closed")
        with self._run(self._reader, "BEGIN") as cur:
            yield cur

    @contextmanager
    def _run(self, conn: sqlite3.Connection, begin: str) -> Iterator[Cursor]:
        raw = conn.cursor()
        try:
            try:
                raw.execute(begin)
            except sqlite3.OperationalError as exc:
                raise StoreUnavailableError(_reason(exc)) from None
            try:
                yield Cursor(raw, "?")
            except BaseException as exc:
                with suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StoreUnavailableError(_reason(exc)) from None
                raise
            try:
                raw.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                with suppress(sqlite3.Error):
                    raw.execute("ROLLBACK")
                raise StoreUnavailableError(_reason(exc)) from None
        finally:
            raw.close()

    def _close(self) -> None:
        for conn in (self._conn, getattr(self, "_reader", None)):
            if conn is not None:
                conn.close()
        self._conn = self._reader = None
