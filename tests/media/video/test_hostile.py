"""Hostile input from the far end is counted and survived: garbage, a wrong payload type,
truncated NAL units, a lost fragment, a resolution change mid-stream, a flood of RTP and RTCP."""

from __future__ import annotations

import os
import random
import struct
from collections.abc import Callable

from media.video import TestPatternSource, VideoStream
from media.video.codec import VideoEncoder

from .conftest import SMALL, RawRtp, codec_named, wait_for


def _frames(width: int, height: int, count: int, key_first: bool = True) -> list[list[bytes]]:
    codec = codec_named("H264")
    encoder = VideoEncoder(codec, width, height, 15, 300, keyframe_interval_s=600)
    source = TestPatternSource(width, height)
    out = []
    for i in range(count):
        payloads, _ = encoder.encode(source.frame(i, i / 15), keyframe=key_first and i == 0)
        out.append(payloads)
    return out


def _receiver(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> tuple[VideoStream, RawRtp]:
    rx = VideoStream(codec=codec_named("H264"), direction="recvonly", **SMALL)
    streams.append(rx)
    rx.start(None)
    return rx, raw_rtp(rx.local_port)


def test_bad_packets_counted_and_decoding_goes_on(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> None:
    rx, peer = _receiver(streams, raw_rtp)
    frames = _frames(320, 240, 13)
    for payloads in frames[:10]:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames >= 10)
    for _ in range(50):  # not RTP at all (version 0)
        peer.raw(b"\x00" + os.urandom(40))
    for _ in range(20):  # a payload type that was not negotiated
        peer.send(b"\x65" + os.urandom(100), payload_type=100)
    peer.send(bytes([24, 0x00, 0x50, 0x65, 1, 2]))  # STAP-A whose NAL length runs past the end
    peer.send(bytes([0x1C]))  # FU-A cut after its indicator
    peer.send(bytes([0x00, 0x01, 0x02]))  # NAL type 0: not allowed
    peer.raw(os.urandom(30), port=rx.local_port + 1)  # RTCP port: garbage
    assert wait_for(lambda: rx.stats().bad_packets >= 74), rx.stats()
    decoded = rx.stats().decoded_frames
    # the junk took sequence numbers: a gap, so the next frames wait for a keyframe, asked for
    for payloads in frames[10:13]:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().plis_sent >= 1), rx.stats()
    for payloads in _frames(320, 240, 10):  # the answer: a keyframe, then more frames
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames >= decoded + 10), rx.stats()
    assert rx.stats().keyframe_rtt_ms is not None


def test_lost_fragment_drops_frame_and_asks_for_keyframe(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> None:
    rx = VideoStream(codec=codec_named("H264"), direction="recvonly", **SMALL)
    streams.append(rx)
    asked: list[int] = []
    rx.on_keyframe_needed(lambda: asked.append(1))
    rx.start(None)
    peer = raw_rtp(rx.local_port)
    frames = _frames(320, 240, 12)
    assert len(frames[0]) >= 2
    peer.send_frame(frames[0], skip={len(frames[0]) - 1})  # the keyframe loses its last packet
    for payloads in frames[1:6]:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().dropped_frames >= 1 and asked), rx.stats()
    assert rx.stats().decoded_frames == 0  # nothing decodable without the keyframe
    again = _frames(320, 240, 8)
    for payloads in again:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames >= 6), rx.stats()
    assert rx.stats().keyframe_rtt_ms is not None


def test_resolution_change_mid_stream(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> None:
    rx, peer = _receiver(streams, raw_rtp)
    for payloads in _frames(320, 240, 10):
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames >= 10)
    for payloads in _frames(176, 144, 10):
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames >= 20), rx.stats()
    s = rx.stats()
    assert (s.width, s.height) == (176, 144) and s.resolution_changes == 1


def test_flood_is_bounded_and_survived(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> None:
    codec = codec_named("VP8")
    tx = VideoStream(codec=codec, **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 10)
    flood = raw_rtp(rx.local_port)
    rng = random.Random(7)
    for i in range(20000):  # bounded: 20 000 datagrams as fast as the socket takes them
        kind = i % 4
        if kind == 0:  # RTP from a stranger SSRC with random payload
            flood.ssrc = rng.getrandbits(32)
            flood.seq = rng.getrandbits(16)
            flood.send(os.urandom(rng.randrange(1, 1200)))
        elif kind == 1:
            flood.raw(os.urandom(rng.randrange(1, 1400)))
        elif kind == 2:
            flood.raw(struct.pack("!BBH", 0x81, 206, 200) + os.urandom(8), port=rx.local_port + 1)
        else:
            flood.send(os.urandom(50), payload_type=rng.choice([0, 8, 101, 127]))
    assert wait_for(lambda: rx.stats().bad_packets >= 1000), rx.stats()
    before = rx.stats().decoded_frames
    assert wait_for(lambda: rx.stats().decoded_frames >= before + 15), rx.stats()
    assert len(rx._assembler.packets) <= rx._assembler.max_packets
    assert rx.stats().codec == "VP8"


def test_frames_after_a_lost_frame_wait_for_a_keyframe(
    streams: list[VideoStream], raw_rtp: Callable[[int], RawRtp]
) -> None:
    rx, peer = _receiver(streams, raw_rtp)
    frames = _frames(320, 240, 10)
    for payloads in frames[:4]:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames == 4)
    peer.send_frame(frames[4], skip=set(range(len(frames[4]))))  # a whole frame lost
    for payloads in frames[5:]:
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().dropped_frames >= 5 and rx.stats().plis_sent >= 1)
    assert rx.stats().decoded_frames == 4  # no picture built on a missing reference
    for payloads in _frames(320, 240, 3):
        peer.send_frame(payloads)
    assert wait_for(lambda: rx.stats().decoded_frames == 7), rx.stats()
