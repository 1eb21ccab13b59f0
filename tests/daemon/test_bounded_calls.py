"""The daemon forgets finished calls (the CDR store keeps them): the tracker, the engine's
phases and the stand-in's event buffer stay bounded however many calls go through."""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path

from gateway.daemon import Gateway
from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "82419374650"
CALLS = 4
KEEP = 2
CALLERS = 4  # the engine's call capacity: a slot pjsua frees late is waited for too


def test_finished_calls_leave_memory_but_not_the_cdrs(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None and gw.engine is not None and gw.standin is not None
            gw.tracker.keep_finished = KEEP
            gw.engine.keep_finished = KEEP
            with gw.standin._arrived:  # a small buffer, to see it stay bounded
                gw.standin._events = deque(gw.standin._events, maxlen=5)
            ids = []
            for _ in range(CALLS):
                call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
                ids.append(call.call_id)
                await wait_connected(gw, call.call_id)
                await gw.tracker.hangup(call.call_id)
                await gw.tracker.wait_ended(call.call_id, 15)
            assert list(gw.tracker.calls) == ids[-KEEP:]
            assert len(gw.engine.call_phases) <= KEEP
            assert len(gw.standin.events) <= 5
            assert (await gw.ports()).leased == 0
            cdrs = await gw.cdrs(10, ROOM)
            assert {c.call_id for c in cdrs} >= set(ids)  # the store still has every call

    asyncio.run(run())


def test_a_burst_of_short_calls_waits_for_sockets_instead_of_aborting(
    tmp_path: Path, registrar: Kamailio
) -> None:
    """Short calls back to back from three callers: without the engine's socket budget, the
    media sockets of calls that just ended (held by pjlib for 500 ms) filled its ioqueue and
    pjlib asserted, aborting the whole process (bench/soak_calls.py at ~90 calls/s)."""
    burst = 120

    async def caller(gw: Gateway, placed: list[str]) -> None:
        assert gw.tracker is not None
        while len(placed) < burst:
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            placed.append(call.call_id)
            await wait_connected(gw, call.call_id, poll=0.002)  # as fast as calls go
            await gw.tracker.hangup(call.call_id)
            await gw.tracker.wait_ended(call.call_id, 15)

    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            placed: list[str] = []
            await asyncio.gather(*(caller(gw, placed) for _ in range(CALLERS)))
            assert (await gw.ports()).leased == 0
            cdrs = await gw.cdrs(200, ROOM)
            outcomes = {c.call_id: c.outcome for c in cdrs}
            assert all(outcomes.get(cid) == "connected" for cid in placed), outcomes

    asyncio.run(run())
