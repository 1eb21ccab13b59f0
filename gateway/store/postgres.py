"""The store on PostgreSQL (psycopg 3): gateways on several machines share one pool.

An acquire locks the single ``pool`` row (``SELECT … FOR UPDATE``) for the length of its
transaction, so count-then-insert is serialised across every connection: the pool is never
exceeded. Schema creation is guarded by a transaction-level advisory lock, so several gateways
may start at once against an empty database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from pydantic import SecretStr

from gateway.store._sql import Cursor, SqlStore, StoreUnavailableError

__all__ = ["PostgresStore"]

_SCHEMA_LOCK = 0x637263677701  # any constant shared by every crcgw instance ("crcgw" + 1)


class PostgresStore(SqlStore):
    """``PostgresStore("postgresql://user@host:port/db", ttl)``."""

    _REAL = "DOUBLE PRECISION"

    def __init__(
        self,
        url: str,
        ttl: float = 90.0,
        *,
        password: SecretStr | None = None,
        connect_timeout: float = 10.0,
        busy_timeout: float = 30.0,
    ) -> None:
        super().__init__(ttl)
        self.busy_timeout = float(busy_timeout)
        self.url = url
        self._password = password
        self._connect_timeout = int(max(1, connect_timeout))
        self._closed = False
        self._conn: psycopg.Connection[tuple[object, ...]] | None = self._connect()
        with self._tx() as cur:
            cur.run("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
            for statement in self._schema():
                cur.run(statement)
            self._upgrade(cur)

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        # lock_timeout: a row lock held elsewhere fails the operation after busy_timeout
        # (LockNotAvailable, an OperationalError: StoreUnavailableError) instead of waiting.
        options = f"-c lock_timeout={int(self.busy_timeout * 1000)}"
        if self._password is None:
            return psycopg.connect(self.url, autocommit=True,
                                   connect_timeout=self._connect_timeout, options=options)
        return psycopg.connect(self.url, autocommit=True, connect_timeout=self._connect_timeout,
                               password=self._password.get_secret_value(), options=options)

    def __repr__(self) -> str:
        return f"PostgresStore({self.url!r}, ttl={self.ttl})"

    @contextmanager
    def _transaction(self, *, pool_lock: bool) -> Iterator[Cursor]:
        if self._closed or self._conn is None:
            raise RuntimeError("the store is closed")
        try:
            if self._conn.broken or self._conn.closed:
                # The server restarted or the link dropped: the operation that noticed failed,
                # this one reconnects (and fails again if the server is still away).
                self._conn = self._connect()
            with self._conn.transaction(), self._conn.cursor() as raw:
                cur = Cursor(raw, "%s")
                if pool_lock:
                    cur.run("SELECT size FROM pool WHERE id = 1 FOR UPDATE")
                yield cur
        except psycopg.OperationalError as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreUnavailableError(f"postgresql: {first}") from None

    def _close(self) -> None:
        self._closed = True
        if self._conn is not None:
            self._conn.close()
            self._conn = None
