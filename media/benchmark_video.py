"""Side-by-side video benchmark: crcgw's compositor, FFmpeg (PyAV filter graph) and OpenCV.

All of them compose the same I420 participant frames into the same layout, one thread each,
timed in interleaved rounds of one process (best round counts, so a noisy neighbour hurts
every method alike). The sources are the sizes rooms receive (:data:`SOURCE_SIZES`: CIF, 360p,
480p, 540p, 576p, 720p, 1080p and portrait phones), one size in every tile or a mix of them
(``mixed``: :data:`MIXED_SOURCES`, tile by tile):

- ``crcgw``: :class:`media.compositor.Compositor` (default settings: the scale snaps to an exact
  ratio within 3 % of it when that cuts under 1 % of each side at every edge, cached plans,
  compiled kernels);
- ``ffmpeg``: one ``buffer -> scale (flags=area, bilinear when enlarging: :data:`FFMPEG_FLAGS`)
  -> xstack`` graph (swscale, one thread), frames handed over as ready ``av.VideoFrame``
  objects and the output left in FFmpeg (the conversions are not timed, in FFmpeg's favour);
- ``opencv``: ``cv2.resize`` (``INTER_AREA`` shrinking, ``INTER_LINEAR`` enlarging) of each whole
  source plane straight into slices of a preallocated output, the tiles letterboxed exactly;
- ``opencv-lin``: the same with ``INTER_LINEAR`` everywhere, OpenCV's fastest choice (it samples
  instead of averaging below 1/2, which the PSNR column shows).

Quality is the PSNR of every method's tile content against a float64 reference computed on the
same source region and tile (exact area average when shrinking, bilinear when enlarging). The
bandwidth column is fps over the fps a plain numpy copy rate would allow for the bytes each
method must at least move per frame (the source regions it reads plus the tiles it writes).
"""

from __future__ import annotations

import ctypes
import glob
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from media.colour import i420_planes
from media.compositor import Compositor
from media.layouts import Layout, Placement, fit
from media.scaling import resample_float
from media.testpattern import pattern_i420

__all__ = [
    "MIXED_SOURCES",
    "SOURCE_SIZES",
    "VIDEO_CASES",
    "VIDEO_LAYOUTS",
    "FfmpegGraph",
    "OpenCvSlices",
    "VideoResult",
    "copy_rate",
    "run_video",
    "single_thread",
    "source_sets",
]

SOURCE_SIZE = (1280, 720)
SOURCE_SIZES: tuple[tuple[int, int], ...] = (
    (352, 288),
    (640, 360),
    (848, 480),
    (960, 540),
    (1024, 576),
    (1280, 720),
    (1920, 1080),
    (720, 1280),
    (1080, 1920),
)
MIXED_SOURCES: tuple[tuple[int, int], ...] = (
    (1920, 1080),
    (1280, 720),
    (720, 1280),
    (352, 288),
    (960, 540),
    (1080, 1920),
    (640, 360),
    (1024, 576),
    (848, 480),
)
"""The ``mixed`` source set: tile ``i`` shows a source of size ``MIXED_SOURCES[i]``."""
VIDEO_LAYOUTS = ("LAYOUT1", "LAYOUT2", "LAYOUT3", "LAYOUT4", "LAYOUT6", "LAYOUT9")
VIDEO_CASES: tuple[tuple[str, str, tuple[int, int]], ...] = tuple(
    (source, layout, size)
    for source in (*(f"{w}x{h}" for w, h in SOURCE_SIZES), "mixed")
    for layout in VIDEO_LAYOUTS
    for size in ((1280, 720), (1920, 1080))
)
"""(source, layout, output size): every source set into every layout at 720p and 1080p."""
SOURCE_SETS = 4
FFMPEG_FLAGS = ("area", "bilinear")
"""swscale's flags in the ``ffmpeg`` method: (shrinking, enlarging), the same filters as
crcgw's kernels (``fast_bilinear`` is faster and samples like ``opencv-lin``)."""
METHODS = ("crcgw", "ffmpeg", "opencv", "opencv-lin")
BASELINES = METHODS[1:]
U8 = npt.NDArray[np.uint8]


