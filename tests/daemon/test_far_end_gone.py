"""A call whose far end vanishes (the stand-in meeting killed mid-call, no BYE) is ended by RTP
inactivity with a local cause, and its CRC port comes back."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from gateway.config import LifecycleConfig
from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "82419374650"



def test_killed_far_end_ends_the_call_and_frees_the_port(
    tmp_path: Path, registrar: Kamailio
) -> None:
    async def run() -> None:
        config = gateway_config(tmp_path, registrar)
        config = config.model_copy(update={"lifecycle": LifecycleConfig(rtp_timeout=2)})
        async with running_gateway(config) as gw:
            assert gw.tracker is not None and gw.standin is not None
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, call.call_id)
            assert (await gw.ports()).leased == 1
            process = gw.standin._process
            assert process is not None
            os.kill(process.pid, signal.SIGKILL)  # no BYE, no more RTP: just gone
            killed_at = time.monotonic()
            ended = await gw.tracker.wait_ended(call.call_id, 30)
            took = time.monotonic() - killed_at
            assert ended.ended_at is not None
            assert 1.5 <= took < 25, took  # the 2 s RTP timeout, not for ever
            assert (await gw.ports()).leased == 0
            assert gw.engine is not None
            engine_id = gw.tracker.calls[call.call_id].engine_call_id
            assert engine_id is not None
            final = gw.engine.call_phases[engine_id]
            assert final.origin is not None and final.origin.value == "local"
            assert "no RTP from the far end" in (final.explanation or "")
            cdr = (await gw.cdrs(5, ROOM))[0]
            assert cdr.ended_at is not None
            assert cdr.sip_reason is not None and cdr.sip_reason.endswith("(local)")

    asyncio.run(run())
