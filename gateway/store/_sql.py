"""The store's logic in SQL shared by SQLite and PostgreSQL; the backends add connection,
placeholder style and the lock that makes an acquire atomic.

Invariant: ``count(leases) + used_elsewhere <= size`` after every acquire, because every
acquire runs in a transaction that first takes the pool lock (SQLite ``BEGIN IMMEDIATE``, the
database-wide write lock; PostgreSQL ``SELECT … FOR UPDATE`` on the single ``pool`` row), then
deletes expired leases, counts, and inserts only when a port is free.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from gateway.store._records import CDR_FIELDS, Cdr, Lease, PoolState

__all__ = ["Cursor", "SqlStore", "StoreUnavailableError"]

_LEASE_COLUMNS = "call_id, room, target, owner, acquired_at, heartbeat_at, expires_at"
_CDR_COLUMNS = "call_id, " + ", ".join(CDR_FIELDS)


class Cursor:
    """The few cursor operations the store needs, with ``?`` placeholders on every backend."""

    def __init__(self, raw: Any, placeholder: str) -> None:
        self._raw = raw
        self._placeholder = placeholder

    def run(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        if self._placeholder != "?":
            sql = sql.replace("?", self._placeholder)
        self._raw.execute(sql, tuple(params))
        return self

    def one(self) -> tuple[Any, ...] | None:
        row = self._raw.fetchone()
        return None if row is None else tuple(row)

    def all(self) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._raw.fetchall()]

    @property
    def rowcount(self) -> int:
        return int(self._raw.rowcount)


class StoreUnavailableError(RuntimeError):
    """The store cannot do this now (locked by another process past the busy timeout, disk
    full, read-only, server away): the operation did nothing. ``reason`` says which, in a few
    words; the message never carries a password or a URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"the store is unavailable: {reason}")
        self.reason = reason


class _Tx:
    """The store's lock plus one backend transaction; never swallows an exception (so a
    ``return`` inside ``with`` is the only way out, which mypy can see).

    The lock is waited for at most ``wait`` seconds (a transaction stuck behind another
    process's lock must not queue every thread of the gateway behind it)."""

    def __init__(
        self, lock: threading.Lock, tx: AbstractContextManager[Cursor], wait: float
    ) -> None:
        self._lock, self._inner, self._wait = lock, tx, wait

    def __enter__(self) -> Cursor:
        if not self._lock.acquire(timeout=self._wait):
            raise StoreUnavailableError("busy: another operation of this gateway is stuck")
        try:
            return self._inner.__enter__()
        except BaseException:
            self._lock.release()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._inner.__exit__(exc_type, exc, tb)
        finally:
            self._lock.release()


