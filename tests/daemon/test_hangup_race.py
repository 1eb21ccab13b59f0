"""``DELETE /calls/{id}`` for a call that ended a moment ago (the engine knows, the tracker not
yet): the call's end is reported, not a 500 (found by bench/soak_calls.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "82419374650"


def test_hanging_up_a_call_that_just_ended_reports_its_end(
    tmp_path: Path, registrar: Kamailio
) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None and gw.engine is not None
            for _ in range(3):
                call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
                await wait_connected(gw, call.call_id)
                engine_id = gw.tracker.calls[call.call_id].engine_call_id
                assert engine_id is not None
                # both at once: the engine ends the call before the tracker has heard of it
                _, info = await asyncio.gather(gw.engine.hangup(engine_id),
                                               gw.hangup(call.call_id))
                assert info.state == "ended", info
                await gw.tracker.wait_ended(call.call_id, 15)
            assert (await gw.ports()).leased == 0

    asyncio.run(run())
