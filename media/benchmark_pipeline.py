"""The whole video path of a room, measured: H.264 in, compose, H.264 out, one thread.

N participants' H.264 streams (encoded at run time from synthetic moving pictures with PyAV's
libx264, nothing downloaded) are decoded with PyAV, composed into a layout and encoded with
libx264 (``ultrafast`` + ``zerolatency``, the room's size, framerate and bitrate). Two pipelines
do the same job with the same decoder and encoder settings:

- ``crcgw``: decode -> the decoded planes as numpy views (:func:`av_planes`, no copy) ->
  :class:`media.compositor.Compositor` -> the composed buffer wrapped as a ``VideoFrame``
  without a copy (:func:`av_frame_view`; libx264 copies its input picture during ``encode``,
  so the compositor may overwrite the buffer for the next frame) -> encode;
- ``ffmpeg``: decode -> FFmpeg filter graph ``buffer -> scale (area, bilinear when enlarging) ->
  xstack (-> pad)`` (see :class:`media.benchmark_video.FfmpegGraph`) -> encode.

Both run in the same process, one thread each (decoder and encoder ``threads=1``, filter graph
``threads=1``), alternating round by round; the round with the least CPU time counts. Reported:
output frames per second (wall clock, and on one core: 1000 / CPU ms), CPU time per output
frame, and each stage's share of it (``convert`` is crcgw's bridge between PyAV and numpy).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from media.benchmark_video import FfmpegGraph, single_thread
from media.colour import i420_planes
from media.compositor import Compositor
from media.layouts import Layout, fit
from media.testpattern import pattern_i420

__all__ = [
    "PIPELINE_CASES",
    "STAGES",
    "PipelineResult",
    "av_frame_view",
    "av_planes",
    "encode_streams",
    "run_pipeline",
]

PIPELINE_CASES: tuple[tuple[str, tuple[int, int], tuple[int, int]], ...] = tuple(
    (layout, source, output)
    for layout in ("LAYOUT4", "LAYOUT9")
    for source in ((1280, 720), (1920, 1080))
    for output in ((1280, 720), (1920, 1080))
)
"""(layout, participant source size, room size)."""
FRAMERATE = 30
ENCODER_OPTIONS = {"preset": "ultrafast", "tune": "zerolatency", "threads": "1"}
METHODS = ("crcgw", "ffmpeg")
STAGES = {
    "crcgw": ("decode", "convert", "compose", "encode"),
    "ffmpeg": ("decode", "compose", "encode"),
}


def room_bitrate(width: int, height: int) -> int:
    """The room's video bitrate in bit/s: 2 Mbit/s at 720p, scaled by area (4.5 at 1080p)."""
    return int(2_000_000 * width * height / (1280 * 720))


def _encoder(width: int, height: int, bitrate: int) -> Any:
    import av

    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = width, height, "yuv420p"
    enc.time_base = Fraction(1, FRAMERATE)
    enc.framerate = Fraction(FRAMERATE)
    enc.bit_rate = bitrate
    enc.gop_size = 2 * FRAMERATE
    enc.options = dict(ENCODER_OPTIONS)
    enc.thread_count = 1
    return enc


def av_planes(frame: Any) -> tuple[Any, ...]:
    """Numpy views of a yuv420p ``av.VideoFrame``'s planes (rows padded to the line size are
    cut to the plane width): a frame for :meth:`Compositor.compose` without a copy. The views
    are valid while ``frame`` lives."""
    views = []
    for plane in frame.planes:
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)
        views.append(rows[:, : plane.width])
    return tuple(views)


def av_frame(i420: Any) -> Any:
    """A new yuv420p ``av.VideoFrame`` holding a copy of the I420 array ``(h * 3 // 2, w)``:
    ``np.copyto`` into the frame's planes, 4-6x faster than ``VideoFrame.from_ndarray``
    (measured 31 against 190 us at 720p, 115 against 556 us at 1080p)."""
    import av

    rows, width = i420.shape
    height = rows * 2 // 3
    frame = av.VideoFrame(width, height, "yuv420p")
    for view, plane in zip(av_planes(frame), i420_planes(i420), strict=True):
        np.copyto(view, plane)
    return frame


