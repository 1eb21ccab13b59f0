"""Video legs driven by engine events, without SIP: two legs on loopback play both ends.

The events are the ones the engine emits (``VideoNegotiated``, ``KeyframeRequested``,
``CallStateChanged``); the far end is another leg, so the streams are real.
"""

from __future__ import annotations

import asyncio
import time

from gateway.roomvideo import RoomVideo
from gateway.videoleg import VideoLeg, codec_of
from signaling.sip.events import CallStateChanged, KeyframeRequested, VideoNegotiated
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase

SMALL = VideoSettings(width=160, height=120, framerate=10, bitrate_kbps=128)


class Asker:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def request_keyframe(self, call_id: str) -> None:
        self.asked.append(call_id)


def _negotiated(call_id: str, local: int, remote: int, **changes: object) -> VideoNegotiated:
    fields: dict[str, object] = dict(
        at=time.monotonic(), call_id=call_id, accepted=True, local_port=local,
        remote_host="127.0.0.1", remote_port=remote, remote_rtcp_port=remote + 1, codec="VP8",
        payload_type=97, fmtp="max-fs=80", direction="sendrecv", width=160, height=120,
        framerate=10, bitrate_kbps=128, rtcp_fb=("nack", "nack pli"),
    )  # fmt: skip
    fields.update(changes)
    return VideoNegotiated(**fields)  # type: ignore[arg-type]


def _ended(call_id: str) -> CallStateChanged:
    return CallStateChanged(time.monotonic(), call_id, "room", CallPhase.DISCONNECTED)


async def _until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.1)


def test_codec_of_keeps_the_far_ends_parameters() -> None:
    h264 = codec_of(_negotiated("c", 1, 2, codec="H264", payload_type=96,
                                fmtp="profile-level-id=42e01f;packetization-mode=1"))  # fmt: skip
    assert (h264.name, h264.payload_type, h264.fmtp["profile-level-id"]) == ("H264", 96, "42e01f")
    assert h264.rtcp_fb == frozenset({"nack", "nack pli"})


def test_two_legs_exchange_pictures_and_follow_hold_and_end() -> None:
    async def run() -> None:
        asker = Asker()
        a, b = VideoLeg(asker, SMALL, "127.0.0.1"), VideoLeg(asker, SMALL, "127.0.0.1")
        pa, pb = a.reserve().port, b.reserve().port
        assert pa % 2 == 0 and pb % 2 == 0 and pa != pb
        # events before the call id is known are kept and applied on attach
        a.on_event(_negotiated("a", pa, pb))
        a.attach("a")
        b.attach("b")
        b.on_event(_negotiated("b", pb, pa))
        try:
            await _until(
                lambda: (
                    a.stats()
                    and b.stats()
                    and a.stats().decoded_frames >= 5
                    and b.stats().decoded_frames >= 5
                )
            )  # type: ignore[union-attr]
            b.on_event(_negotiated("b", pb, pa, direction="recvonly"))  # b holds
            await asyncio.sleep(0.5)
            sent = b.stats().frames_sent  # type: ignore[union-attr]
            await asyncio.sleep(1.0)
            assert b.stats().frames_sent == sent  # type: ignore[union-attr]
            b.on_event(KeyframeRequested(time.monotonic(), "b"))
            assert b.keyframe_requests_received == 1
            b.on_event(_ended("b"))
            assert b.stream is not None
        finally:
            a.stop()
            b.stop()
        summary = a.summary()
        assert summary["negotiated"]["codec"] == "VP8" and summary["stats"]["decoded_frames"] >= 5

    asyncio.run(run())


def test_room_video_routes_answered_calls_and_placed_calls() -> None:
    async def run() -> None:
        asker = Asker()
        far = VideoLeg(asker, SMALL, "127.0.0.1")
        far_port = far.reserve().port
        rooms = RoomVideo(asker, ["room1"], "127.0.0.1", SMALL)
        assert rooms.endpoint_video("room1") == SMALL and rooms.endpoint_video("room2") is None
        assert rooms.prepare("room2") is None
        # an answered call: its leg is made from the first (answered) negotiation
        local = rooms.answered.legs
        placed = rooms.prepare("room1")
        assert placed is not None
        try:
            rooms.on_event(_negotiated("in-1", placed.settings.port + 2, far_port, answered=True))
            assert "in-1" in local and rooms.figures("in-1") is not None
            rooms.on_event(_ended("in-1"))
            assert "in-1" not in local and rooms.figures("in-1") is None
            # a placed call's answer arriving before the dial returned is kept for its leg
            rooms.on_event(_negotiated("call-1", placed.settings.port, far_port))
            assert not local
            rooms.attach(placed, "call-1")
            far.attach("far")
            far.on_event(_negotiated("far", far_port, placed.settings.port))
            await _until(lambda: placed.stats() and placed.stats().decoded_frames >= 3)  # type: ignore[union-attr]
            rooms.on_event(_ended("call-1"))
            assert "call-1" not in rooms.outgoing
        finally:
            rooms.stop()
            far.stop()

    asyncio.run(run())
