"""RTCP feedback: PLI and FIR are answered with a keyframe, keyframe requests are measured,
NACKed packets are retransmitted through a lossy relay, reports carry a round trip."""

from __future__ import annotations

import socket
import struct
import threading

from media.video import VideoCodec, VideoStream

from .conftest import SMALL, codec_named, wait_for


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


class LossyRelay:
    """Forward UDP from one port to a target, dropping chosen RTP sequence numbers once."""

    def __init__(self, target: int, drop_every: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.target, self.drop_every = ("127.0.0.1", target), drop_every
        self.dropped: set[int] = set()
        self.seen = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            seq = struct.unpack_from("!H", data, 2)[0]
            self.seen += 1
            drop = self.drop_every and self.seen > 30 and self.seen % self.drop_every == 0
            if drop and seq not in self.dropped:
                self.dropped.add(seq)
                continue
            self.sock.sendto(data, self.target)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


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
