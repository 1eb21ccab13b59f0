"""A killed engine process of an engine pool: its calls end at once with a local cause, its
endpoints show as failed and "restarting", a fresh engine takes them over and registers them
again, and they can call again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable

import pytest

from signaling.pjsua import SipEnginePool
from signaling.sip.config import CallOptions
from signaling.sip.types import CallPhase, CauseOrigin, RegState
from tests.harness import Kamailio
from tests.harness.sipp import Sipp, sipp_available
from tests.sip.helpers import endpoint, engine_config

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]


def test_killed_engine_is_noticed_its_calls_end_and_its_rooms_come_back(
    kamailio_factory: Callable[..., Kamailio],
) -> None:
    # a private registrar: the killed engine leaves its registrations behind until they expire
    kamailio = kamailio_factory(users={"room0": "room0pw", "room1": "room1pw"})
    rooms = [endpoint(kamailio, f"room{i}") for i in range(2)]

    async def run(uri: str) -> None:
        async with SipEnginePool(engine_config(kamailio, pjsip_log_level=1)) as pool:
            for room in rooms:
                assert (await pool.register(room, timeout=15)).ok
            assert pool.engine_count == 1
            call = await pool.dial(uri, endpoint=rooms[0].name,
                                   options=CallOptions(timeout_s=10))
            assert (await pool.wait_call(call, timeout=20)).phase is CallPhase.CONNECTED
            waiting = asyncio.ensure_future(pool.wait_call(call, {CallPhase.DISCONNECTED}, 30))
            process = pool._shards[0]._proc
            assert process is not None
            mark = pool.events.mark()
            os.kill(process.pid, signal.SIGKILL)
            killed = time.monotonic()
            ended = await waiting
            assert ended.phase is CallPhase.DISCONNECTED
            assert ended.at - killed < 1.0, ended.at - killed  # noticed within a second
            assert ended.origin is CauseOrigin.LOCAL and "engine process" in ended.reason
            assert pool.restarting == {room.name for room in rooms}
            assert pool.registrations[rooms[0].name].state is RegState.FAILED
            for room in rooms:
                status = await pool.wait_registration(room.name, 30, mark, (RegState.REGISTERED,))
                assert status.ok
            assert not pool.restarting
            assert pool.engine_count == 2  # the dead one keeps its number for old call ids
            await pool.hangup(call)  # a call of the dead engine: nothing to do, no error
            again = await pool.dial(uri, endpoint=rooms[1].name,
                                    options=CallOptions(timeout_s=10))
            assert (await pool.wait_call(again, timeout=20)).phase is CallPhase.CONNECTED
            await pool.hangup(again)
            await pool.wait_call(again, {CallPhase.DISCONNECTED}, 10)

    with Sipp("answer", calls=2) as peer:
        asyncio.run(run(peer.uri))
