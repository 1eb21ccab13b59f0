"""Several OS processes on one store, killed with SIGKILL mid-call (real PostgreSQL, SQLite)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gateway.store import open_store

ROOT = Path(__file__).resolve().parents[2]


class Hammer:
    """``python -m gateway.store.hammer`` as a child process whose JSON lines we collect."""

    def __init__(self, url: str, owner: str, *args: str) -> None:
        self.owner = owner
        self.events: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.store.hammer", url, "--owner", owner, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self.cond:
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    self.events.append({"event": "output", "line": line.decode(errors="replace")})
                self.cond.notify_all()

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate(self.events):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None and not predicate(self.events):
                    return predicate(self.events)  # type: ignore[no-any-return]
                self.cond.wait(min(left, 0.2))
            return True

    def of(self, kind: str) -> list[dict[str, Any]]:
        with self.cond:
            return [e for e in self.events if e["event"] == kind]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join(timeout=5)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


@pytest.mark.postgres
@pytest.mark.slow
def test_four_gateway_processes_share_ten_ports_and_a_killed_ones_leases_return(
    pg_url: str,
) -> None:
    ttl, size = 2.0, 10
    watcher = open_store(pg_url, ttl=ttl)
    watcher.set_pool_size(size)
    common = ["--dials", "100", "--parallel", "3", "--hold", "0.01", "--ttl", str(ttl),
              "--heartbeat", "0.4"]
    hammers = [Hammer(pg_url, f"gw{n}", *common) for n in range(1, 5)]
    victim = hammers[-1]
    samples: list[int] = []
    stop_sampling = threading.Event()

    def sample() -> None:  # the invariant, read on its own connection during the whole run
        import psycopg

        with psycopg.connect(pg_url, autocommit=True) as conn:
            while not stop_sampling.is_set():
                row = conn.execute("SELECT count(*) FROM leases").fetchone()
                assert row is not None
                samples.append(int(row[0]))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        assert victim.wait_for(lambda ev: len(ev) >= 30, timeout=60), victim.events[-3:]
        os.kill(victim.proc.pid, signal.SIGKILL)
        killed_at = time.time()
        victim.proc.wait()
        held = watcher.leases(owner="gw4")
        assert held, "the killed process held no lease"
        assert all(lease.expires_at <= killed_at + ttl + 0.05 for lease in held)
        while watcher.leases(owner="gw4"):
            watcher.expire(time.time())
            assert time.time() - killed_at < ttl + 2.0, "leases outlived the TTL"
            time.sleep(0.02)
        returned_after = time.time() - killed_at
        for hammer in hammers[:3]:
            assert hammer.proc.wait(timeout=120) == 0, hammer.of("output")
            assert hammer.wait_for(lambda ev: ev and ev[-1]["event"] == "done", timeout=5)
    finally:
        stop_sampling.set()
        for hammer in hammers:
            hammer.stop()
        sampler.join(timeout=5)
    assert returned_after <= ttl + 2.0  # expiry is exact (asserted above); polling is not
    assert samples and max(samples) <= size, max(samples)
    assert max(samples) >= size - 2, "the run never filled the pool: no contention tested"
    for hammer in hammers[:3]:
        acquired = hammer.of("acquired")
        assert len(acquired) == 100
        assert max(e["leased"] for e in acquired) <= size
        assert hammer.of("done")[0]["dials"] == 100
    assert watcher.pool_state().leased == 0
    watcher.close()


@pytest.mark.slow
def test_sqlite_kill_mid_call_loses_no_reported_cdr_and_restart_frees_leases(
    sqlite_url: str,
) -> None:
    store = open_store(sqlite_url, ttl=30.0)
    store.set_pool_size(4)
    hammer = Hammer(sqlite_url, "gw-a", "--dials", "100000", "--parallel", "3", "--hold",
                    "0.002", "--ttl", "30", "--cdrs")
    try:
        assert hammer.wait_for(lambda ev: len(ev) >= 120, timeout=60), hammer.events[-3:]
        os.kill(hammer.proc.pid, signal.SIGKILL)
        hammer.proc.wait()
        acquired = [e["call_id"] for e in hammer.of("acquired")]
        released = [e["call_id"] for e in hammer.of("released")]
    finally:
        hammer.stop()
    store.close()

    restarted = open_store(sqlite_url, ttl=30.0)  # the gateway comes back with its instance id
    cdrs = {cdr.call_id: cdr for cdr in restarted.cdrs(limit=100000)}
    assert set(acquired) <= set(cdrs), "a CDR reported before the kill is missing"
    for call_id in released:
        assert cdrs[call_id].outcome == "completed" and cdrs[call_id].ended_at is not None
        assert cdrs[call_id].rtp == {"packets": 50, "lost": 0}
    held = restarted.leases(owner="gw-a")
    assert held, "the process held no lease when killed"
    assert {lease.call_id for lease in restarted.release_owner("gw-a")} == {
        lease.call_id for lease in held
    }
    assert restarted.pool_state().leased == 0
    restarted.close()


def test_sqlite_stale_owner_leases_expire_after_the_ttl(sqlite_url: str) -> None:
    store = open_store(sqlite_url, ttl=1.0)
    store.set_pool_size(3)
    hammer = Hammer(sqlite_url, "gw-b", "--dials", "2", "--parallel", "3", "--hold", "0",
                    "--ttl", "1", "--heartbeat", "0.2", "--hold-forever")
    try:
        assert hammer.wait_for(lambda ev: any(e["event"] == "holding" for e in ev), timeout=30)
        time.sleep(1.2)  # heartbeats keep them alive past one TTL
        assert len(store.leases(owner="gw-b")) == 2
        assert store.expire(time.time()) == []
        os.kill(hammer.proc.pid, signal.SIGKILL)
        killed_at = time.time()
        hammer.proc.wait()
    finally:
        hammer.stop()
    while store.leases(owner="gw-b"):
        store.expire(time.time())
        assert time.time() - killed_at <= 1.0 + 1.0
        time.sleep(0.02)
    store.close()
