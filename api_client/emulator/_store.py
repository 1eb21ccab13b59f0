"""The emulator's state in SQLite: documents by kind, calls, tokens, settings, daily counters.

One connection, used from the emulator's event-loop thread (and guarded by a lock for the
helpers that read it from elsewhere). ``path=None`` keeps everything in memory.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["Store", "new_id", "utcnow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS calls (
    id TEXT PRIMARY KEY,
    device_id TEXT,
    meeting_id TEXT,
    protocol TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY,
    realm TEXT NOT NULL,
    subject TEXT NOT NULL,
    expires_at REAL NOT NULL,
    refresh_token TEXT
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_counts (
    label TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (label, day)
);
"""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def new_id(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")


class Store:
    """Small typed helpers over the SQLite file."""

    def __init__(self, path: str | Path | None = None) -> None:
        target = ":memory:" if path is None else str(path)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- settings -------------------------------------------------------------------------------
    def setting(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def set_setting(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, json.dumps(value)),
            )

    # -- documents ------------------------------------------------------------------------------
    def insert(self, kind: str, doc_id: str, body: dict[str, Any]) -> bool:
        """Store a new document; ``False`` when the id is taken."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO resources (kind, id, body) VALUES (?, ?, ?)",
                    (kind, doc_id, json.dumps(body)),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body FROM resources WHERE kind = ? AND id = ?", (kind, doc_id)
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def replace(self, kind: str, doc_id: str, body: dict[str, Any]) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE resources SET body = ? WHERE kind = ? AND id = ?",
                (json.dumps(body), kind, doc_id),
            )
        return cursor.rowcount == 1

    def delete(self, kind: str, doc_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM resources WHERE kind = ? AND id = ?", (kind, doc_id)
            )
        return cursor.rowcount == 1

    def all(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM resources WHERE kind = ? ORDER BY seq", (kind,)
            ).fetchall()
        return [dict(json.loads(row[0])) for row in rows]

    # -- calls ----------------------------------------------------------------------------------
    def start_call(
        self, device_id: str | None, meeting_id: str | None, protocol: str, capacity: int
    ) -> dict[str, Any] | None:
        """Open a call if a port is free (atomically); ``None`` when the pool is full."""
        with self.transaction() as db:
            (active,) = db.execute("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").fetchone()
            if active >= capacity:
                return None
            call = {
                "id": new_id("call_"),
                "device_id": device_id,
                "meeting_id": meeting_id,
                "protocol": protocol,
                "started_at": utcnow().isoformat(),
                "ended_at": None,
            }
            db.execute(
                "INSERT INTO calls (id, device_id, meeting_id, protocol, started_at) "
                "VALUES (:id, :device_id, :meeting_id, :protocol, :started_at)",
                call,
            )
        return call

    def end_call(self, call_id: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "UPDATE calls SET ended_at = ? WHERE id = ? AND ended_at IS NULL",
                (utcnow().isoformat(), call_id),
            )
        return cursor.rowcount == 1

    def calls(self, *, active_only: bool = True) -> list[dict[str, Any]]:
        query = "SELECT id, device_id, meeting_id, protocol, started_at, ended_at FROM calls"
        if active_only:
            query += " WHERE ended_at IS NULL"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY started_at, id").fetchall()
        keys = ("id", "device_id", "meeting_id", "protocol", "started_at", "ended_at")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def ports_in_use(self) -> int:
        with self._lock:
            (count,) = self._db.execute(
                "SELECT COUNT(*) FROM calls WHERE ended_at IS NULL"
            ).fetchone()
        return int(count)

    # -- tokens ---------------------------------------------------------------------------------
    def issue_token(self, realm: str, subject: str, ttl: float, now: float) -> tuple[str, str]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens (token, realm, subject, expires_at, refresh_token) "
                "VALUES (?, ?, ?, ?, ?)",
                (access, realm, subject, now + ttl, refresh),
            )
        return access, refresh

    def token_subject(self, realm: str, token: str, now: float) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT subject, expires_at FROM tokens WHERE token = ? AND realm = ?",
                (token, realm),
            ).fetchone()
        if row is None or row[1] <= now:
            return None
        return str(row[0])

    def redeem_refresh(self, realm: str, refresh: str) -> str | None:
        """The subject of a refresh token, which is used up (its access token too)."""
        with self._lock:
            row = self._db.execute(
                "SELECT subject FROM tokens WHERE refresh_token = ? AND realm = ?", (refresh, realm)
            ).fetchone()
            if row is None:
                return None
            self._db.execute("DELETE FROM tokens WHERE refresh_token = ?", (refresh,))
        return str(row[0])

    def revoke_tokens(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM tokens")

    # -- daily quotas ---------------------------------------------------------------------------
    def count_daily(self, label: str, day: str) -> int:
        """Count one request of ``label`` on ``day``; returns the new count."""
        with self._lock:
            self._db.execute(
                "INSERT INTO daily_counts (label, day, count) VALUES (?, ?, 1) "
                "ON CONFLICT (label, day) DO UPDATE SET count = count + 1",
                (label, day),
            )
            (count,) = self._db.execute(
                "SELECT count FROM daily_counts WHERE label = ? AND day = ?", (label, day)
            ).fetchone()
        return int(count)
