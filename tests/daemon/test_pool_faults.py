"""Faults injected into a running ``crcgw serve`` with real calls (room at Kamailio, stand-in
meeting, API emulator in its own process behind a fault proxy, SQLite store): the API hung or
refusing, the store locked by another process or full. After each: live calls never exceeded
the pool at any sampled moment, every lease came back, every CDR is closed, and the daemon
places calls again without a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.peers.faults import ChaosRig, FaultResult, run_fault
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, ROOM_PASSWORD

pytestmark = pytest.mark.slow


@pytest.fixture
def rig(tmp_path: Path, registrar: Kamailio) -> Iterator[ChaosRig]:
    with ChaosRig(tmp_path, registrar, ROOM, ROOM_PASSWORD, pool=2) as chaos:
        yield chaos


def held(result: FaultResult, rig: ChaosRig) -> None:
    assert result.max_live <= rig.pool, result.line()
    assert result.max_leased <= rig.pool, result.line()
    assert result.leases_after == 0, result.line()
    assert result.open_cdrs_after == 0, result.line()
    assert result.recover_s >= 0, f"no call went through after the fault:\n{rig.log_tail()}"


def test_api_hung_keeps_live_leases_and_never_overcommits(rig: ChaosRig) -> None:
    # The stall outlasts the lease TTL (4 s) several times: only heartbeats that do not wait
    # on the API keep the live calls' leases, so no third call gets a port.
    result = run_fault(rig, "api-hung", duration=12)
    held(result, rig)
    statuses = [status for status, _, _ in result.during]
    assert statuses and all(status in (201, 503) for status in statuses), result.during
    degraded = result.notes["readyz_during"]["degraded"]
    assert "api" in degraded and degraded["api"]["since"] is not None
    assert "no answer within" in degraded["api"]["reason"]


def test_api_refusing_keeps_the_last_figures_then_refuses_saying_why(
    tmp_path: Path, registrar: Kamailio
) -> None:
    with ChaosRig(tmp_path, registrar, ROOM, ROOM_PASSWORD, pool=3, stale_after=12) as rig:
        first, second = rig.place(), rig.place()
        assert rig.proxy is not None
        rig.proxy.set_mode("refuse")
        try:
            rig.wait(lambda: "api" in rig.readyz()["degraded"], 20, "API never seen degraded")
            ready = rig.readyz()
            assert ready["ready"]  # the last good figures are in use: calls still start
            assert 'crcgw_degraded{component="api"} 1.0' in rig.metrics()
            third = rig.place()  # the third port, by the last good figures
            assert rig.post_call().status_code == 503  # the pool is full (3 of 3)
            rig.hangup(third)
            # past stale_after (12 s) without a figure and no pool_size: refused, saying why
            rig.wait(lambda: not rig.readyz()["ready"], 40, "never stale")
            answer = rig.post_call()
            assert answer.status_code == 503
            assert "no port figure from the API since" in answer.json()["error"]
            assert rig.readyz()["checks"]["ports"] is False
        finally:
            rig.proxy.set_mode("pass")
        started = time.monotonic()
        rig.wait(lambda: bool(rig.readyz()["ready"]), 30, "never ready again")
        fourth = rig.place()
        recover = time.monotonic() - started
        for call_id in (first, second, fourth):
            rig.hangup(call_id)
        rig.wait(lambda: rig.ports()["leased"] == 0 and not rig.open_cdrs(), 20,
                 f"leases or CDRs left: {rig.ports()} {rig.open_cdrs()}")
        assert recover < 60
        assert "api" not in rig.readyz()["degraded"]


def test_store_locked_by_another_process(rig: ChaosRig) -> None:
    result = run_fault(rig, "store-locked", duration=8)
    held(result, rig)
    statuses = [status for status, _, _ in result.during]
    assert statuses and set(statuses) == {503}, result.during
    assert all(seconds < 10 for _, seconds, _ in result.during), result.during
    assert all("store" in text for _, _, text in result.during), result.during
    degraded = result.notes["readyz_during"]
    assert not degraded["ready"] and "store" in degraded["degraded"]
    # the call hung up during the lock was closed from the journal once the store was back
    assert not (rig.data / "cdr-journal.jsonl").exists()
    log = rig.log_path.read_text()
    assert log.count("store degraded") == 1, log  # once per state change, not per attempt
    assert log.count("store recovered") == 1, log
    assert result.notes["cpu_percent"] < 50, result.line()


def test_store_full(rig: ChaosRig) -> None:
    result = run_fault(rig, "store-full", duration=8)
    held(result, rig)
    statuses = [status for status, _, _ in result.during]
    assert statuses and set(statuses) == {503}, result.during
    assert "store" in result.notes["readyz_during"]["degraded"]
    # the maintenance loop backs off: no busy loop, no log flood (was 71% CPU and 1.5 MB/s)
    assert result.notes["cpu_percent"] < 50, result.line()
    assert result.notes["log_bytes"] < 20_000, result.line()


def test_a_client_that_gave_up_is_never_dialled(tmp_path: Path, registrar: Kamailio) -> None:
    import httpx

    from gateway.peers.faults import StoreLocker

    with ChaosRig(tmp_path, registrar, ROOM, ROOM_PASSWORD, pool=2, busy_timeout=6) as rig:
        locker = StoreLocker(rig.store_path)
        try:
            with pytest.raises(httpx.TimeoutException):
                rig.post_call(timeout=0.5)  # waits on the lock; the client gives up
            time.sleep(1.0)
        finally:
            locker.release()  # the acquire now goes through, after the client left
        rig.wait(lambda: not rig.open_cdrs() and bool(cdrs(rig)), 20, "no CDR")
        (record,) = cdrs(rig)
        assert record["outcome"] == "abandoned" and record["answered_at"] is None
        assert rig.ports()["leased"] == 0 and rig.calls() == []
        assert rig.api_in_use() == 0  # never reached the meeting
        call_id = rig.place()  # and the next call works
        rig.hangup(call_id)


def cdrs(rig: ChaosRig) -> list[dict[str, object]]:
    import httpx

    return list(httpx.get(f"{rig.base}/cdrs", timeout=10).json()["cdrs"])


def test_a_journal_left_by_a_killed_daemon_is_written_at_the_next_start(rig: ChaosRig) -> None:
    from gateway.peers.faults import StoreLocker

    call_id = rig.place()
    locker = StoreLocker(rig.store_path)
    try:
        assert rig.hangup(call_id) == 200  # its end cannot reach the store: journal
        journal = rig.data / "cdr-journal.jsonl"
        rig.wait(journal.exists, 20, "no journal")
        assert call_id in journal.read_text()
        rig.kill_serve()
    finally:
        locker.release()
    rig.start_serve()
    (record,) = [c for c in cdrs(rig) if c["call_id"] == call_id]
    assert record["outcome"] == "connected" and record["ended_at"] is not None  # not interrupted
    assert not journal.exists()
    assert rig.ports()["leased"] == 0
