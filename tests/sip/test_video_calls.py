"""Video signalling beside pjsua2's audio, against baresip (fakevideo, vp8, avcodec).

Here only the SIP side: our offer reaches baresip and its answer is read; baresip's offer is
answered; hold and resume change the direction; INFO picture_fast_update goes out. The video
RTP itself is tested with ``crcgw dial``/``test-dial`` (tests/testdial/test_video_baresip.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from signaling.pjsua import SipEngine
from signaling.sip.config import CallOptions
from signaling.sip.events import MediaStateChanged, VideoNegotiated
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase
from tests.harness import Baresip, Kamailio
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = pytest.mark.sip

VIDEO = VideoSettings(width=320, height=240, framerate=10, bitrate_kbps=256)


def _video_events(engine: SipEngine, call_id: str) -> list[VideoNegotiated]:
    return [
        e for e in engine.events.since(0) if isinstance(e, VideoNegotiated) and e.call_id == call_id
    ]


async def _wait_video(
    engine: SipEngine, call_id: str, count: int, timeout: float = 10
) -> VideoNegotiated:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(_video_events(engine, call_id)) < count:
        assert loop.time() < deadline, (
            f"no video negotiation #{count}: {_video_events(engine, call_id)}"
        )
        await asyncio.sleep(0.05)
    return _video_events(engine, call_id)[count - 1]


@pytest.mark.parametrize("codec", ["VP8", "H264"])
def test_our_video_offer_is_answered_by_baresip_and_audio_still_flows(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip], codec: str
) -> None:
    bob = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"), video=(codec,))
    assert bob.wait_registered(), bob.log_tail()

    async def scenario(engine: SipEngine) -> None:
        assert (await engine.register(endpoint(kamailio, "room180"))).ok
        settings = VideoSettings(320, 240, 10, 256, codecs=(codec,), port=41000)
        options = CallOptions(timeout_s=10, video=settings)
        call = await engine.dial(bob.aor, endpoint="room180-udp", options=options)
        connected = await engine.wait_call(call, timeout=10)
        assert connected.phase is CallPhase.CONNECTED, connected.explanation
        video = await _wait_video(engine, call, 1)
        assert video.accepted, video.reason
        assert (video.codec, video.direction, video.local_port) == (codec, "sendrecv", 41000)
        assert video.remote_host == "127.0.0.1" and bob.rtp_low <= video.remote_port <= bob.rtp_high
        assert not video.answered
        await asyncio.sleep(1.0)
        assert _video_events(engine, call)[-1].direction == "sendrecv"  # no re-offer stopped it
        media = [e for e in engine.events.since(0) if isinstance(e, MediaStateChanged)]
        assert media and media[-1].active  # pjsua's audio is untouched by the video slot
        await asyncio.sleep(1.0)
        stats = await engine.call_stats(call)
        assert stats.rx_packets > 10 and stats.tx_packets > 10
        await engine.request_keyframe(call)  # INFO picture_fast_update; baresip answers it
        await engine.hangup(call)
        ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        assert ended.explanation is None

    run_engine(engine_config(kamailio), scenario)


def test_baresip_video_offer_is_answered_and_hold_resume_follow(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip]
) -> None:
    bob = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"), video=("VP8",))
    assert bob.wait_registered(), bob.log_tail()

    async def scenario(engine: SipEngine) -> None:
        config = endpoint(kamailio, "room181", auto_answer=True, video=VIDEO)
        assert (await engine.register(config)).ok
        mark = engine.events.mark()
        bob.dial("sip:room181@127.0.0.1")
        incoming = await engine.wait_incoming("room181-udp", 10, mark)
        call = incoming.call_id
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        first = await _wait_video(engine, call, 1)
        assert first.accepted and first.answered, first.reason
        assert first.codec == "VP8" and first.direction == "sendrecv"
        assert first.local_port > 0 and first.local_port % 2 == 0
        bob.command("hold")
        held = await _wait_video(engine, call, 2)
        assert held.direction in ("recvonly", "inactive"), held
        assert held.local_port == first.local_port  # the port stays for the call
        bob.command("resume")
        resumed = await _wait_video(engine, call, 3)
        assert resumed.accepted and resumed.direction == "sendrecv"
        bob.hangup()
        await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)

    run_engine(engine_config(kamailio), scenario)


def test_endpoint_without_video_leaves_the_offer_declined(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip]
) -> None:
    bob = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"), video=("VP8",))
    assert bob.wait_registered(), bob.log_tail()

    async def scenario(engine: SipEngine) -> None:
        assert (await engine.register(endpoint(kamailio, "room182", auto_answer=True))).ok
        mark = engine.events.mark()
        bob.dial("sip:room182@127.0.0.1")
        incoming = await engine.wait_incoming("room182-udp", 10, mark)
        assert (await engine.wait_call(incoming.call_id, timeout=10)).phase is CallPhase.CONNECTED
        await asyncio.sleep(0.5)
        assert _video_events(engine, incoming.call_id) == []
        bob.hangup()
        await engine.wait_call(incoming.call_id, {CallPhase.DISCONNECTED}, 5)

    run_engine(engine_config(kamailio), scenario)


def test_video_flows_again_after_hold_and_resume(
    kamailio: Kamailio, baresip_factory: Callable[..., Baresip]
) -> None:
    """The media side of hold/resume: our answered leg stops sending while held (recvonly) and
    pictures flow both ways again after the resume."""
    from gateway.videoleg import VideoLegs

    bob = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"), video=("VP8",))
    assert bob.wait_registered(), bob.log_tail()

    async def frames(legs: VideoLegs, call: str) -> tuple[int, int]:
        stats = legs.legs[call].stats()
        assert stats is not None
        return stats.decoded_frames, stats.frames_sent

    async def grows(legs: VideoLegs, call: str, index: int, timeout: float = 15) -> None:
        start = (await frames(legs, call))[index]
        deadline = asyncio.get_running_loop().time() + timeout
        while (await frames(legs, call))[index] < start + 5:
            assert asyncio.get_running_loop().time() < deadline, await frames(legs, call)
            await asyncio.sleep(0.2)

    async def scenario(engine: SipEngine) -> None:
        config = endpoint(kamailio, "room183", auto_answer=True, video=VIDEO)
        assert (await engine.register(config)).ok
        legs = VideoLegs(engine, VIDEO, "127.0.0.1")
        engine.add_listener(legs.on_event)
        try:
            mark = engine.events.mark()
            bob.dial("sip:room183@127.0.0.1")
            call = (await engine.wait_incoming("room183-udp", 10, mark)).call_id
            await _wait_video(engine, call, 1)
            await grows(legs, call, 0)  # baresip's pictures decoded
            await grows(legs, call, 1)  # ours sent
            bob.command("hold")
            held = await _wait_video(engine, call, 2)
            assert held.direction in ("recvonly", "inactive")
            await asyncio.sleep(1.0)
            sent = (await frames(legs, call))[1]
            await asyncio.sleep(1.5)
            assert (await frames(legs, call))[1] == sent  # nothing sent while held
            bob.command("resume")
            assert (await _wait_video(engine, call, 3)).direction == "sendrecv"
            await grows(legs, call, 1)
            await grows(legs, call, 0)
            bob.hangup()
            await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        finally:
            legs.stop()

    run_engine(engine_config(kamailio), scenario)
