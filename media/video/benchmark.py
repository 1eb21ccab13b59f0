"""CPU cost of one video leg: encode + RTP packetize (what crcgw sends) and depacketize +
assemble + decode (what it receives), per second of call, at 360p/720p/1080p, H.264 and VP8.

One process, codecs on one thread each (``threads=1``), no network: the payloads go straight from
the packetizer to the depacketizer, so what is measured is the media work a call costs. CPU time
is ``time.process_time`` (all threads of the process). The source picture is drawn outside the
timed part (reported separately). Cases are interleaved round by round; the best round counts.

Content: ``pan`` (the default) is camera-like: the test picture panning in a circle, 4-8 pixels a
frame, with fresh sensor noise in every frame, 30 distinct frames cycled; ``still`` is the picture
crcgw itself sends (test pattern, running clock, a moving block), which costs the encoder far less.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from media.colour import rgb_to_i420
from media.testpattern import pattern_rgb
from media.video.assembler import FrameAssembler, Packet
from media.video.codec import VideoCodec, VideoDecoder, VideoEncoder, depayload
from media.video.sources import TestPatternSource

__all__ = ["CONTENTS", "RTP_CASES", "RtpLegResult", "run_rtp_legs"]

CONTENTS = ("pan", "still")

SIZES = {"360p": (640, 360, 800), "720p": (1280, 720, 2000), "1080p": (1920, 1080, 4000)}
# (codec, size, H.264 preset)
RTP_CASES: tuple[tuple[str, str, str], ...] = (
    ("H264", "360p", "ultrafast"),
    ("H264", "720p", "ultrafast"),
    ("H264", "720p", "veryfast"),
    ("H264", "1080p", "ultrafast"),
    ("VP8", "360p", "-"),
    ("VP8", "720p", "-"),
    ("VP8", "1080p", "-"),
)


@dataclass(frozen=True)
class RtpLegResult:
    codec: str
    size: str
    preset: str
    content: str
    fps: int
    bitrate_kbps: int
    frames: int
    encode_ms: float  # CPU per frame, encode + packetize
    decode_ms: float  # CPU per frame, depacketize + assemble + decode
    source_ms: float  # CPU per frame to draw the test picture (not in the leg figure)
    kbps_out: float  # what the encoder produced

    @property
    def cpu_per_call_second(self) -> float:
        """CPU seconds per second of call for one leg (encode + decode) at ``fps``."""
        return (self.encode_ms + self.decode_ms) * self.fps / 1000

    @property
    def legs_per_core(self) -> float:
        cost = self.cpu_per_call_second
        return 1 / cost if cost > 0 else float("inf")

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "cpu_per_call_second": round(self.cpu_per_call_second, 3),
            "legs_per_core": round(self.legs_per_core, 2),
        }


class PanSource:
    """Camera-like frames: a larger test picture seen through a window moving in a circle, plus
    per-frame noise; ``count`` frames made up front and cycled."""

    def __init__(self, width: int, height: int, count: int = 30, seed: int = 5) -> None:
        self.width, self.height = width, height
        margin = max(16, width // 20) & ~1
        big = pattern_rgb(width + 2 * margin, height + 2 * margin, seed).astype(np.int16)
        rng = np.random.default_rng(seed)
        self._frames: list[npt.NDArray[np.uint8]] = []
        for k in range(count):
            angle = 2 * np.pi * k / count
            x = int(margin + (margin - 2) * np.cos(angle)) & ~1
            y = int(margin + (margin - 2) * np.sin(angle)) & ~1
            crop = big[y : y + height, x : x + width]
            noisy = crop + rng.normal(0, 3, crop.shape).astype(np.int16)
            self._frames.append(rgb_to_i420(np.clip(noisy, 0, 255).astype(np.uint8)))

    def frame(self, index: int, t: float) -> npt.NDArray[np.uint8]:
        return self._frames[index % len(self._frames)]


def _codec(name: str, width: int, height: int, fps: int, kbps: int) -> VideoCodec:
    return VideoCodec.h264(96, width, height, fps, kbps) if name == "H264" else VideoCodec.vp8(96)


def _one_round(
    codec_name: str, size: str, preset: str, fps: int, frames: int, content: str
) -> tuple[float, float, float, float]:
    width, height, kbps = SIZES[size]
    codec = _codec(codec_name, width, height, fps, kbps)
    encoder = VideoEncoder(
        codec, width, height, fps, kbps,
        preset=preset if preset != "-" else "ultrafast", threads=1, keyframe_interval_s=10,
    )  # fmt: skip
    decoder = VideoDecoder(codec.name, threads=1)
    source: TestPatternSource | PanSource = (
        PanSource(width, height) if content == "pan" else TestPatternSource(width, height)
    )
    assembler = FrameAssembler()
    enc = dec = src = 0.0
    out_bytes = 0
    seq = 0
    for i in range(frames):
        t0 = time.process_time()
        picture = source.frame(i, i / fps)
        t1 = time.process_time()
        payloads, _ = encoder.encode(picture, keyframe=i == 0)
        t2 = time.process_time()
        for j, payload in enumerate(payloads):
            part = depayload(codec.name, payload)
            assembler.add(
                Packet(seq, i * 3000, j == len(payloads) - 1, part.frame_start, part.data)
            )
            seq += 1
        ready, _ = assembler.pop_frames(0.0)
        for frame in ready:
            decoder.decode(frame.data)
        t3 = time.process_time()
        src += t1 - t0
        enc += t2 - t1
        dec += t3 - t2
        out_bytes += sum(len(p) for p in payloads)
    encoder.close()
    per = 1000 / frames
    return enc * per, dec * per, src * per, out_bytes * 8 * fps / frames / 1000


def run_rtp_legs(
    cases: tuple[tuple[str, str, str], ...] = RTP_CASES,
    *,
    fps: int = 30,
    frames: int = 90,
    rounds: int = 3,
    content: str = "pan",
) -> list[RtpLegResult]:
    if content not in CONTENTS:
        raise ValueError(f"content: expected one of {', '.join(CONTENTS)}, got {content!r}")
    best: dict[tuple[str, str, str], tuple[float, float, float, float]] = {}
    for _ in range(rounds):
        for case in cases:
            got = _one_round(*case, fps=fps, frames=frames, content=content)
            if case not in best or got[0] + got[1] < best[case][0] + best[case][1]:
                best[case] = got
    return [
        RtpLegResult(
            codec,
            size,
            preset,
            content,
            fps,
            SIZES[size][2],
            frames,
            round(e, 3),
            round(d, 3),
            round(s, 3),
            round(k, 1),
        )  # fmt: skip
        for (codec, size, preset), (e, d, s, k) in best.items()
    ]


@dataclass(frozen=True)
class LiveLegResult:
    codec: str
    size: str
    seconds: float
    cpu_per_call_second: float  # CPU seconds per wall second, sender + receiver + RTP/RTCP
    fps_sent: float
    fps_decoded: float
    lost: int
    freezes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_live_leg(
    codec_name: str = "H264", size: str = "720p", seconds: float = 5.0
) -> LiveLegResult:
    """One leg for real: a sendonly stream to a recvonly stream on loopback (sockets, threads,
    RTCP), camera-like content at 30 fps. The process's CPU time over the wall time."""
    from media.video.stream import VideoStream

    width, height, kbps = SIZES[size]
    codec = _codec(codec_name, width, height, 30, kbps)
    source = PanSource(width, height)
    tx = VideoStream(codec=codec, source=source, fps=30, bitrate_kbps=kbps, direction="sendonly")
    rx = VideoStream(
        codec=codec, width=width, height=height, fps=30, bitrate_kbps=kbps, direction="recvonly"
    )
    try:
        rx.start(("127.0.0.1", tx.local_port))
        tx.start(("127.0.0.1", rx.local_port))
        time.sleep(1.0)  # past the first keyframe
        c0, w0, f0 = time.process_time(), time.monotonic(), tx.stats().frames_sent
        d0 = rx.stats().decoded_frames
        time.sleep(seconds)
        c1, w1 = time.process_time(), time.monotonic()
        st, sr = tx.stats(), rx.stats()
    finally:
        tx.stop()
        rx.stop()
    wall = w1 - w0
    return LiveLegResult(
        codec_name, size, round(wall, 2), round((c1 - c0) / wall, 3),
        round((st.frames_sent - f0) / wall, 1), round((sr.decoded_frames - d0) / wall, 1),
        sr.lost, sr.freezes,
    )  # fmt: skip
