"""pjsua2 never runs inside the daemon: even a one-room gateway has its engine in a child
process, so killing that process (SIGKILL) or pjsip aborting in it (SIGABRT, what abort() on a
failed pjsip assertion raises) leaves the daemon serving: ``/readyz`` says 503 naming the room
until a fresh engine has registered it again, and calls work again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.daemon import Gateway
from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from signaling.pjsua import CALLS_PER_ENGINE, SipEnginePool
from signaling.sip.types import CauseOrigin, RegState
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "82419374650"


def _engine_pid(gw: Gateway) -> int:
    pool = gw.engine
    assert isinstance(pool, SipEnginePool)
    alive = [shard for shard in pool._shards if not shard.dead]
    assert len(alive) == 1 and alive[0]._proc is not None
    assert ROOM in alive[0].endpoints
    return alive[0]._proc.pid


async def _readiness_until_back(gw: Gateway, timeout: float = 60) -> list[dict[str, Any]]:
    """``/readyz`` answers (status and body) from now until it is 200 after a 503."""
    seen: list[dict[str, Any]] = []
    async with httpx.AsyncClient(base_url=f"http://{gw.http_address}", timeout=10) as client:
        deadline = time.monotonic() + timeout
        while True:
            answer = await client.get("/readyz")
            seen.append({"status": answer.status_code, **answer.json()})
            if answer.status_code == 200 and any(s["status"] == 503 for s in seen):
                return seen
            assert time.monotonic() < deadline, seen[-3:]
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGABRT], ids=["sigkill", "sigabrt"])
def test_one_room_engine_dies_and_the_daemon_stays(
    tmp_path: Path, registrar: Kamailio, how: signal.Signals
) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None and isinstance(gw.engine, SipEnginePool)
            pid = _engine_pid(gw)
            assert pid != os.getpid()
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, call.call_id)
            assert (await gw.ports()).leased == 1
            os.kill(pid, how)
            killed = time.monotonic()
            ended = await gw.tracker.wait_ended(call.call_id, 10)
            assert ended.ended_at is not None and time.monotonic() - killed < 5
            assert (await gw.ports()).leased == 0
            engine_end = [e for e in gw.engine.call_phases.values()
                          if e.phase.name == "DISCONNECTED"]
            assert engine_end and all(e.origin is CauseOrigin.LOCAL for e in engine_end)
            seen = await _readiness_until_back(gw)
            waiting = [s for s in seen if s["status"] == 503]
            assert waiting and all(s["rooms_waiting"] == [ROOM] for s in waiting), waiting
            assert seen[-1]["ready"] is True and seen[-1]["rooms_waiting"] == []
            status = await gw.engine.wait_registration(ROOM, 15, 0, (RegState.REGISTERED,))
            assert status.state is RegState.REGISTERED
            assert _engine_pid(gw) != pid  # a fresh engine process, the daemon the same
            again = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, again.call_id)
            await gw.tracker.hangup(again.call_id)

    asyncio.run(run())


def test_the_pool_sizes_each_engine_by_its_call_capacity() -> None:
    """Each engine process says how many calls it holds; the pool puts no more endpoints on
    it than that (the wheel's 4 calls, pinned in tests/sip/test_capacity.py)."""
    from signaling.sip.config import EndpointConfig, EngineConfig

    async def run(max_calls: int) -> list[int]:
        async with SipEnginePool(EngineConfig(max_calls=max_calls)) as pool:
            for n in range(5):
                await pool.add_endpoint(EndpointConfig(name=f"e{n}", user=f"e{n}",
                                                       register=False))
            assert {shard.capacity for shard in pool._shards} == {
                min(max_calls, CALLS_PER_ENGINE)}
            return [len(shard.endpoints) for shard in pool._shards]

    assert asyncio.run(run(32)) == [CALLS_PER_ENGINE, 5 - CALLS_PER_ENGINE]
    assert asyncio.run(run(2)) == [2, 2, 1]
