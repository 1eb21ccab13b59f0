"""Any-ratio scaling of 8-bit planes: separable fixed-point kernels compiled with Numba.

:mod:`media.kernels` covers a handful of exact ratios; the tiles of a room see every other one
(1920x1080 into a 424x236 tile, a 720x1280 phone into 132x236, CIF enlarged 3.75x). Here each
axis gets a table of taps, computed once per (input length, output length) and cached:

- shrinking: exact area weights, the fraction of each input pixel that the output pixel's
  footprint covers (a box with fractional ends, as :func:`media.scaling.axis_weights`);
- enlarging: bilinear with half-pixel centres and clamped edges (OpenCV's convention).

Every output pixel reads ``taps`` consecutive inputs from ``first[o]`` on (the window is moved
inside the picture at the edges; weights outside the footprint are zero).

Both passes are *vertical*, so that every loop runs over contiguous rows and LLVM vectorizes
it in 16-bit lanes (as :mod:`media.kernels`; weights are ``uint16`` scalars, which keeps the
multiplications in 16-bit lanes, where weights converted inside the loop leave them in 64-bit):

1. rows: ``mid[i] = round(sum_t wy[i, t] * src[first_y[i] + t] / 256)``, the weights being
   integers that sum to 256 (255 x 256 < 2**16), taps taken four or two at a time (or the
   interior rows summed and multiplied once, see below);
2. ``cv2.transpose`` (SIMD for 8-bit elements) turns ``mid`` so that columns become rows;
3. columns: the same kernel with the column taps;
4. ``cv2.transpose`` back into the destination view.

Enlarging runs the other way round (transpose the smaller source, columns, transpose, rows
straight into the destination), and the rows pass prefetches the source rows
:data:`LOOKAHEAD` rows ahead of its footprint (a frame fresh from a decoder is not cached).

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

from media._numba import HAVE_NUMBA, JIT_OPTIONS, njit, prefetch_row
from media.madd_rows import HAVE_MADD, LANES, madd_rows1, madd_rows2
from media.permute_rows import HAVE_PERMUTE, resample_rows, step_tables
from media.shuffle_rows import HAVE_SHUFFLE, enlarge_rows, row_tables

cv2: Any
try:
    import cv2
except ImportError:  # pragma: no cover - the caller checks HAVE_OPENCV first
    cv2 = None

__all__ = ["HAVE_NUMBA", "UNIT", "Runner", "axis_taps", "prepare", "resize", "vertical"]

UNIT = 256
"""Sum of each row of weights (uint16 lanes: 255 x 256 fits)."""
PREFETCH_STEP = 3
"""The pass that reads the source prefetches its rows when it shrinks by at least this much..."""
PREFETCH_BYTES = 1 << 18
"""... and the source plane holds at least this many bytes (smaller planes are cached)."""
LOOKAHEAD = 8
"""Source rows prefetched ahead of the footprint being computed."""

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


# The helpers below take the 2-D ``src`` and row numbers rather than row views (no view to
# build per row; measured neutral on its own: the ~50 ns per output row that dominated small
# planes came from per-row branches, see :func:`_uniform`).


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _dot4(
    src: Any, r0: Any, r1: Any, r2: Any, r3: Any, w0: Any, w1: Any, w2: Any, w3: Any, x: Any
) -> Any:  # pragma: no cover - compiled
    """``sum_k w_k * src[r_k, x]`` in 16 bits."""
    v = U16(w0 * U16(src[r0, x]))
    v = U16(v + U16(w1 * U16(src[r1, x])))
    v = U16(v + U16(w2 * U16(src[r2, x])))
    return U16(v + U16(w3 * U16(src[r3, x])))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _dot2(src: Any, r0: Any, r1: Any, w0: Any, w1: Any, x: Any) -> Any:  # pragma: no cover
    return U16(U16(w0 * U16(src[r0, x])) + U16(w1 * U16(src[r1, x])))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _rounded(v: Any) -> Any:  # pragma: no cover - compiled
    """A sum of weights 256 times a level, rounded back to the level."""
    return U8(U16(v + U16(128)) >> U16(8))


# The loops below come in three kinds: ``_first`` (start the sums in ``acc``), ``_add`` (add
# to them) and ``_last`` / ``_direct`` (the footprint's last taps: add and round straight into
# the output row, no round trip through ``acc``: 1.5-2x faster on enlargements).


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _first4(
    src: Any, r0: Any, r1: Any, r2: Any, r3: Any, w0: Any, w1: Any, w2: Any, w3: Any, acc: Any
) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        acc[x] = _dot4(src, r0, r1, r2, r3, w0, w1, w2, w3, x)


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _add4(
    src: Any, r0: Any, r1: Any, r2: Any, r3: Any, w0: Any, w1: Any, w2: Any, w3: Any, acc: Any
) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        acc[x] = U16(acc[x] + _dot4(src, r0, r1, r2, r3, w0, w1, w2, w3, x))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _last4(
    src: Any,
    r0: Any,
    r1: Any,
    r2: Any,
    r3: Any,
    w0: Any,
    w1: Any,
    w2: Any,
    w3: Any,
    acc: Any,
    out: Any,
    i: Any,
) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        out[i, x] = _rounded(U16(acc[x] + _dot4(src, r0, r1, r2, r3, w0, w1, w2, w3, x)))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _direct4(
    src: Any,
    r0: Any,
    r1: Any,
    r2: Any,
    r3: Any,
    w0: Any,
    w1: Any,
    w2: Any,
    w3: Any,
    out: Any,
    i: Any,
) -> None:  # pragma: no cover - compiled
    for x in range(out.shape[1]):
        out[i, x] = _rounded(_dot4(src, r0, r1, r2, r3, w0, w1, w2, w3, x))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _last2(
    src: Any, r0: Any, r1: Any, w0: Any, w1: Any, acc: Any, out: Any, i: Any
) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        out[i, x] = _rounded(U16(acc[x] + _dot2(src, r0, r1, w0, w1, x)))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _direct2(
    src: Any, r0: Any, r1: Any, w0: Any, w1: Any, out: Any, i: Any
) -> None:  # pragma: no cover - compiled
    for x in range(out.shape[1]):
        out[i, x] = _rounded(_dot2(src, r0, r1, w0, w1, x))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _sum2(src: Any, r0: Any, r1: Any, acc: Any) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        acc[x] = U16(U16(src[r0, x]) + U16(src[r1, x]))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _addsum2(src: Any, r0: Any, r1: Any, acc: Any) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        acc[x] = U16(acc[x] + U16(U16(src[r0, x]) + U16(src[r1, x])))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _sum4(src: Any, r0: Any, acc: Any) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        a = U16(U16(src[r0, x]) + U16(src[r0 + 1, x]))
        b = U16(U16(src[r0 + 2, x]) + U16(src[r0 + 3, x]))
        acc[x] = U16(a + b)


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _addsum4(src: Any, r0: Any, acc: Any) -> None:  # pragma: no cover - compiled
    for x in range(acc.shape[0]):
        a = U16(U16(src[r0, x]) + U16(src[r0 + 1, x]))
        b = U16(U16(src[r0 + 2, x]) + U16(src[r0 + 3, x]))
        acc[x] = U16(acc[x] + U16(a + b))


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _ends(
    src: Any, r0: Any, r1: Any, w0: Any, inner: Any, w1: Any, acc: Any, out: Any, i: Any
) -> None:  # pragma: no cover - compiled
    """``out[i] = round((w0 src[r0] + inner acc + w1 src[r1]) / 256)``: the ends and the
    interior sum."""
    for x in range(acc.shape[0]):
        v = U16(w0 * U16(src[r0, x]))
        v = U16(v + U16(inner * acc[x]))
        v = U16(v + U16(w1 * U16(src[r1, x])))
        out[i, x] = _rounded(v)


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _flat_row(
    src: Any, r: Any, taps: Any, weights: Any, a: Any, out: Any, i: Any
) -> None:  # pragma: no cover - compiled
    """One output row whose interior weights are equal: add the interior rows, multiply once."""
    end = r + taps - 1
    k = r + 1
    inner = taps - 2
    if inner >= 4:  # four rows per pass over the sums: half the loads and stores of ``a``
        _sum4(src, k, a)
        k += 4
        while k + 4 <= end:
            _addsum4(src, k, a)
            k += 4
        if k + 2 <= end:
            _addsum2(src, k, k + 1, a)
            k += 2
        if k < end:
            for x in range(a.shape[0]):
                a[x] = U16(a[x] + U16(src[k, x]))
            k += 1
    elif inner % 2:
        for x in range(a.shape[0]):
            a[x] = U16(src[k, x])
        k += 1
    else:
        _sum2(src, k, k + 1, a)
        k += 2
    while k < end:
        _addsum2(src, k, k + 1, a)
        k += 2
    _ends(src, r, end, weights[i, 0], weights[i, 1], weights[i, taps - 1], a, out, i)


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _uniform_row(
    src: Any, r: Any, width: Any, last_row: Any, weights: Any, out: Any, i: Any
) -> None:  # pragma: no cover - compiled
    """Output row ``i`` from ``width`` (at most 4) rows from ``r`` on, clamped to ``last_row``."""
    r1 = min(r + 1, last_row)
    if width <= 2:
        _direct2(src, r, r1, weights[i, 0], weights[i, width - 1] if width == 2 else U16(0), out, i)
    else:
        r2, r3 = min(r + 2, last_row), min(r + 3, last_row)
        w3 = weights[i, 3] if width == 4 else U16(0)
        _direct4(src, r, r1, r2, r3, weights[i, 0], weights[i, 1], weights[i, 2], w3, out, i)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _uniform(
    src: Any, first: Any, weights: Any, out: Any, acc: Any, prefetch: Any
) -> None:  # pragma: no cover - compiled
    """:func:`vertical` for footprints of at most four rows: every row takes the same path, the
    taps a row does not use having zero weights (rows clamped inside the picture). A branch on
    each row's tap count cost more than the arithmetic on small planes (mispredicted: 2-3x
    slower on a 176 x 144 plane), and so did this loop sharing a function with the general
    one (separate compiled functions: 3x faster on narrow rows)."""
    h = out.shape[0]  # (``acc`` is not needed: each row is summed and rounded in one loop)
    last_row = src.shape[0] - 1
    width = weights.shape[1]
    if prefetch:
        ahead = first[0] - 1
        for i in range(h):
            target = min(first[i] + width - 1 + LOOKAHEAD, last_row)
            while ahead < target:
                ahead += 1
                prefetch_row(src, ahead)
            _uniform_row(src, first[i], width, last_row, weights, out, i)
    else:
        for i in range(h):
            _uniform_row(src, first[i], width, last_row, weights, out, i)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _general(
    src: Any, first: Any, weights: Any, count: Any, flat: Any, out: Any, acc: Any, prefetch: Any
) -> None:  # pragma: no cover - compiled
    """:func:`vertical` for footprints of any width: taps four (three padded with a zero
    weight) or two (one) at a time into ``acc``, or the interior rows added (``flat``)."""
    h, n = out.shape
    a = acc[:n]
    last_row = src.shape[0] - 1
    # the last source row asked for (software prefetch; only on sources that may be cold:
    # each prefetched row costs about 25 ns, the whole row's worth on a small cached plane)
    ahead = first[0] - 1 if prefetch else last_row
    for i in range(h):
        r, taps = first[i], count[i]
        # a source fresh from a decoder is not cached: ask for the rows LOOKAHEAD rows past
        # this footprint now, so that they arrive while this row is computed
        target = min(r + taps - 1 + LOOKAHEAD, last_row)
        while ahead < target:
            ahead += 1
            prefetch_row(src, ahead)
        if flat[i]:
            _flat_row(src, r, taps, weights, a, out, i)
            continue
        t = 0
        while t < taps:
            left = taps - t
            r0, r1 = r + t, r + min(t + 1, taps - 1)
            w0 = weights[i, t]
            if left >= 3:
                r2, r3 = r + t + 2, r + min(t + 3, taps - 1)
                w3 = weights[i, t + 3] if left >= 4 else U16(0)
                w1, w2 = weights[i, t + 1], weights[i, t + 2]
                if left <= 4:  # the last taps: add and round into the output row
                    if t == 0:
                        _direct4(src, r0, r1, r2, r3, w0, w1, w2, w3, out, i)
                    else:
                        _last4(src, r0, r1, r2, r3, w0, w1, w2, w3, a, out, i)
                elif t == 0:
                    _first4(src, r0, r1, r2, r3, w0, w1, w2, w3, a)
                else:
                    _add4(src, r0, r1, r2, r3, w0, w1, w2, w3, a)
                t += 4
            else:
                w1 = weights[i, t + 1] if left >= 2 else U16(0)
                if t == 0:
                    _direct2(src, r0, r1, w0, w1, out, i)
                else:
                    _last2(src, r0, r1, w0, w1, a, out, i)
                t += 2


@njit(**JIT_OPTIONS, inline="always")  # type: ignore[untyped-decorator]
def _pair(r0: Any, r1: Any, w0: Any, w1: Any) -> Any:  # pragma: no cover - compiled
    """Rows and packed byte weights of a pair of taps for :mod:`media.madd_rows` (a weight of
    256 is the same row twice at 128 + 128)."""
    if w0 == 256:
        return r0, r0, 128 | 128 << 8
    if w1 == 256:
        return r1, r1, 128 | 128 << 8
    return r0, r1, int(w0) | int(w1) << 8


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _uniform_madd(
    src: Any, first: Any, weights: Any, out: Any, acc: Any, prefetch: Any
) -> None:  # pragma: no cover - compiled
    """:func:`_uniform` by byte-pair multiply-adds, :data:`media.madd_rows.LANES` outputs a
    step (the last step overlaps the one before it); rows narrower than that by
    :func:`_uniform`."""
    h, n = out.shape
    if n < LANES:
        _uniform(src, first, weights, out, acc, prefetch)
        return
    last_row = src.shape[0] - 1
    width = weights.shape[1]
    ahead = first[0] - 1
    for i in range(h):
        r = first[i]
        if prefetch:
            target = min(r + width - 1 + LOOKAHEAD, last_row)
            while ahead < target:
                ahead += 1
                prefetch_row(src, ahead)
        w3 = weights[i, 3] if width == 4 else U16(0)
        w1 = weights[i, 1] if width >= 2 else U16(0)
        w2 = weights[i, 2] if width >= 3 else U16(0)
        r0, r1, w01 = _pair(r, min(r + 1, last_row), weights[i, 0], w1)
        if width <= 2:
            for x in range(0, n - LANES, LANES):
                madd_rows1(src, r0, r1, r0, r1, w01, 0, out, i, x)
            madd_rows1(src, r0, r1, r0, r1, w01, 0, out, i, n - LANES)
            continue
        r2, r3, w23 = _pair(min(r + 2, last_row), min(r + 3, last_row), w2, w3)
        for x in range(0, n - LANES, LANES):
            madd_rows2(src, r0, r1, r2, r3, w01, w23, out, i, x)
        madd_rows2(src, r0, r1, r2, r3, w01, w23, out, i, n - LANES)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def vertical(
    src: Any, first: Any, weights: Any, count: Any, flat: Any, out: Any, acc: Any, prefetch: Any
) -> None:  # pragma: no cover - compiled
    """``out[i] = round(sum_t weights[i, t] * src[first[i] + t] / 256)``: uint8 rows to uint8
    rows in uint16 lanes, through the scratch row ``acc``; ``prefetch`` asks for the source rows
    :data:`LOOKAHEAD` rows ahead (for a source that may be cold: each prefetched row costs
    about 25 ns, the whole row's worth on a small cached plane)."""
    if weights.shape[1] <= 4:
        if HAVE_MADD:
            _uniform_madd(src, first, weights, out, acc, prefetch)
        else:
            _uniform(src, first, weights, out, acc, prefetch)
    else:
        _general(src, first, weights, count, flat, out, acc, prefetch)


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

    Two orders, the one that transposes fewer bytes wins: rows, transpose, columns, transpose
    back into ``dst`` (shrinking), or transpose the source, columns, transpose, rows straight
    into ``dst`` (enlarging: the transposed pictures are the smaller ones)."""
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
        return _direct(
            src_shape, dst_shape, ty, lambda a, b: resample_rows(a, *steps, b), buffer, acc
        )
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
    shuffles widening, :mod:`media.shuffle_rows`, or byte permutes narrowing,
    :mod:`media.permute_rows`), no transposes; on the fewer rows, before the rows pass when the
    plane grows taller, after it when it gets shorter. Same arithmetic, same order as the
    transposing passes, so the same bits."""
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
