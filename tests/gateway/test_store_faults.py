"""Store faults stay bounded and lose nothing: a lock held by another process, ordering of the
pool's figures, live-call heartbeats, the CDR journal."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.health import Backoff, Health
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool, PortUsage
from gateway.store import Store, StoreUnavailableError, open_store
from gateway.store.journal import CdrJournal
from gateway.store.sqlite import SqliteStore

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


class Locker:
    """Another process holding ``BEGIN EXCLUSIVE`` on the store until :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "store.sqlite3"


def test_a_locked_store_refuses_writes_quickly_and_still_answers_reads(db: Path) -> None:
    store = SqliteStore(db, ttl=30, busy_timeout=0.3)
    store.set_pool_size(2)
    assert store.acquire("a", "room", "t", "gw", now=1.0) is not None
    locker = Locker(db)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="locked"):
            store.acquire("b", "room", "t", "gw", now=2.0)
        assert time.monotonic() - started < 10  # bounded by the busy timeout, not 30 s
        # reads go on the read connection: the lock of the other process does not stop them
        assert store.pool_state().leased == 1
        assert [lease.call_id for lease in store.leases()] == ["a"]
        with pytest.raises(StoreUnavailableError):
            store.update_cdr("a", ended_at=3.0)
    finally:
        locker.release()
    assert store.acquire("b", "room", "t", "gw", now=2.0) is not None
    store.close()


def test_older_figures_never_overwrite_newer_ones(store: Store) -> None:
    assert store.set_figures(5, 1, observed_at=100.0)
    assert not store.set_figures(9, 0, observed_at=99.0)  # a slow answer asked earlier
    state = store.pool_state()
    assert (state.size, state.used_elsewhere) == (5, 1)
    assert store.set_figures(7, None, observed_at=101.0)
    state = store.pool_state()
    assert (state.size, state.used_elsewhere, store.figures_at()) == (7, 1, 101.0)


def test_a_store_of_an_older_version_gains_the_figures_column(db: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE pool (id INTEGER PRIMARY KEY CHECK (id = 1), size INTEGER,"
                 " used_elsewhere INTEGER NOT NULL DEFAULT 0)")
    conn.execute("INSERT INTO pool VALUES (1, 4, 0)")
    conn.commit()
    conn.close()
    store = open_store(f"sqlite:///{db}")
    assert store.pool_state().size == 4 and store.figures_at() is None
    assert store.set_figures(6, 0, observed_at=5.0)
    store.close()


def test_heartbeat_keeps_only_live_calls_and_acquire_never_drops_its_own_live_lease(
    store: Store,
) -> None:
    store.ttl = 10.0
    store.set_pool_size(2)
    store.acquire("live", "room", "t", "gw", now=0.0)
    store.acquire("gone", "room", "t", "gw", now=0.0)
    assert store.heartbeat_calls("gw", ["live"], now=5.0) == 1
    leases = {lease.call_id: lease.expires_at for lease in store.leases()}
    assert leases == {"live": 15.0, "gone": 10.0}
    # 20 s later nobody heart-beat (store or loop stuck): the acquire of the same gateway
    # refreshes its live call first, so only the dead lease makes room
    assert store.acquire("new", "room", "t", "gw", now=20.0, keep_alive=["live"]) is not None
    assert sorted(lease.call_id for lease in store.leases()) == ["live", "new"]
    assert store.acquire("more", "room", "t", "gw", now=21.0, keep_alive=["live", "new"]) is None


def test_the_journal_is_durable_and_replays_in_order(db: Path, tmp_path: Path) -> None:
    store = SqliteStore(db, ttl=30, busy_timeout=0.2)
    store.record_cdr("c1", "room", "t", 1.0)
    path = tmp_path / "journal.jsonl"
    journal = CdrJournal(path)
    locker = Locker(db)
    try:
        assert journal.replay(store) == 0
        journal.append("c1", {"answered_at": 2.0})
        journal.append("c1", {"ended_at": 3.0, "outcome": "connected", "rtp": {"rx": 5}})
        assert journal.has("c1") and not journal.has("c2")
        assert journal.replay(store) == 0  # still locked: nothing lost
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["fields"] for line in lines][1]["outcome"] == "connected"
    finally:
        locker.release()
    reopened = CdrJournal(path)  # what a restarted gateway finds
    assert len(reopened) == 2
    assert reopened.replay(store) == 2
    cdr = store.cdr("c1")
    assert cdr is not None and (cdr.answered_at, cdr.ended_at, cdr.outcome) == (2.0, 3.0,
                                                                                   "connected")
    assert cdr.rtp == {"rx": 5}
    assert not path.exists() and len(reopened) == 0
    store.close()


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"call_id": "c", "fields": {"ended_at": 1.0}}) + "\n{\"call_")
    assert len(CdrJournal(path)) == 1