def single_thread() -> None:
    """One thread for OpenCV and for numpy's OpenBLAS (best effort)."""
    import cv2

    cv2.setNumThreads(1)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:  # the compiled kernels are serial; keep Numba's own pool (if any is used) at one
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # pragma: no cover - without Numba or its threading layer
        pass
    libs = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*.so*")
    for path in glob.glob(libs):
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads"):
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(1)
                break


def copy_rate(megabytes: int = 64, repeats: int = 5) -> float:
    """Bytes per second (read + write) moved by ``np.copyto`` on large buffers, best of N."""
    a = np.ones(megabytes << 20, np.uint8)
    b = np.empty_like(a)
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(b, a)
        best = min(best, time.perf_counter() - t0)
    return 2 * a.nbytes / best


@dataclass
class VideoResult:
    source: str
    layout: str
    width: int
    height: int
    fps: dict[str, float] = field(default_factory=dict)
    psnr_db: dict[str, float] = field(default_factory=dict)
    bandwidth_fraction: dict[str, float] = field(default_factory=dict)
    bytes_per_frame: dict[str, int] = field(default_factory=dict)

    def ratio(self, method: str) -> float:
        """crcgw fps over ``method``'s fps."""
        return self.fps["crcgw"] / self.fps[method]

    def ratio_opencv(self) -> float:
        """crcgw fps over the faster of OpenCV's ``INTER_AREA`` and ``INTER_LINEAR`` runs."""
        return self.fps["crcgw"] / max(self.fps["opencv"], self.fps["opencv-lin"])

    def as_dict(self) -> dict[str, Any]:
        faster = max(self.fps[m] for m in BASELINES)
        return {
            "source": self.source,
            "layout": self.layout,
            "output": f"{self.width}x{self.height}",
            "fps": {k: round(v, 1) for k, v in self.fps.items()},
            "ratio_vs_ffmpeg": round(self.ratio("ffmpeg"), 2),
            "ratio_vs_opencv": round(self.ratio("opencv"), 2),
            "ratio_vs_opencv_lin": round(self.ratio("opencv-lin"), 2),
            "ratio_vs_faster": round(self.fps["crcgw"] / faster, 2),
            "ratio_vs_faster_opencv": round(self.ratio_opencv(), 2),
            "psnr_db": {k: round(v, 1) for k, v in self.psnr_db.items()},
            "bandwidth_fraction": {k: round(v, 3) for k, v in self.bandwidth_fraction.items()},
            "bytes_per_frame": self.bytes_per_frame,
        }


