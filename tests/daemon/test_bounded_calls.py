"""The daemon forgets finished calls (the CDR store keeps them): the tracker, the engine's
phases and the stand-in's event buffer stay bounded however many calls go through."""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path

from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "82419374650"
CALLS = 4
KEEP = 2



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
