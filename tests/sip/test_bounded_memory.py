"""Finished calls leave the engine's memory: after many calls only the last ``keep_finished``
are remembered (phases, event marks, the engine thread's records and wire marks)."""

from __future__ import annotations

import asyncio
import time

import pytest

from signaling.pjsua import SipEngine
from signaling.sip.config import CallOptions, EngineConfig
from signaling.sip.types import CallPhase
from tests.harness.sipp import Sipp, sipp_available

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]

CALLS = 8
KEEP = 3


def test_engine_forgets_all_but_the_last_finished_calls() -> None:
    async def run(uri: str) -> None:
        async with SipEngine(EngineConfig(bind_address="127.0.0.1", pjsip_log_level=1)) as engine:
            engine.keep_finished = KEEP
            worker = engine._require()
            for _ in range(CALLS):
                call = await engine.dial(uri, options=CallOptions(timeout_s=10))
                assert (await engine.wait_call(call, timeout=20)).phase is CallPhase.CONNECTED
                await engine.hangup(call)
                await engine.wait_call(call, {CallPhase.DISCONNECTED}, 10)
                assert (await engine.wait_bye(call, 10)).code == 200
            deadline = time.monotonic() + 5
            while len(worker.calls) > KEEP and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert len(engine.call_phases) == KEEP
            assert len(engine._call_marks) == KEEP
            assert len(worker.calls) == KEEP
            assert len(worker._wire) <= KEEP and len(worker._key_of) <= KEEP
            assert call in engine.call_phases  # the latest is still answered for

    with Sipp("answer", calls=CALLS) as peer:
        asyncio.run(run(peer.uri))
