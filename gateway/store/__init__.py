"""Durable gateway state: CRC port leases and call detail records.

>>> store = open_store("sqlite:///tmp/crcgw-doc.sqlite3", ttl=90)      # doctest: +SKIP
>>> store.set_pool_size(10)
>>> lease = store.acquire("call-1", "boardroom", "87654321012@zoomcrc.com", "gw-a", now=1000.0)
>>> store.heartbeat("gw-a", now=1030.0)          # keep gw-a's leases alive until 1120
>>> store.release("call-1")

``sqlite:///PATH`` (default: one file under the data directory, WAL mode) or
``postgresql://…`` (psycopg 3) for a fleet of gateways sharing one account's ports. Either way an
acquire is atomic across processes (and machines, with PostgreSQL): the pool is never exceeded.
Each lease has an owner (the gateway instance id) whose heartbeat keeps it alive; a crashed
owner's leases expire ``ttl`` seconds after its last heartbeat.
"""

from __future__ import annotations

from pydantic import SecretStr

from gateway.store._records import CDR_FIELDS, Cdr, Lease, PoolState
from gateway.store._sql import SqlStore, StoreUnavailableError

__all__ = [
    "CDR_FIELDS",
    "Cdr",
    "Lease",
    "PoolState",
    "Store",
    "StoreUnavailableError",
    "StoreUrlError",
    "open_store",
]

#: The store type every backend implements.
Store = SqlStore


class StoreUrlError(ValueError):
    """The store URL is neither ``sqlite:///PATH`` nor ``postgresql://…``."""


def open_store(
    url: str, ttl: float = 90.0, password: SecretStr | None = None,
    busy_timeout: float | None = None,
) -> SqlStore:
    """Open (and create if needed) the store at ``url``; leases live ``ttl`` seconds past their
    owner's last heartbeat. ``password``: the PostgreSQL password (kept out of the URL).
    ``busy_timeout``: seconds an operation waits for a lock before
    :class:`StoreUnavailableError` (default 30; the daemon uses ``store.busy_timeout``)."""
    if url.startswith("sqlite:///"):
        from gateway.store.sqlite import SqliteStore

        # As SQLAlchemy reads it: sqlite:///relative/path, sqlite:////absolute/path.
        if busy_timeout is None:
            return SqliteStore(url[len("sqlite:///") :], ttl)
        return SqliteStore(url[len("sqlite:///") :], ttl, busy_timeout=busy_timeout)
    if url.startswith(("postgresql://", "postgres://")):
        from gateway.store.postgres import PostgresStore

        if busy_timeout is None:
            return PostgresStore(url, ttl, password=password)
        return PostgresStore(url, ttl, password=password, busy_timeout=busy_timeout)
    raise StoreUrlError("store URL must be sqlite:///PATH or postgresql://USER@HOST/DB")