class SqlStore(ABC):
    """Leases and CDRs in SQL. Thread-safe (one connection, one lock). Methods that depend on
    time take ``now`` (seconds since the epoch) explicitly.

    ``ttl`` is how long a lease lives after the owner's last heartbeat (or acquire).
    """

    url: str

    #: How long an operation waits for the store (the other process's lock, or this
    #: gateway's own operation in progress) before :class:`StoreUnavailableError`.
    busy_timeout: float = 30.0

    def __init__(self, ttl: float) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = float(ttl)
        self._lock = threading.Lock()
        self._read_lock = threading.Lock()

    # -- backend hooks ------------------------------------------------------------------------

    @abstractmethod
    def _transaction(self, *, pool_lock: bool) -> AbstractContextManager[Cursor]:
        """A cursor in one transaction; ``pool_lock`` serialises it with every other acquirer,
        in this process and in every other one sharing the database."""

    @abstractmethod
    def _close(self) -> None: ...

    def _read_transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor for reads only. Backends with a second connection override it so that
        reads never wait behind a write stuck on another process's lock."""
        return self._transaction(pool_lock=False)

    def _separate_reads(self) -> bool:
        return False

    def _tx(self, *, pool_lock: bool = False) -> _Tx:
        return _Tx(self._lock, self._transaction(pool_lock=pool_lock), self.busy_timeout)

    def _rx(self) -> _Tx:
        """A read-only transaction (on the read connection when the backend has one)."""
        if self._separate_reads():
            return _Tx(self._read_lock, self._read_transaction(), self.busy_timeout)
        return self._tx()

    def close(self) -> None:
        """Close the connection; idempotent."""
        with self._lock, self._read_lock:
            self._close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------

    _REAL = "REAL"

    def _schema(self) -> list[str]:
        real = self._REAL
        return [
            "CREATE TABLE IF NOT EXISTS pool ("
            " id INTEGER PRIMARY KEY CHECK (id = 1),"
            " size INTEGER CHECK (size IS NULL OR size >= 0),"
            " used_elsewhere INTEGER NOT NULL DEFAULT 0 CHECK (used_elsewhere >= 0),"
            f" figures_at {real})",
            "INSERT INTO pool (id, size, used_elsewhere) VALUES (1, NULL, 0)"
            " ON CONFLICT (id) DO NOTHING",
            "CREATE TABLE IF NOT EXISTS leases ("
            " call_id TEXT PRIMARY KEY, room TEXT NOT NULL, target TEXT NOT NULL,"
            f" owner TEXT NOT NULL, acquired_at {real} NOT NULL,"
            f" heartbeat_at {real} NOT NULL, expires_at {real} NOT NULL)",
            "CREATE INDEX IF NOT EXISTS leases_owner ON leases (owner)",
            "CREATE INDEX IF NOT EXISTS leases_expires ON leases (expires_at)",
            "CREATE TABLE IF NOT EXISTS cdrs ("
            " call_id TEXT PRIMARY KEY, room TEXT NOT NULL, target TEXT NOT NULL,"
            " direction TEXT NOT NULL, owner TEXT NOT NULL,"
            f" started_at {real} NOT NULL, answered_at {real}, ended_at {real},"
            " outcome TEXT, sip_code INTEGER, sip_reason TEXT, rtp TEXT)",
            "CREATE INDEX IF NOT EXISTS cdrs_started ON cdrs (started_at)",
        ]

    def _columns(self, cur: Cursor, table: str) -> set[str]:
        """Column names of ``table`` (backends answer from their catalogue)."""
        rows = cur.run(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", (table,)
        ).all()
        return {str(row[0]) for row in rows}

    def _upgrade(self, cur: Cursor) -> None:
        """Columns added since the first schema, on a store created by an older version."""
        if "figures_at" not in self._columns(cur, "pool"):
            cur.run(f"ALTER TABLE pool ADD COLUMN figures_at {self._REAL}")

    # -- pool ---------------------------------------------------------------------------------

    def pool_state(self) -> PoolState:
        with self._rx() as cur:
            size, elsewhere = cur.run("SELECT size, used_elsewhere FROM pool WHERE id = 1").one() \
                or (None, 0)
            (leased,) = cur.run("SELECT count(*) FROM leases").one() or (0,)
            return PoolState(size, int(leased), int(elsewhere))

    @property
    def pool_size(self) -> int | None:
        """The pool size (``None`` until known); assigning it calls :meth:`set_pool_size`."""
        return self.pool_state().size

    @pool_size.setter
    def pool_size(self, size: int | None) -> None:
        self.set_pool_size(size)

    def set_pool_size(self, size: int | None) -> None:
        """Set how many ports the account has (from the API, or from the configuration)."""
        if size is not None and size < 0:
            raise ValueError("pool size must be >= 0")
        with self._tx(pool_lock=True) as cur:
            cur.run("UPDATE pool SET size = ? WHERE id = 1", (size,))

    def set_used_elsewhere(self, count: int) -> None:
        """Ports the account uses beyond the gateways' leases (other devices), per the API."""
        with self._tx(pool_lock=True) as cur:
            cur.run("UPDATE pool SET used_elsewhere = ? WHERE id = 1", (max(0, int(count)),))

    def set_figures(self, size: int | None, used_elsewhere: int | None, observed_at: float) -> bool:
        """Set the pool's size (and the ports used elsewhere, unless ``None``) as seen at
        ``observed_at`` (when the figures were asked for, seconds since the epoch). Figures
        older than those in the store are ignored (``False``): a slow answer, or a gateway
        sharing the store with an older view, never overwrites a newer one."""
        if size is not None and size < 0:
            raise ValueError("pool size must be >= 0")
        with self._tx(pool_lock=True) as cur:
            if used_elsewhere is None:
                cur.run(
                    "UPDATE pool SET size = ?, figures_at = ?"
                    " WHERE id = 1 AND (figures_at IS NULL OR figures_at <= ?)",
                    (size, observed_at, observed_at),
                )
            else:
                cur.run(
                    "UPDATE pool SET size = ?, used_elsewhere = ?, figures_at = ?"
                    " WHERE id = 1 AND (figures_at IS NULL OR figures_at <= ?)",
                    (size, max(0, int(used_elsewhere)), observed_at, observed_at),
                )
            return cur.rowcount == 1

    def figures_at(self) -> float | None:
        """When the pool's figures in the store were observed (``None``: never by
        :meth:`set_figures`)."""
        with self._rx() as cur:
            row = cur.run("SELECT figures_at FROM pool WHERE id = 1").one()
            return None if row is None or row[0] is None else float(row[0])

    def probe(self) -> None:
        """A tiny write (no change to any figure): raises :class:`StoreUnavailableError` while
        the store cannot take writes."""
        with self._tx() as cur:
            cur.run("UPDATE pool SET id = 1 WHERE id = 1")

    # -- leases -------------------------------------------------------------------------------

    def acquire(
        self, call_id: str, room: str, target: str, owner: str, now: float,
        *, keep_alive: Collection[str] = (),
    ) -> Lease | None:
        """Take a port for ``call_id``, atomically; ``None`` when the pool is full (or its size is
        still unknown). Acquiring a ``call_id`` the same owner already holds returns that lease;
        one another owner holds gives ``None``.

        ``keep_alive``: call ids of ``owner``'s live calls, refreshed in the same transaction
        before expired leases are dropped, so an acquire never deletes the lease of a call of
        its own gateway that is still up (even if its heartbeats could not reach the store)."""
        with self._tx(pool_lock=True) as cur:
            self._refresh(cur, owner, keep_alive, now)
            cur.run("DELETE FROM leases WHERE expires_at <= ?", (now,))
            row = cur.run(f"SELECT {_LEASE_COLUMNS} FROM leases WHERE call_id = ?",
                          (call_id,)).one()
            if row is not None:
                lease = Lease(*row)
                return lease if lease.owner == owner else None
            size, elsewhere = cur.run(
                "SELECT size, used_elsewhere FROM pool WHERE id = 1"
            ).one() or (None, 0)
            (leased,) = cur.run("SELECT count(*) FROM leases").one() or (0,)
            if size is None or int(leased) + int(elsewhere) >= int(size):
                return None
            lease = Lease(call_id, room, target, owner, now, now, now + self.ttl)
            cur.run(
                f"INSERT INTO leases ({_LEASE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (lease.call_id, lease.room, lease.target, lease.owner, lease.acquired_at,
                 lease.heartbeat_at, lease.expires_at),
            )
            return lease

    def release(self, call_id: str, now: float | None = None) -> Lease | None:
        """Give the port of ``call_id`` back; the released lease, or ``None`` if none was held.
        ``now`` is accepted for symmetry (a release needs no clock)."""
        with self._tx() as cur:
            row = cur.run(
                f"DELETE FROM leases WHERE call_id = ? RETURNING {_LEASE_COLUMNS}", (call_id,)
            ).one()
            return None if row is None else Lease(*row)

    def release_owner(self, owner: str) -> list[Lease]:
        """Drop every lease of ``owner``: a gateway restarting with the same instance id has no
        calls yet, so whatever it held before the restart is free again."""
        with self._tx() as cur:
            rows = cur.run(
                f"DELETE FROM leases WHERE owner = ? RETURNING {_LEASE_COLUMNS}", (owner,)
            ).all()
            return [Lease(*row) for row in rows]

    def _refresh(self, cur: Cursor, owner: str, call_ids: Collection[str], now: float) -> int:
        count = 0
        ids = sorted(call_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            count += cur.run(
                "UPDATE leases SET heartbeat_at = ?, expires_at = ?"
                f" WHERE owner = ? AND call_id IN ({marks})",
                (now, now + self.ttl, owner, *chunk),
            ).rowcount
        return count

    def heartbeat_calls(self, owner: str, call_ids: Collection[str], now: float) -> int:
        """Extend the leases of ``owner``'s calls ``call_ids`` (the calls that are up now) to
        ``now + ttl``; leases of other calls are left to expire. Returns how many it extended."""
        with self._tx() as cur:
            return self._refresh(cur, owner, call_ids, now)

    def heartbeat(self, owner: str, now: float) -> int:
        """Extend every lease of ``owner`` to ``now + ttl``; returns how many it holds."""
        with self._tx() as cur:
            return cur.run(
                "UPDATE leases SET heartbeat_at = ?, expires_at = ? WHERE owner = ?",
                (now, now + self.ttl, owner),
            ).rowcount

    def expire(self, now: float) -> list[Lease]:
        """Delete the leases whose owner stopped heart-beating; returns them."""
        with self._tx() as cur:
            rows = cur.run(
                f"DELETE FROM leases WHERE expires_at <= ? RETURNING {_LEASE_COLUMNS}", (now,)
            ).all()
            return [Lease(*row) for row in rows]

    def leases(self, owner: str | None = None) -> list[Lease]:
        """Current leases (of ``owner`` only, if given), oldest first. Expired ones are included
        until :meth:`expire` runs."""
        with self._rx() as cur:
            sql = f"SELECT {_LEASE_COLUMNS} FROM leases"
            params: tuple[str, ...] = ()
            if owner is not None:
                sql, params = sql + " WHERE owner = ?", (owner,)
            return [Lease(*row) for row in cur.run(sql + " ORDER BY acquired_at", params).all()]

    # -- call detail records ------------------------------------------------------------------

    def record_cdr(
        self,
        call_id: str,
        room: str,
        target: str,
        started_at: float,
        *,
        direction: str = "out",
        owner: str = "",
    ) -> Cdr:
        """Start the record of a call (committed before returning: a crash right after keeps it).
        Recording a ``call_id`` again keeps and returns the first record."""
        with self._tx() as cur:
            cur.run(
                "INSERT INTO cdrs (call_id, room, target, direction, owner, started_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (call_id) DO NOTHING",
                (call_id, room, target, direction, owner, started_at),
            )
            row = cur.run(f"SELECT {_CDR_COLUMNS} FROM cdrs WHERE call_id = ?", (call_id,)).one()
            assert row is not None
            return Cdr.from_row(row)

    def update_cdr(self, call_id: str, **fields: Any) -> Cdr | None:
        """Set some of :data:`CDR_FIELDS` (``answered_at``, ``ended_at``, ``outcome``,
        ``sip_code``, ``sip_reason``, ``rtp`` as a dict…); the updated record, or ``None`` when no
        record has this ``call_id``."""
        unknown = set(fields) - set(CDR_FIELDS)
        if unknown:
            raise ValueError(f"unknown CDR field(s): {', '.join(sorted(unknown))}")
        if "rtp" in fields and fields["rtp"] is not None:
            fields["rtp"] = json.dumps(fields["rtp"], sort_keys=True)
        with self._tx() as cur:
            if fields:
                assignments = ", ".join(f"{name} = ?" for name in fields)
                cur.run(
                    f"UPDATE cdrs SET {assignments} WHERE call_id = ?",
                    (*fields.values(), call_id),
                )
            row = cur.run(f"SELECT {_CDR_COLUMNS} FROM cdrs WHERE call_id = ?", (call_id,)).one()
            return None if row is None else Cdr.from_row(row)

    def cdr(self, call_id: str) -> Cdr | None:
        with self._rx() as cur:
            row = cur.run(f"SELECT {_CDR_COLUMNS} FROM cdrs WHERE call_id = ?", (call_id,)).one()
            return None if row is None else Cdr.from_row(row)

    def cdrs(self, limit: int = 100, room: str | None = None) -> list[Cdr]:
        """The newest ``limit`` records (of ``room`` only, if given), newest first."""
        sql = f"SELECT {_CDR_COLUMNS} FROM cdrs"
        params: list[Any] = []
        if room is not None:
            sql += " WHERE room = ?"
            params.append(room)
        sql += " ORDER BY started_at DESC, call_id LIMIT ?"
        params.append(max(0, int(limit)))
        with self._rx() as cur:
            return [Cdr.from_row(row) for row in cur.run(sql, params).all()]