class OpenCvSlices:
    """The straightforward OpenCV compositor: exact letterbox, whole sources, cv2.resize."""

    def __init__(
        self, placements: Sequence[Placement], width: int, height: int, *, linear: bool = False
    ) -> None:
        import cv2

        self.cv2 = cv2
        self.linear = linear
        self.placements = placements
        self.buffer = np.zeros((height * 3 // 2, width), np.uint8)
        y, u, v = i420_planes(self.buffer)
        y[:] = 16
        u[:] = 128
        v[:] = 128
        self.planes = (y, u, v)

    def compose(self, frames: Sequence[U8]) -> U8:
        cv2 = self.cv2
        for frame, p in zip(frames, self.placements, strict=True):
            c = p.content
            enlarge = c.w > p.source.w
            mode = cv2.INTER_LINEAR if enlarge or self.linear else cv2.INTER_AREA
            for i, (src, dst) in enumerate(zip(i420_planes(frame), self.planes, strict=True)):
                d = 2 if i else 1
                view = dst[c.y // d : (c.y + c.h) // d, c.x // d : (c.x + c.w) // d]
                cv2.resize(src, (c.w // d, c.h // d), dst=view, interpolation=mode)
        return self.buffer


class FfmpegGraph:
    """FFmpeg through PyAV: buffer -> scale -> xstack (-> pad) -> buffersink, one thread."""

    def __init__(
        self,
        placements: Sequence[Placement],
        width: int,
        height: int,
        sizes: Sequence[tuple[int, int]] | None = None,
        flags: str | None = None,
    ) -> None:
        """``sizes``: each input's source size (default :data:`SOURCE_SIZE` for all);
        ``flags``: swscale's for every tile (default :data:`FFMPEG_FLAGS`: ``area`` shrinking,
        ``bilinear`` enlarging)."""
        import av

        self.av = av
        graph = av.filter.Graph()
        graph.threads = 1
        sizes = list(sizes) if sizes is not None else [SOURCE_SIZE] * len(placements)
        base = Fraction(1, 30)
        self.buffers = [
            graph.add_buffer(width=sw, height=sh, format=av.VideoFormat("yuv420p"), time_base=base)
            for sw, sh in sizes
        ]
        scaled = []
        for buf, p, (sw, _) in zip(self.buffers, placements, sizes, strict=True):
            chosen = flags or FFMPEG_FLAGS[p.content.w > sw]
            scale = graph.add("scale", f"{p.content.w}:{p.content.h}:flags={chosen}")
            buf.link_to(scale)
            scaled.append(scale)
        right = max(p.content.x + p.content.w for p in placements)
        bottom = max(p.content.y + p.content.h for p in placements)
        if len(placements) > 1:
            layout = "|".join(f"{p.content.x}_{p.content.y}" for p in placements)
            node = graph.add("xstack", f"inputs={len(placements)}:layout={layout}:fill=black")
            for i, s in enumerate(scaled):
                s.link_to(node, 0, i)
        else:
            node = scaled[0]
        if (
            (right, bottom) != (width, height)
            or len(placements) == 1
            and (placements[0].content.x or placements[0].content.y)
        ):
            c = placements[0].content if len(placements) == 1 else None
            x, y = (c.x, c.y) if c is not None else (0, 0)
            pad = graph.add("pad", f"{width}:{height}:{x}:{y}:black")
            node.link_to(pad)
            node = pad
        self.sink = graph.add("buffersink")
        node.link_to(self.sink)
        graph.configure()
        self.graph = graph
        self.pts = 0

    def compose(self, frames: Sequence[Any]) -> Any:
        for buf, frame in zip(self.buffers, frames, strict=True):
            frame.pts = self.pts
            buf.push(frame)
        self.pts += 1
        return self.sink.pull()


def source_sets(
    count: int = SOURCE_SETS, sizes: Sequence[tuple[int, int]] | None = None
) -> list[list[U8]]:
    """``count`` sets of nine distinct participant frames, tile ``i`` of size ``sizes[i]``
    (default: all :data:`SOURCE_SIZE`; 50 MB for 4 sets of 720p, more than the 32 MB L3, so
    cycling through them gives every compose frames that are not cached)."""
    sizes = list(sizes) if sizes is not None else [SOURCE_SIZE] * 9
    base = [pattern_i420(sw, sh, seed=i) for i, (sw, sh) in enumerate(sizes)]
    return [[np.bitwise_xor(f, np.uint8(k)) for f in base] for k in range(count)]


def parse_source(name: str) -> list[tuple[int, int]]:
    """The nine tile source sizes of a source set name: ``"WxH"`` (all alike) or ``"mixed"``."""
    if name == "mixed":
        return list(MIXED_SOURCES)
    w, _, h = name.partition("x")
    if not (w.isdigit() and h.isdigit()) or int(w) % 2 or int(h) % 2 or min(int(w), int(h)) < 16:
        raise ValueError(
            f"source: expected mixed or an even WIDTHxHEIGHT like 1280x720, got {name!r}"
        )
    return [(int(w), int(h))] * 9


def _reference_psnr(
    output: U8,
    frames: Sequence[U8],
    placements: Sequence[Placement],
    cache: dict[tuple[object, ...], npt.NDArray[np.float64]] | None = None,
) -> float:
    """PSNR of the tile content of ``output`` against float64 area / bilinear references
    (``cache`` keeps the references by frame, source region and content size)."""
    squared, count = 0.0, 0
    out_planes = i420_planes(output)
    cache = {} if cache is None else cache
    for frame, p in zip(frames, placements, strict=True):
        s, c = p.source, p.content
        for i, (src, dst) in enumerate(zip(i420_planes(frame), out_planes, strict=True)):
            d = 2 if i else 1
            key = (id(frame), i, s, c.w, c.h)
            ref = cache.get(key)
            if ref is None:
                region = src[s.y // d : (s.y + s.h) // d, s.x // d : (s.x + s.w) // d]
                ref = resample_float(region.astype(np.float64), c.h // d, c.w // d, "float64")
                cache[key] = ref
            got = dst[c.y // d : (c.y + c.h) // d, c.x // d : (c.x + c.w) // d]
            squared += float(np.sum((got.astype(np.float64) - ref) ** 2))
            count += got.size
    mse = squared / max(1, count)
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _bytes(placements: Sequence[Placement]) -> int:
    return int(sum(1.5 * (p.source.area + p.content.area) for p in placements))


def _time_rounds(
    methods: dict[str, Callable[[int], object]], rounds: int, frames: int
) -> dict[str, float]:
    best = dict.fromkeys(methods, math.inf)
    names = list(methods)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            run = methods[name]
            run(0)  # warm
            t0 = time.perf_counter()
            for i in range(frames):
                run(i)
            best[name] = min(best[name], (time.perf_counter() - t0) / frames)
    return {name: 1.0 / t for name, t in best.items()}


def _runner(compose: Callable[[Any], object], sets: Sequence[Any]) -> Callable[[int], object]:
    """Compose set ``i mod len(sets)`` on call ``i``."""
    return lambda i: compose(sets[i % len(sets)])


def run_video(
    cases: Sequence[tuple[str, str, tuple[int, int]]] = VIDEO_CASES,
    *,
    rounds: int = 5,
    frames: int = 20,
    rate: float | None = None,
    sets: int = SOURCE_SETS,
) -> list[VideoResult]:
    """Measure every (source, layout, output size) case; ``rate`` is the copy rate in bytes/s
    (measured when ``None``)."""
    import av

    single_thread()
    rate = copy_rate() if rate is None else rate
    frames_by_source: dict[str, list[list[U8]]] = {}
    av_by_source: dict[str, list[list[Any]]] = {}
    references: dict[tuple[object, ...], npt.NDArray[np.float64]] = {}
    results = []
    for source, layout_name, (width, height) in cases:
        sizes = parse_source(source)
        if source not in frames_by_source:
            frames_by_source[source] = source_sets(sets, sizes)
            av_by_source[source] = [
                [av.VideoFrame.from_ndarray(f, format="yuv420p") for f in s]
                for s in frames_by_source[source]
            ]
        srcs, av_sets = frames_by_source[source], av_by_source[source]
        n = Layout.parse(layout_name).tiles
        comp = Compositor(layout_name, width, height, background=(0, 0, 0))
        tiles = comp.tile_rects(n)
        ours = [comp.plan(sw, sh, t) for (sw, sh), t in zip(sizes, tiles, strict=False)]
        exact = [fit(sw, sh, t, snap=0.0) for (sw, sh), t in zip(sizes, tiles, strict=False)]
        ocv = OpenCvSlices(exact, width, height)
        lin = OpenCvSlices(exact, width, height, linear=True)
        ff = FfmpegGraph(exact, width, height, sizes[:n])

        tile_sets = [f[:n] for f in srcs]
        av_tiles = [f[:n] for f in av_sets]
        fps = _time_rounds(
            {
                "crcgw": _runner(comp.compose, tile_sets),
                "ffmpeg": _runner(ff.compose, av_tiles),
                "opencv": _runner(ocv.compose, tile_sets),
                "opencv-lin": _runner(lin.compose, tile_sets),
            },
            rounds,
            frames,
        )
        first = srcs[0][:n]
        outputs = {
            "crcgw": (comp.compose(first).copy(), ours),
            "ffmpeg": (ff.compose(av_sets[0][:n]).to_ndarray(format="yuv420p"), exact),
            "opencv": (ocv.compose(first).copy(), exact),
            "opencv-lin": (lin.compose(first).copy(), exact),
        }
        result = VideoResult(source, layout_name, width, height, fps=fps)
        for name, (output, placements) in outputs.items():
            result.psnr_db[name] = _reference_psnr(output, first, placements, references)
            result.bytes_per_frame[name] = _bytes(placements)
            result.bandwidth_fraction[name] = fps[name] * result.bytes_per_frame[name] / rate
        results.append(result)
    return results