def test_health_logs_state_changes_only_and_backoff_is_capped() -> None:
    now = [10.0]
    health = Health("store", clock=lambda: now[0])
    assert health.fail("locked") and not health.fail("locked") and health.failures == 2
    assert health.degraded and health.since == 10.0
    now[0] = 12.5
    assert health.ok() and not health.degraded and not health.ok()
    backoff = Backoff(base=0.25, cap=2.0)
    assert [backoff.failed() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    backoff.succeeded()
    assert backoff.failed() == 0.25


def test_pool_keeps_the_last_good_figures_then_refuses_saying_why(db: Path) -> None:
    store = open_store(f"sqlite:///{db}", ttl=30)
    now = [1000.0]
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", clock=lambda: now[0], metrics=metrics, stale_after=60,
                    api_deadline=0.2)
    hang = asyncio.Event()

    async def usage() -> PortUsage:
        if hang.is_set():
            await asyncio.sleep(3600)
        return PortUsage(in_use=0, allocated=4)

    async def main() -> None:
        await pool.reconcile_once(usage, set, None)
        assert (await pool.status()).size == 4
        hang.set()
        now[0] += 30
        started = time.monotonic()
        await pool.reconcile_once(usage, set, None)  # the hung API is cut off by the deadline
        assert time.monotonic() - started < 5
        assert (await pool.status()).size == 4 and pool.refusal is None
        assert pool.api_health.degraded and "0.2 s" in pool.api_health.reason
        now[0] += 31  # 61 s after the last good figures
        await pool.reconcile_once(usage, set, None)
        state = await pool.status()
        assert state.size is None
        assert pool.refusal is not None and "no ports.pool_size" in pool.refusal
        assert "no port figure from the API since" in pool.refusal_reason(state)
        text = metrics.render().decode()
        assert 'crcgw_degraded{component="api"} 1.0' in text
        hang.clear()
        await pool.reconcile_once(usage, set, None)
        assert (await pool.status()).size == 4 and pool.refusal is None
        assert not pool.api_health.degraded
        pool.close()

    asyncio.run(main())
    store.close()


@pytest.mark.postgres
def test_a_locked_postgres_pool_row_refuses_quickly(pg_url: str) -> None:
    import psycopg

    store = open_store(pg_url, ttl=30, busy_timeout=0.3)
    store.set_pool_size(2)
    with psycopg.connect(pg_url) as other, other.transaction():
        other.execute("SELECT size FROM pool WHERE id = 1 FOR UPDATE")
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="postgresql"):
            store.acquire("a", "room", "t", "gw", now=1.0)
        assert time.monotonic() - started < 10
        assert store.pool_state().leased == 0  # reads do not wait for the row lock
    assert store.acquire("a", "room", "t", "gw", now=1.0) is not None
    store.close()


def test_the_pool_heartbeat_never_waits_on_a_hung_api(db: Path) -> None:
    store = open_store(f"sqlite:///{db}", ttl=1.0)
    store.set_pool_size(1)
    pool = PortPool(store, "gw", api_deadline=3600)  # a deadline that never helps

    async def hung() -> PortUsage:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def main() -> None:
        assert await pool.acquire("live", "room", "t") is not None
        stop = asyncio.Event()
        runner = asyncio.create_task(pool.run(
            hung, lambda: {"live"}, configured_size=None, reconcile_interval=0.1,
            heartbeat_interval=0.1, stop=stop,
        ))
        await asyncio.sleep(2.5)  # 2.5 TTLs with the reconcile stuck on the API
        other = PortPool(store, "gw-2")
        assert await other.acquire("intruder", "room", "t") is None
        assert [lease.call_id for lease in await pool.leases()] == ["live"]
        stop.set()
        runner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await runner
        pool.close()
        other.close()

    asyncio.run(main())
    store.close()
