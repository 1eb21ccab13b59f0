"""Any-ratio scaling of 8-bit planes: separable fixed-point kernels compiled with Numba.

:mod:`media.kernels` covers a handful of exact ratios; the tiles of a room see every other one
(1920x1080 into a 424x236 tile, a 720x1280 phone into 132x236, CIF enlarged 3.75x). Here each
axis gets a table of taps, computed once per (input length, output length) and cached:

- shrinking: exact area weights, the fraction of each input pixel that the output pixel's
  footprint covers (a box with fractional ends, as :func:`media.scaling.axis_weights`);
- enlarging: bilinear with half-pixel centres and clamped edges (OpenCV's convention).

Every output pixel reads ``taps`` consecutive inputs from ``first[o]`` on (the window is moved
inside the picture at the edges; weights outside the footprint are zero).

The rows pass (:mod:`media.vertical_pass`) runs over contiguous rows: ``mid[i] = round(sum_t
wy[i, t] * src[first_y[i] + t] / 256)``, the weights being integers that sum to 256, in byte-
pair multiply-adds or 16-bit lanes (255 x 256 < 2**16). The columns pass takes one of three
ways, the first that applies:

1. byte permutes on the rows themselves (:mod:`media.permute_rows`, AVX-512 VBMI): footprints
   of up to 16 inputs, rows of at least 128 bytes, any ratio;
2. byte shuffles on the rows themselves (:mod:`media.shuffle_rows`, SSSE3): widening;
3. as a rows pass between two ``cv2.transpose`` calls (SIMD for 8-bit elements): rows pass,
   transpose, the same kernel with the column taps, transpose back into the destination view
   (shrinking), or transpose the source, columns, transpose, rows straight into the
   destination (enlarging: the transposed pictures are the smaller ones).

The first two run on the fewer rows: before the rows pass when the plane grows taller, after
it when it gets shorter. All three compute the same integers in the same order, so they give
the same bits. The rows pass prefetches the source rows
:data:`media.vertical_pass.LOOKAHEAD` rows ahead of its footprint (a frame fresh from a
decoder is not cached).

Precision: each row of weights sums to 256 exactly, so flat areas stay exact. Footprints of
three inputs or fewer get each weight within half a unit (1/256) of its exact value (largest
remainders). Wider footprints (shrinking by more than 2) give their wholly covered interior
inputs one shared weight, so that the kernel adds those rows and multiplies once (10-50 %
faster), and the two partly covered ends share the rest. The intermediate rounding adds up to
half a level. Against the exactly rounded float64 reference the result is within one level,
except on random noise, where a few pixels are two levels off (about 1 in 10**5 at mild
ratios, 1 in 2,500 at a 1/8 scale) (``tests/media/test_separable.py`` checks both bounds).

RGB24 planes ``(h, w, 3)`` go through the same passes: a row of ``w`` pixels is ``3 w``
contiguous bytes for the rows pass, and the transposes move 3-channel elements.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from media._numba import HAVE_NUMBA
from media.fused_rows import reduce_then_resample, widen_then_blend
from media.madd_rows import LANES
from media.permute_rows import HAVE_PERMUTE, StepTables, resample_rows, step_tables
from media.shuffle_rows import HAVE_SHUFFLE, enlarge_rows, row_tables
from media.vertical_pass import vertical

cv2: Any
try:
    import cv2
except ImportError:  # pragma: no cover - the caller checks HAVE_OPENCV first
    cv2 = None

__all__ = ["HAVE_NUMBA", "UNIT", "Runner", "axis_taps", "prepare", "resize", "vertical"]

UNIT = 256
"""Sum of each row of weights (uint16 lanes: 255 x 256 fits)."""
PREFETCH_STEP = 2
"""The pass that reads the source prefetches its rows when it shrinks by at least this much
(2 rather than 3 since the row-by-row passes: a portrait 1080x1920 source into LAYOUT6's large
1080p tile, 2.7x, went from 500 to 563 fps in ``crcgw media bench``; off altogether, the 5x-8x
shrinks of LAYOUT9 lost 20-30 %)..."""
PREFETCH_BYTES = 1 << 18
CHUNK_ROWS = 16
"""Output rows the rows pass makes at a time before their columns pass, when both passes run
row by row (:mod:`media.fused_rows`): 16 rows of 1920 bytes stay in the first-level cache."""
"""... and the source plane holds at least this many bytes (smaller planes are cached)."""

U8 = np.uint8
U16 = np.uint16


def _dense_weights(n_in: int, n_out: int) -> npt.NDArray[np.float64]:
    """``(n_out, n_in)`` float64 weights: exact area when shrinking, bilinear when enlarging."""
    dense = np.zeros((n_out, n_in))
    if n_out <= n_in:
        step = n_in / n_out
        for o in range(n_out):
            a, b = o * step, (o + 1) * step
            lo, hi = int(np.floor(a)), min(n_in, int(np.ceil(b)))
            for r in range(lo, hi):
                dense[o, r] = (min(b, r + 1) - max(a, r)) / step
        return dense
    for o in range(n_out):
        pos = min(max((o + 0.5) * n_in / n_out - 0.5, 0.0), n_in - 1.0)
        first = min(int(np.floor(pos)), n_in - 2) if n_in > 1 else 0
        frac = pos - first
        dense[o, first] += 1.0 - frac
        if n_in > 1:
            dense[o, first + 1] += frac
    return dense


def _quantize(exact: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.int64], bool]:
    """Integer weights summing to :data:`UNIT`, and whether the interior ones are all equal.

    A shrinking footprint of four or more inputs covers its interior inputs wholly: they get one
    weight (the nearest integer), the two partly covered ends share the rest in proportion, so
    that the kernel can add the interior rows and multiply once. Otherwise each weight is rounded
    down and the largest remainders get the missing units.
    """
    if exact.size >= 4 and np.ptp(exact[1:-1]) < 1e-6:
        inner = round(float(exact[1]))
        rest = UNIT - inner * (exact.size - 2)
        ends = float(exact[0] + exact[-1])
        a = round(float(exact[0]) * rest / ends) if ends > 0 else rest // 2
        if 0 <= a <= rest:
            w = np.full(exact.size, inner, np.int64)
            w[0], w[-1] = a, rest - a
            return w, True
    w = np.floor(exact).astype(np.int64)
    short = UNIT - int(w.sum())
    w[np.argsort(-(exact - w), kind="stable")[:short]] += 1
    return w, False


@lru_cache(maxsize=256)
def axis_taps(n_in: int, n_out: int) -> tuple[npt.NDArray[Any], ...]:
    """``first`` (n_out,), integer ``weights`` (n_out, taps), ``count`` (n_out,) and ``flat``
    (n_out,) for one axis.

    Output ``o`` is ``sum_t weights[o, t] * input[first[o] + t] / UNIT`` for ``t < count[o]``;
    each row of weights sums to :data:`UNIT` exactly, the taps a row does not use are zero, and
    ``flat[o]`` says that its interior weights (all but the first and last) are equal. The
    arrays are cached and read-only.
    """
    if n_in < 1 or n_out < 1:
        raise ValueError(f"axis lengths: expected >= 1, got {n_in} -> {n_out}")
    dense = _dense_weights(n_in, n_out) * UNIT
    width = 1
    rows = []
    for o in range(n_out):
        (nz,) = np.nonzero(dense[o] > 1e-9)
        lo, hi = int(nz[0]), int(nz[-1])
        w, equal = _quantize(dense[o, lo : hi + 1])
        rows.append((lo, w, equal))
        width = max(width, w.size)
    first = np.array([lo for lo, _, _ in rows], np.int64)
    count = np.array([w.size for _, w, _ in rows], np.int64)
    flat = np.array([equal for _, _, equal in rows], np.bool_)
    weights = np.zeros((n_out, width), np.uint16)
    for o, (_, w, _) in enumerate(rows):
        weights[o, : w.size] = w
    for a in (first, weights, count, flat):
        a.setflags(write=False)
    return first, weights, count, flat


def _as_rows(a: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """``a`` (h, w[, c]) as a 2-D view (h, w * c); raises rather than copy (a write would be
    lost in a copy)."""
    view = a.view()
    view.shape = (a.shape[0], a.size // a.shape[0] if a.shape[0] else 0)
    return view


def resize(
    src: npt.NDArray[np.uint8],
    dst: npt.NDArray[np.uint8],
    buffer: Callable[[str, tuple[int, ...]], npt.NDArray[Any]],
) -> None:
    """Resample ``src`` (h, w) or (h, w, c) into the view ``dst``. ``buffer(tag, shape)``
    returns a reusable uint8 scratch array (uint16 for tag ``"acc"``). Same as
    ``prepare(src.shape, dst.shape, buffer)(src, dst)``."""
    prepare(src.shape, dst.shape, buffer)(src, dst)


Runner = Callable[[npt.NDArray[np.uint8], npt.NDArray[np.uint8]], None]


def prepare(
    src_shape: tuple[int, ...],
    dst_shape: tuple[int, ...],
    buffer: Callable[[str, tuple[int, ...]], npt.NDArray[Any]],
) -> Runner:
    """A function ``run(src, dst)`` resampling planes of ``src_shape`` into views of
    ``dst_shape``, with its taps and scratch buffers looked up once (keep it per plane: the
    look-ups cost 5-10 us a call, as much as the kernels on a small chroma plane).

    The columns pass takes the first way that applies (the module's text): byte permutes with
    both passes row by row (:func:`_fused`), byte shuffles widening (:func:`_direct`), else
    transposes in one of two orders, the one that transposes fewer bytes: rows, transpose,
    columns, transpose back into ``dst`` (shrinking), or transpose the source, columns,
    transpose, rows straight into ``dst`` (enlarging: the transposed pictures are the smaller
    ones)."""
    sh, sw = src_shape[:2]
    dh, dw = dst_shape[:2]
    tail = src_shape[2:]
    ty = axis_taps(sh, dh)
    tx = axis_taps(sw, dw)
    acc = buffer("acc", (max(sw, sh, dw, dh) * (int(np.prod(tail)) if tail else 1),))
    transpose = cv2.transpose
    flat = not tail  # 2-D planes need no row view
    steps = step_tables(sw, dw) if flat and HAVE_PERMUTE else None
    if steps is not None:
        return _fused(src_shape, dst_shape, ty, steps, buffer, acc)
    if flat and HAVE_SHUFFLE and dw >= sw >= 2:
        widening = row_tables(sw, dw)
        return _direct(
            src_shape, dst_shape, ty, lambda a, b: enlarge_rows(a, *widening, b), buffer, acc
        )
    if dh * sw + dw * dh <= sw * sh + dw * sh:
        mid = buffer("mid", (dh, sw, *tail))
        turned = buffer("turned", (sw, dh, *tail))
        small = buffer("small", (dw, dh, *tail))
        mid_rows, turned_rows, small_rows = _as_rows(mid), _as_rows(turned), _as_rows(small)
        prefetch = sh >= PREFETCH_STEP * dh and sh * sw * int(np.prod(tail)) >= PREFETCH_BYTES

        def shrink(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
            vertical(src if flat else src.reshape(sh, -1), *ty, mid_rows, acc, prefetch)
            transpose(mid, dst=turned)
            vertical(turned_rows, *tx, small_rows, acc, False)
            transpose(small, dst=dst)

        return shrink
    src_t = buffer("src-t", (sw, sh, *tail))
    cols = buffer("cols", (dw, sh, *tail))
    back = buffer("back", (sh, dw, *tail))
    src_t_rows, cols_rows, back_rows = _as_rows(src_t), _as_rows(cols), _as_rows(back)

    def enlarge(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
        transpose(src, dst=src_t)
        vertical(src_t_rows, *tx, cols_rows, acc, False)
        transpose(cols, dst=back)
        vertical(back_rows, *ty, dst if flat else _as_rows(dst), acc, False)

    return enlarge



def _direct(
    src_shape: tuple[int, ...],
    dst_shape: tuple[int, ...],
    ty: tuple[npt.NDArray[Any], ...],
    columns: Runner,
    buffer: Callable[[str, tuple[int, ...]], npt.NDArray[Any]],
    acc: npt.NDArray[Any],
) -> Runner:
    """2-D planes whose columns pass runs on the rows themselves (``columns(rows, out)``: byte
    shuffles widening, :mod:`media.shuffle_rows`, or byte permutes where the row-by-row passes
    of :func:`_fused` do not apply), no transposes; on the fewer rows, before the rows pass
    when the plane grows taller, after it when it gets shorter, through a whole intermediate
    plane. Same arithmetic, same order as the transposing passes, so the same bits."""
    (sh, sw), (dh, dw) = src_shape[:2], dst_shape[:2]
    if dh > sh:
        wide = buffer("direct", (sh, dw))

        def taller(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
            columns(src, wide)
            vertical(wide, *ty, dst, acc, False)

        return taller
    mid = buffer("mid", (dh, sw))
    prefetch = sh >= PREFETCH_STEP * dh and sh * sw >= PREFETCH_BYTES

    def shorter(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
        vertical(src, *ty, mid, acc, prefetch)
        columns(mid, dst)

    return shorter


def _fused(
    src_shape: tuple[int, ...],
    dst_shape: tuple[int, ...],
    ty: tuple[npt.NDArray[Any], ...],
    steps: StepTables,
    buffer: Callable[[str, tuple[int, ...]], npt.NDArray[Any]],
    acc: npt.NDArray[Any],
) -> Runner:
    """2-D planes whose columns pass runs by byte permutes (:mod:`media.permute_rows`), both
    passes row by row (:mod:`media.fused_rows`); the whole-plane passes of :func:`_direct` where
    the output rows are narrower than a multiply-add step or the rows need more than two taps
    while growing taller."""
    (sh, sw), (dh, dw) = src_shape[:2], dst_shape[:2]
    first, weights, count, flat = ty
    if dh > sh and weights.shape[1] <= 2 and dw >= LANES:
        ring = buffer("ring", (2, dw))

        def taller(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
            widen_then_blend(src, *steps, first, weights, ring, dst)

        return taller
    if dh <= sh:
        chunk = buffer("chunk", (min(dh, CHUNK_ROWS), sw))
        prefetch = sh >= PREFETCH_STEP * dh and sh * sw >= PREFETCH_BYTES

        def shorter(src: npt.NDArray[np.uint8], dst: npt.NDArray[np.uint8]) -> None:
            reduce_then_resample(src, *ty, *steps, chunk, acc, prefetch, dst)

        return shorter
    return _direct(src_shape, dst_shape, ty, lambda a, b: resample_rows(a, *steps, b), buffer, acc)
