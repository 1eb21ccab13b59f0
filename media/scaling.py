"""Per-tile scaling kernels: area-average downscale, bilinear upscale, into output slices.

A :class:`ScalePlan` is computed once per (source crop size, destination size) and cached by the
compositor; ``apply`` then only runs the kernel, writing straight into the destination view.

Kernel choice (``src`` and ``dst``: crop and content sizes of a :class:`~media.layouts.Placement`):

- ``copy``: equal sizes;
- with Numba, the exact 1/3, 2/3, 3/4 and 3/2 ratios run the compiled kernels of
  :mod:`media.kernels` on every 2-D plane that is a whole number of their periods, 2/3, 3/4
  and 3/2 only into a whole (contiguous) plane: into a tile their phases need a scratch plane
  and a copy, and the separable kernels below are faster (the choices below then apply to
  RGB24 frames, to planes that do not fit and to those tiles). Where the CPU resamples rows
  in place (:meth:`ScalePlan._direct_beats`: byte shuffles for 3/2, byte permutes for all
  three), the separable kernels take 2/3, 3/4 and 3/2 everywhere, being faster even into whole
  planes; 1/3 keeps ``box3``;
- with Numba and OpenCV, every other ratio (``linear``, ``area``, ``box`` for 1/k with k >= 4
  and ``rational`` planes that do not fit a fixed kernel, RGB24 included) runs the separable
  fixed-point kernels of :mod:`media.separable`: exact area weights when shrinking, bilinear
  when enlarging, taps cached per (source size, content size);
- ``area2``: exact 2:1 area average (OpenCV's SIMD ``INTER_AREA`` fast path);
- ``box`` (without Numba, or at 1/3 where ``box3`` does not fit): exact k:1 area average
  (integer sums of k rows, a transpose, sums of k rows again, one rounding division, a
  transpose back into the output slice);
- without Numba, ``linear``: 2-tap bilinear for upscaling and for downscaling ratios above 1/2,
  and ``area``: OpenCV ``INTER_AREA`` for other ratios below 1/2.

The compositor makes one streaming read (``cv2.sumElems``) of each source plane before its
kernel runs: ``cv2.resize`` keeps too few memory reads in flight to stream a frame that is not
cached, and that prefetch makes a tile 2-3x faster on frames fresh from a decoder.

Without OpenCV (or with ``use_opencv=False``) a pure-numpy kernel gives the same geometry: exact
area averaging for every downscale and bilinear for upscales, as separable gathers with
precomputed index and weight tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from media import kernels, separable
from media.kernels import HAVE_NUMBA
from media.permute_rows import HAVE_PERMUTE
from media.separable import Runner as SeparableRunner
from media.shuffle_rows import HAVE_SHUFFLE

cv2: Any
try:  # OpenCV is the fast kernel; the numpy path below is the fallback.
    import cv2
except ImportError:  # pragma: no cover - exercised by forcing use_opencv=False
    cv2 = None

__all__ = [
    "HAVE_NUMBA",
    "HAVE_OPENCV",
    "cv2",
    "ScalePlan",
    "axis_weights",
    "choose_kernel",
    "phase_taps",
    "resample_float",
    "resize_numpy",
]

HAVE_OPENCV = cv2 is not None
U8 = npt.NDArray[np.uint8]


def choose_kernel(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[str, Fraction]:
    """The kernel name and exact scale (``0`` when inexact) for ``src`` -> ``dst``."""
    sx, sy = Fraction(dst_w, src_w), Fraction(dst_h, src_h)
    exact = sx if sx == sy else Fraction(0)
    if exact == 1:
        return "copy", exact
    if exact == Fraction(1, 2):
        return "area2", exact
    if exact.numerator == 1 and exact.denominator <= 16:
        return "box", exact
    if exact in (Fraction(2, 3), Fraction(3, 4)):
        return "rational", exact
    if dst_w * 2 >= src_w and dst_h * 2 >= src_h:
        return "linear", exact
    return "area", exact


@lru_cache(maxsize=64)
def phase_taps(p: int, q: int) -> tuple[tuple[tuple[int, float], ...], ...]:
    """Exact area weights for ``q`` input lines -> ``p`` output lines (``p < q``).

    One entry per output phase: the (input phase, weight) pairs its footprint covers.
    """
    phases = []
    for o in range(p):
        a, b = Fraction(o * q, p), Fraction((o + 1) * q, p)
        taps = []
        for r in range(math.floor(a), math.ceil(b)):
            w = min(b, Fraction(r + 1)) - max(a, Fraction(r))
            if w > 0:
                taps.append((r, float(w * p / q)))
        phases.append(tuple(taps))
    return tuple(phases)


@lru_cache(maxsize=256)
def axis_weights(
    n_in: int, n_out: int, precision: str = "float32"
) -> tuple[npt.NDArray[np.intp], npt.NDArray[Any]]:
    """Index and weight tables ``(n_out, taps)`` for one axis.

    Downscale: exact area (box) integral over each output pixel's footprint. Upscale: bilinear with
    half-pixel centres and clamped edges (OpenCV's convention).
    """
    if n_out <= n_in:
        step = n_in / n_out
        taps = int(math.ceil(step)) + 1
        starts = np.arange(n_out) * step
        first = np.floor(starts).astype(np.intp)
        idx = first[:, None] + np.arange(taps)[None, :]
        lo = np.maximum(idx, starts[:, None])
        hi = np.minimum(idx + 1, starts[:, None] + step)
        weights = np.clip(hi - lo, 0.0, None) / step
    else:
        pos = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0, n_in - 1)
        first = (
            np.minimum(np.floor(pos).astype(np.intp), n_in - 2)
            if n_in > 1
            else np.zeros(n_out, np.intp)
        )
        frac = pos - first
        idx = first[:, None] + np.arange(2)[None, :]
        weights = np.stack([1 - frac, frac], axis=1)
    idx = np.clip(idx, 0, n_in - 1)
    return idx, weights.astype(precision)


def resample_float(
    src: npt.NDArray[Any], height: int, width: int, precision: str = "float32"
) -> npt.NDArray[Any]:
    """``src`` (h, w[, c]) resampled to ``height`` x ``width`` without rounding: exact area
    average when shrinking an axis, bilinear when enlarging it (float32 or float64)."""
    h_in, w_in = src.shape[:2]
    yi, yw = axis_weights(h_in, height, precision)
    xi, xw = axis_weights(w_in, width, precision)
    extra = (None,) * (src.ndim - 2)
    rows = np.zeros((height, w_in) + src.shape[2:], precision)
    for t in range(yi.shape[1]):
        rows += yw[(slice(None), t, None) + extra] * src[yi[:, t]]
    acc = np.zeros((height, width) + src.shape[2:], precision)
    for t in range(xi.shape[1]):
        acc += xw[(None, slice(None), t) + extra] * rows[:, xi[:, t]]
    return acc


def resize_numpy(src: npt.NDArray[Any], dst: npt.NDArray[Any]) -> None:
    """Resize ``src`` (h, w[, c]) into ``dst`` with the numpy kernel (area down, bilinear up)."""
    if src.shape[:2] == dst.shape[:2]:
        np.copyto(dst, src)
        return
    acc = resample_float(src, dst.shape[0], dst.shape[1])
    acc += 0.5
    np.floor(acc, out=acc)
    np.clip(acc, 0, 255, out=acc)
    np.copyto(dst, acc, casting="unsafe")


@dataclass
class ScalePlan:
    """Scale one source crop (``src_w`` x ``src_h``) to ``dst_w`` x ``dst_h``, per plane."""

    src_w: int
    src_h: int
    dst_w: int
    dst_h: int
    use_opencv: bool = HAVE_OPENCV
    use_numba: bool = HAVE_NUMBA
    kernel: str = field(init=False)
    scale: Fraction = field(init=False)
    _fixed: str | None = field(init=False, default=None, repr=False)
    separable: bool = field(init=False, default=False)
    scratch: dict[tuple[object, ...], npt.NDArray[Any]] = field(default_factory=dict, repr=False)
    """Intermediate buffers by (name, shape, dtype); pass one dict to all the plans of a
    compositor so that tiles of the same size reuse the same, cache-warm buffers."""
    _runners: dict[tuple[tuple[int, ...], tuple[int, ...]], SeparableRunner] = field(
        default_factory=dict, init=False, repr=False
    )
    """The separable kernels' prepared runs by (source plane shape, destination shape)."""

    def __post_init__(self) -> None:
        if self.use_opencv and cv2 is None:
            raise ValueError("use_opencv: expected False (OpenCV is not installed), got True")
        if self.use_numba and not HAVE_NUMBA:
            raise ValueError("use_numba: expected False (Numba is not installed), got True")
        self.kernel, self.scale = choose_kernel(self.src_w, self.src_h, self.dst_w, self.dst_h)
        # any other ratio: the compiled separable kernels (exact area down, bilinear up)
        # (and exact 1/k for k >= 4: 2-7x faster than the box kernel below, within one level)
        self.separable = (
            self.use_numba
            and self.use_opencv
            and self.kernel in ("linear", "area", "rational", "box")
            and self.scale != Fraction(1, 3)
        )
        self._fixed = self._fixed_kernel() if self.use_numba else None

    def _tile_for_separable(self, dst: U8) -> bool:
        """Whether the fixed kernel is a phase kernel (2/3, 3/4, 3/2) and ``dst`` a tile (not
        contiguous) that the separable kernels fill faster: into a tile the phases need a
        scratch plane and a copy (measured, cold sources: 2/3 183 -> 160 us, 3/4 224 -> 176 us,
        3/2 712 -> 465 us per luma plane; into a whole plane cv2.merge writes in place and the
        phase kernels win, 2/3 129 against 163 us, 3/4 157 against 177)."""
        if self._fixed is None or not self.separable or dst.flags.c_contiguous:
            return False
        return kernels.KERNEL_RATIOS[self._fixed][0] > 1

    def prefetch_into(self, dst: U8) -> bool:
        """:attr:`prefetch` for the destination view ``dst``: not before the separable kernels
        that take the tiles of a phase kernel."""
        return self.prefetch and not self._tile_for_separable(dst)

    @property
    def prefetch(self) -> bool:
        """Whether one streaming read of a cold source plane (``cv2.sumElems``) before the kernel
        pays for itself: yes for every shrinking kernel (measured with ``crcgw media bench``:
        +15-30 % at 4 to 9 tiles), no for copies and enlargements, which read less than they
        write. Not before the separable kernels either (unless a fixed kernel takes the planes
        that fit it): their rows pass streams the source itself, and the extra read made it
        slower (130 -> 181 us for a 1920x1080 luma plane)."""
        shrinking = self.kernel != "copy" and self.dst_w <= self.src_w
        return shrinking and (self._fixed is not None or not self.separable)

    @staticmethod
    def _direct_beats(name: str) -> bool:
        """Whether the separable kernels, resampling rows where they lie (no transposes), beat
        the phase kernel ``name`` here. Byte shuffles widen rows (SSSE3): 1.6-2.1x faster than
        ``up32`` (720p -> 1080p luma 405 -> 247 us); byte permutes (AVX-512 VBMI) resample them
        at any ratio: faster than ``area23`` and ``area34`` into whole planes too (1080p ->
        720p luma 223 -> 196 us, 720p -> 540p 125 -> 79 us). ``box3`` stays: 7x faster."""
        if name == "up32":
            return HAVE_SHUFFLE or HAVE_PERMUTE
        return name in ("area23", "area34") and HAVE_PERMUTE

    def _fixed_kernel(self) -> str | None:
        """The compiled fixed-ratio kernel (:mod:`media.kernels`) for this scale, if any."""
        for name, (p, q) in kernels.KERNEL_RATIOS.items():
            if self.scale == Fraction(p, q):
                if self.separable and self._direct_beats(name):
                    return None
                return name
        return None

    def _buffer(self, tag: str, shape: tuple[int, ...], dtype: Any = np.uint8) -> npt.NDArray[Any]:
        key = (tag, shape, np.dtype(dtype).str)
        buf = self.scratch.get(key)
        if buf is None:
            buf = self.scratch[key] = np.empty(shape, dtype)
        return buf

    def _scratch_for(self, tag: str, shape: tuple[int, ...]) -> npt.NDArray[Any]:
        return self._buffer("sep-" + tag, shape, np.uint16 if tag == "acc" else np.uint8)

    def apply(self, src: U8, dst: U8) -> None:
        """Scale the plane ``src`` into the view ``dst`` (shapes are this plan's, maybe halved)."""
        if self.kernel == "copy":
            np.copyto(dst, src)
            return
        if self._fixed is not None and self._run_fixed(self._fixed, src, dst):
            return
        if self.separable:
            key = (src.shape, dst.shape)
            run = self._runners.get(key)
            if run is None:
                run = self._runners[key] = separable.prepare(
                    src.shape, dst.shape, self._scratch_for
                )
            run(src, dst)
            return
        if not self.use_opencv:
            resize_numpy(src, dst)
            return
        if self.kernel == "box":
            self._box(src, dst, self.scale.denominator)
        elif self.kernel == "rational":
            self._rational(src, dst, self.scale.numerator, self.scale.denominator)
        else:
            mode = cv2.INTER_AREA if self.kernel in ("area", "area2") else cv2.INTER_LINEAR
            cv2.resize(src, (dst.shape[1], dst.shape[0]), dst=dst, interpolation=mode)

    def _run_fixed(self, name: str, src: U8, dst: U8) -> bool:
        """Run the compiled kernel ``name`` when the plane fits its period; False otherwise (an
        RGB24 plane, or a chroma plane whose halved size is not a whole number of periods)."""
        p, q = kernels.KERNEL_RATIOS[name]
        (sh, sw), (dh, dw) = src.shape[:2], dst.shape[:2]
        if src.ndim != 2 or dw % p or dh % p or sw * p != dw * q or sh * p != dh * q:
            return False
        if self._tile_for_separable(dst):
            return False
        if name == "box3":
            kernels.box3(src, dst, self._buffer("row", (sw,), np.uint16))
            return True
        phases = self._buffer("phases", (p, dh, dw // p))
        if name == "up32":
            ring = self._buffer("ring", (3, 3, sw // 2), np.uint16)
            kernels.up32(src, phases, ring, self._buffer("line", (sw,)))
        else:
            getattr(kernels, name)(src, phases, self._buffer("row", (sw,), np.uint16))
        if self.use_opencv:
            # cv2.merge interleaves with SIMD, but only into a continuous buffer (row by row and
            # several times slower into a tile of the output): straight into a whole plane,
            # otherwise merge into scratch and copy the rows
            if dst.flags.c_contiguous:
                cv2.merge(list(phases), dst=dst.reshape(dh, dw // p, p))
                return True
            merged = self._buffer("merged", (dh, dw // p, p))
            cv2.merge(list(phases), dst=merged)
            np.copyto(dst, merged.reshape(dh, dw))
        else:
            kernels.interleave(phases, dst)
        return True

    def _box(self, src: U8, dst: U8, k: int) -> None:
        """Exact k:1 area average: integer sums of k rows (uint16), transpose, sums of k rows,
        one rounding division, transpose back into ``dst``."""
        tail = src.shape[2:]
        rows, cols = dst.shape[0], dst.shape[1]
        acc = self._buffer("rows", (rows, src.shape[1], *tail), np.uint16)
        np.add(src[0::k], src[1::k], out=acc, dtype=np.uint16)
        for i in range(2, k):
            np.add(acc, src[i::k], out=acc)
        turned = self._buffer("turned", (src.shape[1], rows, *tail), np.uint16)
        cv2.transpose(acc, dst=turned)
        acc2 = self._buffer("cols", (cols, rows, *tail), np.uint16)
        cv2.add(turned[0::k], turned[1::k], dst=acc2)
        for i in range(2, k):
            cv2.add(acc2, turned[i::k], dst=acc2)
        small = self._buffer("small", (cols, rows, *tail))
        cv2.convertScaleAbs(acc2, dst=small, alpha=1.0 / (k * k))
        cv2.transpose(small, dst=dst)

    def _rational(self, src: U8, dst: U8, p: int, q: int) -> None:
        """q:p area average (2/3, 3/4): two-tap rows, transpose, two-tap rows, transpose back."""
        taps = phase_taps(p, q)
        tail = src.shape[2:]
        rows = dst.shape[0]
        mid = self._buffer("rows", (rows, src.shape[1], *tail))
        _reduce_rows(src, mid, taps, p, q)
        turned = self._buffer("turned", (src.shape[1], rows, *tail))
        cv2.transpose(mid, dst=turned)
        small = self._buffer("small", (dst.shape[1], rows, *tail))
        _reduce_rows(turned, small, taps, p, q)
        cv2.transpose(small, dst=dst)


def _reduce_rows(
    src: U8, dst: U8, taps: tuple[tuple[tuple[int, float], ...], ...], p: int, q: int
) -> None:
    for phase, pairs in enumerate(taps):
        (ra, wa), (rb, wb) = pairs
        cv2.addWeighted(src[ra::q], wa, src[rb::q], wb, 0.0, dst=dst[phase::p])