def av_frame_view(i420: Any) -> Any:
    """A yuv420p ``av.VideoFrame`` over the I420 array ``(h * 3 // 2, w)`` itself, no copy
    (``VideoFrame.from_numpy_buffer``; the frame shows whatever the array holds), or a copy
    (:func:`av_frame`) of a strided array, which PyAV cannot wrap."""
    import av

    if i420.flags.c_contiguous:
        return av.VideoFrame.from_numpy_buffer(i420, format="yuv420p")
    return av_frame(i420)


def _decoder() -> Any:
    import av

    dec = av.CodecContext.create("h264", "r")
    dec.thread_count = 1
    return dec


def encode_streams(
    sizes: Sequence[tuple[int, int]], frames: int, bitrate: int = 1_500_000
) -> list[list[bytes]]:
    """One H.264 stream per size: ``frames`` pictures of a test pattern panning 4 pixels per
    frame, encoded with libx264 (ultrafast, zerolatency, no B-frames), one packet per frame."""
    import av

    streams = []
    for index, (w, h) in enumerate(sizes):
        enc = _encoder(w, h, bitrate)
        base = pattern_i420(w, h, seed=index)
        luma, chroma = base[:h], base[h:].reshape(2, h // 2, w // 2)
        packets: list[bytes] = []
        for k in range(frames):
            shift = 4 * k
            moved = np.concatenate(
                [
                    np.roll(luma, shift, axis=1),
                    np.roll(chroma, shift // 2, axis=2).reshape(h // 2, w),
                ]
            )
            frame = av.VideoFrame.from_ndarray(moved, format="yuv420p")
            frame.pts = k
            packets.extend(bytes(p) for p in enc.encode(frame))
        packets.extend(bytes(p) for p in enc.encode(None))
        streams.append(packets)
    return streams


@dataclass
class PipelineResult:
    layout: str
    source: tuple[int, int]
    output: tuple[int, int]
    frames: int
    fps: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    stages: dict[str, dict[str, float]] = field(default_factory=dict)
    """method -> stage -> share of the CPU time (0..1)."""
    out_bytes: dict[str, int] = field(default_factory=dict)

    def ratio(self) -> float:
        """FFmpeg's CPU time per output frame over crcgw's (> 1: crcgw is faster). CPU time,
        not wall clock: on a shared machine it counts only this process's work."""
        return self.cpu_ms["ffmpeg"] / self.cpu_ms["crcgw"]

    def cpu_fps(self, method: str) -> float:
        """Output frames per second one core would give: 1000 / CPU ms per frame."""
        return 1000.0 / self.cpu_ms[method]

    def as_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "source": "{}x{}".format(*self.source),
            "output": "{}x{}".format(*self.output),
            "frames": self.frames,
            "fps": {k: round(v, 1) for k, v in self.fps.items()},
            "cpu_fps": {k: round(self.cpu_fps(k), 1) for k in self.cpu_ms},
            "ratio_vs_ffmpeg": round(self.ratio(), 2),
            "cpu_ms_per_frame": {k: round(v, 2) for k, v in self.cpu_ms.items()},
            "stage_share": {
                m: {k: round(v, 3) for k, v in s.items()} for m, s in self.stages.items()
            },
            "encoded_bytes": self.out_bytes,
        }


class _Clock:
    """CPU time per stage (``time.process_time``: one thread, so the process is the stage)."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self._last = time.process_time()

    def lap(self, stage: str) -> None:
        now = time.process_time()
        self.cpu[stage] = self.cpu.get(stage, 0.0) + now - self._last
        self._last = now


def _decode_all(decoders: list[Any], streams: list[list[bytes]], k: int) -> list[Any]:
    import av

    frames = []
    for dec, packets in zip(decoders, streams, strict=True):
        got = dec.decode(av.Packet(packets[k]))
        if len(got) != 1:
            raise RuntimeError(f"decoder: expected one frame per packet, got {len(got)}")
        frames.append(got[0])
    return frames


def _run(
    compose: Callable[[list[Any], _Clock], Any],
    output: tuple[int, int],
    streams: list[list[bytes]],
    frames: int,
) -> tuple[float, _Clock, int]:
    """Decode, ``compose(decoded, clock)`` (laps its own stages) and encode ``frames`` frames:
    wall seconds, the stage clock and the encoded bytes."""
    decoders = [_decoder() for _ in streams]
    enc = _encoder(*output, room_bitrate(*output))
    clock, size = _Clock(), 0
    t0 = time.perf_counter()
    for k in range(frames):
        decoded = _decode_all(decoders, streams, k)
        clock.lap("decode")
        frame = compose(decoded, clock)
        frame.pts = k
        size += sum(p.size for p in enc.encode(frame))
        clock.lap("encode")
    size += sum(p.size for p in enc.encode(None))
    clock.lap("encode")
    return time.perf_counter() - t0, clock, size


def _run_crcgw(
    layout: str,
    output: tuple[int, int],
    sizes: list[tuple[int, int]],
    streams: list[list[bytes]],
    frames: int,
) -> tuple[float, _Clock, int]:
    comp = Compositor(layout, *output, background=(0, 0, 0))
    # plans, scratch buffers and compiled kernels are made on first use: not part of the run
    comp.compose([np.zeros((h * 3 // 2, w), np.uint8) for w, h in sizes])

    def compose(decoded: list[Any], clock: _Clock) -> Any:
        planes = [av_planes(f) for f in decoded]
        clock.lap("convert")
        out = comp.compose(planes)
        clock.lap("compose")
        frame = av_frame_view(out)
        clock.lap("convert")
        return frame

    return _run(compose, output, streams, frames)


def _run_ffmpeg(
    layout: str,
    output: tuple[int, int],
    sizes: list[tuple[int, int]],
    streams: list[list[bytes]],
    frames: int,
) -> tuple[float, _Clock, int]:
    tiles = Compositor(layout, *output).tile_rects(len(streams))
    placements = [fit(w, h, t, snap=0.0) for (w, h), t in zip(sizes, tiles, strict=True)]
    graph = FfmpegGraph(placements, *output, sizes)

    def compose(decoded: list[Any], clock: _Clock) -> Any:
        frame = graph.compose(decoded)
        clock.lap("compose")
        return frame

    return _run(compose, output, streams, frames)


def run_pipeline(
    cases: Sequence[tuple[str, tuple[int, int], tuple[int, int]]] = PIPELINE_CASES,
    *,
    rounds: int = 3,
    frames: int = 30,
) -> list[PipelineResult]:
    """Measure every (layout, source size, room size) case, both pipelines interleaved."""
    single_thread()
    streams_by_source: dict[tuple[int, int], list[list[bytes]]] = {}
    results = []
    for layout, source, output in cases:
        n = Layout.parse(layout).tiles
        if source not in streams_by_source:
            streams_by_source[source] = encode_streams([source] * 9, frames)
        streams = streams_by_source[source][:n]
        result = PipelineResult(layout, source, output, frames)
        best = dict.fromkeys(METHODS, math.inf)
        for r in range(rounds):
            for method in METHODS if r % 2 == 0 else METHODS[::-1]:
                run = _run_crcgw if method == "crcgw" else _run_ffmpeg
                wall, clock, size = run(layout, output, [source] * n, streams, frames)
                total = sum(clock.cpu.values())
                if total < best[method]:
                    best[method] = total
                    result.fps[method] = frames / wall
                    result.cpu_ms[method] = 1000 * total / frames
                    result.stages[method] = {s: t / total for s, t in clock.cpu.items()}
                    result.out_bytes[method] = size
        results.append(result)
    return results
