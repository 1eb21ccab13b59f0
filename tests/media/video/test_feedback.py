"""RTCP feedback: PLI and FIR are answered with a keyframe, keyframe requests are measured,
NACKed packets are retransmitted through a lossy relay, reports carry a round trip."""

from __future__ import annotations

import socket
import struct
import threading

from media.video import VideoCodec, VideoStream

from .conftest import SMALL, LossyRelay, codec_named, wait_for


def _pli(sender: int, media: int) -> bytes:
    # RFC 4585 6.3.1, written out by hand: V=2, FMT=1, PT=206 (PSFB), length 2
    return struct.pack("!BBHLL", 0x81, 206, 2, sender, media)


def _fir(sender: int, media: int, seq_nr: int) -> bytes:
    # RFC 5104 4.3.1: FMT=4, FCI = SSRC of the sender asked + seq nr + 3 reserved bytes
    return struct.pack("!BBHLLLB3x", 0x84, 206, 4, sender, 0, media, seq_nr)


def test_pli_and_fir_from_outside_get_a_keyframe(streams: list[VideoStream]) -> None:
    tx = VideoStream(codec=codec_named("H264"), keyframe_interval_s=600, **SMALL)
    rx = VideoStream(codec=tx.codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 10)
    first = tx.stats().keyframes_sent
    assert first == 1  # only the opening keyframe so far
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(_pli(0xCAFE, tx.ssrc), ("127.0.0.1", tx.local_port + 1))
        assert wait_for(lambda: tx.stats().keyframes_sent == first + 1)
        assert tx.stats().plis_received == 1
        sock.sendto(_fir(0xCAFE, tx.ssrc, 7), ("127.0.0.1", tx.local_port + 1))
        assert wait_for(lambda: tx.stats().keyframes_sent == first + 2)
        assert tx.stats().firs_received == 1
        # a FIR for somebody else is not for us
        sock.sendto(_fir(0xCAFE, tx.ssrc ^ 1, 8), ("127.0.0.1", tx.local_port + 1))
    assert wait_for(lambda: rx.stats().keyframes_received >= 3)
    assert tx.stats().firs_received == 1


class _RequestAfterTheLook(threading.Event):
    """A stream's keyframe flag that, once armed, is set just after the sender looked at it
    and saw it clear: a PLI handled on the receiver thread at that moment (a thread switch
    between the sender's look and its reset), made certain."""

    armed = False

    def is_set(self) -> bool:
        seen = super().is_set()
        if self.armed and not seen:
            self.armed = False
            self.set()
        return seen


def test_a_request_arriving_while_a_frame_is_encoded_is_not_lost(
    streams: list[VideoStream],
) -> None:
    tx = VideoStream(codec=codec_named("VP8"), keyframe_interval_s=600, **SMALL)
    rx = VideoStream(codec=tx.codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    flag = _RequestAfterTheLook()
    tx._force_key = flag  # before start: the sender thread reads it from then on
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 5)
    assert tx.stats().keyframes_sent == 1
    flag.armed = True
    assert wait_for(lambda: not flag.armed)
    assert wait_for(lambda: tx.stats().keyframes_sent == 2), tx.stats()


def test_keyframe_request_round_trip_and_callback(streams: list[VideoStream]) -> None:
    fir_only = VideoCodec.vp8(rtcp_fb=frozenset({"ccm fir"}))
    tx = VideoStream(codec=fir_only, keyframe_interval_s=600, **SMALL)
    rx = VideoStream(codec=fir_only, **SMALL)
    streams += [tx, rx]
    asked: list[int] = []
    rx.on_keyframe_needed(lambda: asked.append(1))
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 5)
    rx.request_keyframe()
    assert wait_for(lambda: rx.stats().keyframe_rtt_ms is not None)
    s = rx.stats()
    assert s.keyframe_rtt_ms is not None and 0 < s.keyframe_rtt_ms < 10_000
    assert s.firs_sent >= 1 and s.plis_sent == 0  # the peer asked for FIR only
    assert asked, "on_keyframe_needed was not called"
    assert wait_for(lambda: tx.stats().firs_received >= 1)
    assert wait_for(lambda: rx.stats().rtt_ms is not None and tx.stats().rtt_ms is not None)


def test_nack_repairs_loss(streams: list[VideoStream]) -> None:
    codec = codec_named("H264")
    tx = VideoStream(codec=codec, keyframe_interval_s=600, **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    relay = LossyRelay(rx.local_port, drop_every=7)
    try:
        # RTP goes through the relay, RTCP (NACKs) straight to each other
        tx.start(("127.0.0.1", relay.port), ("127.0.0.1", rx.local_port + 1))
        rx.start(("127.0.0.1", tx.local_port))
        assert wait_for(lambda: len(relay.dropped) >= 10 and rx.stats().decoded_frames >= 40)
        relay.drop_every = 0  # the last drops get their retransmissions through
        assert wait_for(lambda: rx.stats().lost == 0), rx.stats()  # every dropped packet came back
    finally:
        relay.close()
    assert wait_for(lambda: tx.stats().retransmitted >= 10)
    r, t = rx.stats(), tx.stats()
    assert r.nacks_sent >= 10 and t.nacks_received >= 10
    assert r.decode_errors == 0
    # a repaired frame is decoded, not dropped (a late or lost retransmission may drop a few)
    assert r.dropped_frames < len(relay.dropped), r
