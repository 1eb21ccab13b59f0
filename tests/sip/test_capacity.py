"""Simultaneous calls: one pjsua2 engine process holds 4 (the wheel's PJSUA_MAX_CALLS), and an
engine pool sized by that carries as many calls as the CRC pool has ports (10), one per room.

The far end is SIPp answering every call and echoing RTP.
"""

from __future__ import annotations

import asyncio

import pytest

from signaling.pjsua import CALLS_PER_ENGINE, ROOMS_PER_ENGINE, SipEngine, SipEnginePool
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.errors import SipConfigError
from signaling.sip.types import CallPhase
from tests.harness.sipp import Sipp, sipp_available

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]

CONFIG = EngineConfig(bind_address="127.0.0.1", pjsip_log_level=1)


def test_one_engine_holds_its_capacity_and_refuses_the_next_call_clearly() -> None:
    async def run(uri: str) -> None:
        async with SipEngine(CONFIG) as engine:
            calls = [
                await engine.dial(uri, options=CallOptions(timeout_s=10))
                for _ in range(CALLS_PER_ENGINE)
            ]
            ends = await asyncio.gather(*(engine.wait_call(c, timeout=20) for c in calls))
            assert all(end.phase is CallPhase.CONNECTED for end in ends), ends
            with pytest.raises(SipConfigError, match="its limit"):
                await engine.dial(uri, options=CallOptions(timeout_s=10))
            # the limit is pjsua's, not ours: asking pjsua for more changes nothing
            for call in calls:
                await engine.hangup(call)

    assert CALLS_PER_ENGINE == 4
    with Sipp("answer", calls=CALLS_PER_ENGINE) as peer:
        asyncio.run(run(peer.uri))


def test_a_call_hung_up_here_counts_once_in_the_socket_budget() -> None:
    """A hang-up from here ends the call inside pjsua2's own ``hangup`` (a nested step): it
    was counted twice, which halved the call rate the budget allows (the soak's 15 calls/s)."""

    async def run(uri: str) -> int:
        async with SipEngine(CONFIG) as engine:
            call = await engine.dial(uri, options=CallOptions(timeout_s=10))
            assert (await engine.wait_call(call, timeout=20)).phase is CallPhase.CONNECTED
            await engine.hangup(call)
            await engine.wait_call(call, {CallPhase.DISCONNECTED}, timeout=20)
            # only the next dial forgets ends older than SOCKET_SETTLE_S: none came
            return len(engine._require()._media_closed)

    with Sipp("answer", calls=1) as peer:
        assert asyncio.run(run(peer.uri)) == 1


def test_the_real_pjsua_limit_is_what_the_engine_says() -> None:
    """Without our check pjsua itself refuses the call beyond with PJ_ETOOMANY: if a new
    pjsua2 wheel raises the limit, this fails and CALLS_PER_ENGINE must follow."""

    async def run(uri: str) -> str:
        async with SipEngine(CONFIG) as engine:
            worker = engine._require()
            worker.call_capacity = 64  # let every call through to pjsua itself
            calls = []
            try:
                for _ in range(CALLS_PER_ENGINE + 1):
                    calls.append(await engine.dial(uri, options=CallOptions(timeout_s=10)))
            except Exception as exc:  # noqa: BLE001 - whatever pjsua's refusal becomes
                return str(exc)
            finally:
                for call in calls:
                    await engine.wait_call(call, timeout=20)
                    await engine.hangup(call)
            return "no refusal"

    with Sipp("answer", calls=CALLS_PER_ENGINE + 1) as peer:
        refusal = asyncio.run(run(peer.uri))
    assert "PJ_ETOOMANY" in refusal, refusal


def test_ten_rooms_in_ten_simultaneous_calls_on_an_engine_pool() -> None:
    rooms = 10

    async def run(uri: str) -> None:
        async with SipEnginePool(CONFIG) as pool:
            for i in range(rooms):
                await pool.add_endpoint(EndpointConfig(name=f"room{i}", user=f"room{i}",
                                                       register=False))
            assert pool.engine_count == -(-rooms // ROOMS_PER_ENGINE)
            calls = await asyncio.gather(*(
                pool.dial(uri, endpoint=f"room{i}", options=CallOptions(timeout_s=20))
                for i in range(rooms)
            ))
            ends = await asyncio.gather(*(pool.wait_call(c, timeout=30) for c in calls))
            assert [end.phase for end in ends] == [CallPhase.CONNECTED] * rooms, ends
            await asyncio.sleep(1.0)
            stats = [await pool.call_stats(c) for c in calls]
            assert all(s.rx_packets > 0 and s.tx_packets > 0 for s in stats), stats
            for call in calls:
                await pool.hangup(call)
            await asyncio.gather(*(
                pool.wait_call(c, {CallPhase.DISCONNECTED}, timeout=20) for c in calls
            ))

    with Sipp("answer", calls=rooms) as peer:
        asyncio.run(run(peer.uri))
