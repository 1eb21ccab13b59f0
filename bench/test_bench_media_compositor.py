"""Compositor throughput, side by side with FFmpeg (PyAV xstack graph) and OpenCV into slices.

Real-time budget: one output frame per 1/framerate (66.7 ms at the PortSIP default of 15 fps,
33.3 ms at 30 fps). Sources: nine distinct 1280x720 I420 pictures in four sets (50 MB, more than
the L3), cycled so that every compose reads frames that are not in the cache. One thread.

    .venv/bin/python -m pytest bench/test_bench_media_compositor.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import av
import pytest

from media.benchmark_video import (
    SOURCE_SIZE,
    FfmpegGraph,
    OpenCvSlices,
    single_thread,
    source_sets,
)
from media.compositor import Compositor
from media.layouts import fit

CASES = [
    (layout, size)
    for layout in ("LAYOUT1", "LAYOUT4", "LAYOUT6", "LAYOUT9")
    for size in ((1280, 720), (1920, 1080))
]
IDS = [f"{layout}-{w}x{h}" for layout, (w, h) in CASES]


@pytest.fixture(scope="module")
def sources() -> list[list[Any]]:
    single_thread()
    return source_sets()


def _runner(method: str, layout: str, size: tuple[int, int], sources: list[list[Any]]) -> Any:
    n = int(layout[-1])
    comp = Compositor(layout, *size, background=(0, 0, 0))
    tiles = comp.tile_rects(n)
    if method == "crcgw":
        sets = [s[:n] for s in sources]
        compose = comp.compose
    else:
        exact = [fit(*SOURCE_SIZE, t, snap=0.0) for t in tiles]
        if method in ("opencv", "opencv-lin"):
            sets = [s[:n] for s in sources]
            compose = OpenCvSlices(exact, *size, linear=method == "opencv-lin").compose
        else:
            sets = [
                [av.VideoFrame.from_ndarray(f, format="yuv420p") for f in s[:n]] for s in sources
            ]
            compose = FfmpegGraph(exact, *size).compose
    state = {"i": 0}

    def run() -> None:
        for _ in range(10):
            state["i"] = (state["i"] + 1) % len(sets)
            compose(sets[state["i"]])

    return run


@pytest.mark.parametrize("method", ["crcgw", "ffmpeg", "opencv", "opencv-lin"])
@pytest.mark.parametrize(("layout", "size"), CASES, ids=IDS)
def test_compose_10_frames(
    benchmark: Any, sources: list[list[Any]], layout: str, size: tuple[int, int], method: str
) -> None:
    benchmark.group = f"compose {layout} {size[0]}x{size[1]} (10 frames)"
    benchmark(_runner(method, layout, size, sources))
