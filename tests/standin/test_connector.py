"""The stand-in connector over real SIP: a pjsua2 call in, IVR by RFC 4733 DTMF, ports reported."""

from __future__ import annotations

import asyncio

from api_client.emulator import EmulatorServer, meeting_passcode
from gateway.standin.connector import standin_host_key
from gateway.standin.process import StandinProcess
from signaling.dialstring import DialTarget, ivr_steps
from signaling.pjsua import SipEngine
from signaling.sip.config import EngineConfig
from signaling.sip.types import CallPhase

MEETING = "82419374650"


def calls_in_progress(emulator: EmulatorServer) -> int:
    with emulator.zoom_client() as client:
        return len(client.emulator.calls())


async def _call(standin: StandinProcess, target: DialTarget, ivr_passcode: str | None,
                hold_s: float, emulator: EmulatorServer) -> tuple[str, int]:
    async with SipEngine(EngineConfig()) as engine:
        dial = target.without_secrets()
        full = target._replace(passcode=ivr_passcode) if ivr_passcode else dial
        steps = ivr_steps(full, first_delay_s=0.3, gap_s=0.3)
        call_id = await engine.dial(dial, ivr=steps)
        answered = await engine.wait_call(
            call_id, phases={CallPhase.CONNECTED, CallPhase.DISCONNECTED}, timeout=15
        )
        assert answered.phase is CallPhase.CONNECTED
        await asyncio.sleep(hold_s)
        in_use = await asyncio.to_thread(calls_in_progress, emulator)
        await engine.hangup(call_id)
        await engine.wait_call(call_id, phases={CallPhase.DISCONNECTED}, timeout=10)
        return call_id, in_use


def test_passcode_by_ivr_joins_and_holds_one_port(standin: StandinProcess,
                                                  emulator: EmulatorServer) -> None:
    target = DialTarget.sip(MEETING, host=standin.host, port=standin.port)
    _, in_use = asyncio.run(_call(standin, target, meeting_passcode(MEETING), 2.0, emulator))
    joined = standin.wait_for("joined", 5)
    assert joined["meeting_id"] == MEETING
    assert [e["asks"] for e in standin.events if e["event"] == "prompt"] == ["passcode"]
    assert in_use == 1
    ended = standin.wait_for("ended", 10)
    assert ended["joined"] is True
    assert calls_in_progress(emulator) == 0


def test_everything_in_the_uri_needs_no_ivr_and_claims_host(standin: StandinProcess,
                                                            emulator: EmulatorServer) -> None:
    target = DialTarget.sip(MEETING, host=standin.host, port=standin.port,
                            passcode=meeting_passcode(MEETING), host_key=standin_host_key(MEETING))

    async def run() -> None:
        async with SipEngine(EngineConfig()) as engine:
            call_id = await engine.dial(target)
            await engine.wait_call(call_id, phases={CallPhase.CONNECTED}, timeout=15)
            await asyncio.to_thread(standin.wait_for, "host", 5)
            await engine.hangup(call_id)
            await engine.wait_call(call_id, phases={CallPhase.DISCONNECTED}, timeout=10)

    asyncio.run(run())
    assert not [e for e in standin.events if e["event"] == "prompt"]
    assert standin.wait_for("ended", 10)["host"] is True


def test_wrong_passcode_three_times_is_hung_up_by_the_connector(standin: StandinProcess,
                                                                emulator: EmulatorServer) -> None:
    target = DialTarget.sip(MEETING, host=standin.host, port=standin.port)
    wrong = "1" if meeting_passcode(MEETING) != "1" else "2"

    async def run() -> CallPhase:
        async with SipEngine(EngineConfig()) as engine:
            call_id = await engine.dial(target, options=None)
            await engine.wait_call(call_id, phases={CallPhase.CONNECTED}, timeout=15)
            for _ in range(3):
                await asyncio.sleep(0.4)
                await engine.send_dtmf(call_id, wrong + "#")
            ended = await engine.wait_call(call_id, phases={CallPhase.DISCONNECTED}, timeout=15)
            return ended.phase

    assert asyncio.run(run()) is CallPhase.DISCONNECTED
    rejected = standin.wait_for("rejected", 5)
    assert rejected["code"] == 403
    assert calls_in_progress(emulator) == 0


def test_a_long_running_connector_sends_rtp_on_every_call(standin: StandinProcess,
                                                          emulator: EmulatorServer) -> None:
    """pjsua's null sound device clocks RTP; it must not auto-close between calls."""
    target = DialTarget.sip(MEETING, host=standin.host, port=standin.port,
                            passcode=meeting_passcode(MEETING))

    async def run() -> list[int]:
        received = []
        async with SipEngine(EngineConfig()) as engine:
            for _ in range(2):
                call_id = await engine.dial(target)
                await engine.wait_call(call_id, phases={CallPhase.CONNECTED}, timeout=15)
                await asyncio.sleep(1.0)
                received.append((await engine.call_stats(call_id)).rx_packets)
                await engine.hangup(call_id)
                await engine.wait_call(call_id, phases={CallPhase.DISCONNECTED}, timeout=10)
                await asyncio.sleep(1.6)  # longer than pjsua's default 1 s auto-close
        return received

    first, second = asyncio.run(run())
    assert first > 20 and second > 20
