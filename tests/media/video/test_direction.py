"""sendonly/recvonly/inactive are honoured, and hold/resume by update() brings the video back."""

from __future__ import annotations

import time

from media.video import VideoStream

from .conftest import SMALL, codec_named, started_pair, wait_for


def test_sendonly_sends_and_does_not_decode(streams: list[VideoStream]) -> None:
    a, b = started_pair(streams, codec_named("VP8"), "sendonly", "sendrecv")
    assert wait_for(lambda: b.stats().decoded_frames >= 15 and a.stats().packets >= 15)
    sa = a.stats()
    assert sa.packets >= 15 and sa.decoded_frames == 0 and a.last_frame() is None
    assert sa.frames_sent >= 15


def test_inactive_and_recvonly_send_no_rtp_then_resume(streams: list[VideoStream]) -> None:
    a, b = started_pair(streams, codec_named("H264"), "inactive", "recvonly")
    # RTCP still flows (RFC 3264 6.1): wait for a report each way, then check no RTP came
    assert wait_for(lambda: a.stats().rtcp_received >= 1 and b.stats().rtcp_received >= 1)
    time.sleep(1.0)
    assert a.stats().frames_sent == 0 and b.stats().packets == 0
    assert b.stats().frames_sent == 0 and a.stats().packets == 0
    # resume (re-INVITE a=sendrecv): a keyframe is sent and decoded
    a.update(direction="sendrecv")
    assert wait_for(lambda: b.stats().decoded_frames >= 10)
    assert b.stats().keyframes_received >= 1
    # hold again: the sender stops, the receiver sees a freeze
    a.update(direction="inactive")
    sent = a.stats().frames_sent
    time.sleep(1.0)
    assert a.stats().frames_sent <= sent + 1
    assert wait_for(lambda: b.stats().freezes >= 1)
    # both sides on hold (b's answer says inactive too): the pause is no freeze
    freezes = b.stats().freezes - 1  # the ongoing one stops counting
    b.update(direction="inactive")
    time.sleep(1.0)
    assert b.stats().freezes == freezes
    a.update(direction="sendrecv")
    b.update(direction="recvonly")
    decoded = b.stats().decoded_frames
    assert wait_for(lambda: b.stats().decoded_frames >= decoded + 10)
    assert b.stats().freezes == freezes


def test_update_moves_the_stream_and_switches_codec(streams: list[VideoStream]) -> None:
    h264, vp8 = codec_named("H264"), codec_named("VP8")
    a = VideoStream(codec=h264, **SMALL)
    b = VideoStream(codec=h264, direction="recvonly", **SMALL)
    c = VideoStream(codec=vp8, direction="recvonly", **SMALL)
    streams += [a, b, c]
    a.start(("127.0.0.1", b.local_port))
    b.start(("127.0.0.1", a.local_port))
    c.start(("127.0.0.1", a.local_port))
    assert wait_for(lambda: b.stats().decoded_frames >= 10)
    a.update(remote_rtp=("127.0.0.1", c.local_port), codec=vp8)
    assert wait_for(lambda: c.stats().decoded_frames >= 10)
    assert c.stats().codec == "VP8" and c.stats().bad_packets == 0
