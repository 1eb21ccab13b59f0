"""Fixed-ratio scaling kernels for 8-bit planes, compiled with Numba.

The snapped tile geometry (:func:`media.layouts.fit`) lands most tiles on a handful of exact
ratios. For those, one pass over the source with the weights known at compile time does what a
general resampler needs several passes for, and it does it exactly: every kernel below sums
integer weights and rounds once, so its output is the exactly rounded area average (shrinking) or
bilinear interpolation (enlarging) that :func:`media.scaling.resample_float` computes in float64.

=============  ============================================================  ==================
kernel         per axis                                                      2-D weight sum
=============  ============================================================  ==================
``box3``       1/3: three inputs, weight 1 each                              9
``area23``     2/3: inputs (0, 1) weighted (2, 1), inputs (1, 2) (1, 2)      9
``area34``     3/4: (0, 1) as (3, 1), (1, 2) as (2, 2), (2, 3) as (1, 3)     16
``up32``       3/2 bilinear, half-pixel centres: phases at -1/6, 1/2, 7/6    36
=============  ============================================================  ==================

Every loop is written so that the compiler vectorizes it in 16-bit lanes:

- Numba widens every integer operation to 64 bits. Each intermediate is therefore truncated back
  with ``U16(...)`` (values stay under 2**16: at most 36 x 255 + 18), and weights are spelled
  as additions and shifts, never as a multiplication by a run-time weight (which LLVM leaves in
  64-bit lanes: measured 2-4x slower).
- Rows are combined first (contiguous) into a ``uint16`` row; columns are then read in whole
  groups (2, 3 or 4 inputs: a group with gaps does not vectorize), and each output phase is
  written to its own contiguous plane, ``phases[k]`` holding output columns
  ``k, k + p, k + 2p, ...``; ``cv2.merge`` (SIMD) or :func:`interleave` then puts the columns in
  place. Stride-``p`` stores straight into the output do not vectorize.
- The 3/2 kernel copies each source row into a contiguous buffer before splitting it: on a row of
  a strided crop the compiler cannot prove unit stride for the split's four loads and falls back to
  scalar code (4x slower). It resamples each source row horizontally once (three phase rows, in
  sixths, kept in a ring of three) and blends two of them per output row.

Edges are clamped like OpenCV's bilinear.

Sources and destinations are 2-D ``uint8`` views (crops of a frame, tiles of the output); the
kernels read only the region they are given and write only into their output. ``HAVE_NUMBA``
is false when Numba is not installed; callers then use the OpenCV or numpy kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from media._numba import HAVE_NUMBA, JIT_OPTIONS, njit

__all__ = ["HAVE_NUMBA", "KERNEL_RATIOS", "area23", "area34", "box3", "up32"]

KERNEL_RATIOS = {"box3": (1, 3), "area23": (2, 3), "area34": (3, 4), "up32": (3, 2)}
"""Kernel name -> (output, input) pixels per period along each axis."""

U8 = np.uint8
U16 = np.uint16


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def box3(src: Any, dst: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (3h, 3w) -> ``dst`` (h, w): mean of each 3x3 block, rounded half up."""
    h, w = dst.shape
    sw = 3 * w
    for i in range(h):
        r0, r1, r2 = src[3 * i], src[3 * i + 1], src[3 * i + 2]
        for x in range(sw):
            row[x] = U16(U16(r0[x]) + U16(r1[x]) + U16(r2[x]))
        d = dst[i]
        for j in range(w):
            s = U16(row[3 * j] + row[3 * j + 1] + row[3 * j + 2])
            d[j] = U8(U16(s + s + U16(9)) // U16(18))


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def area23(src: Any, phases: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (3h/2, 3m) -> ``phases`` (2, h, m), ``h`` even: exact 2/3 area average.

    ``phases[k, i, j]`` is output pixel ``(i, 2j + k)``: ``cv2.merge`` (or :func:`interleave`)
    puts the columns in place. Writing them apart keeps every loop's stores contiguous.
    """
    _, h, n = phases.shape
    even, odd = phases[0], phases[1]
    for i in range(h):
        k = 3 * (i >> 1)
        if i & 1:  # second output row of the period: inputs 1 and 2, weights 1 and 2
            near, far = src[k + 2], src[k + 1]
        else:  # first: inputs 0 and 1, weights 2 and 1
            near, far = src[k], src[k + 1]
        for x in range(3 * n):
            a = U16(near[x])
            row[x] = U16(a + a + U16(far[x]))
        e, o = even[i], odd[i]
        for m in range(n):
            a, b, c = row[3 * m], row[3 * m + 1], row[3 * m + 2]
            t = U16(a + a + b)
            u = U16(b + c + c)
            e[m] = U8(U16(t + t + U16(9)) // U16(18))
            o[m] = U8(U16(u + u + U16(9)) // U16(18))


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def area34(src: Any, phases: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (4h/3, 4m) -> ``phases`` (3, h, m), ``h`` a multiple of 3: exact 3/4 area.

    Rows (and columns) of a period pair up as (0, 1) weighted (3, 1), (1, 2) as (2, 2) and
    (2, 3) as (1, 3).
    """
    _, h, n = phases.shape
    for i in range(h):
        k = 4 * (i // 3)
        phase = i - 3 * (i // 3)
        a_row, b_row = src[k + phase], src[k + phase + 1]
        if phase == 0:
            for x in range(4 * n):
                a = U16(a_row[x])
                row[x] = U16(a + a + a + U16(b_row[x]))
        elif phase == 1:
            for x in range(4 * n):
                t = U16(U16(a_row[x]) + U16(b_row[x]))
                row[x] = U16(t + t)
        else:
            for x in range(4 * n):
                b = U16(b_row[x])
                row[x] = U16(U16(a_row[x]) + b + b + b)
        p0, p1, p2 = phases[0, i], phases[1, i], phases[2, i]
        for m in range(n):
            a, b = row[4 * m], row[4 * m + 1]
            c, e = row[4 * m + 2], row[4 * m + 3]
            p0[m] = U8(U16(a + a + a + b + U16(8)) >> 4)
            p1[m] = U8(U16(b + b + c + c + U16(8)) >> 4)
            p2[m] = U8(U16(c + e + e + e + U16(8)) >> 4)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _up32_row(r: Any, h0: Any, h1: Any, h2: Any) -> None:  # pragma: no cover - compiled
    """One source row (contiguous, ``2n`` pixels) enlarged 3/2 horizontally, in sixths:
    ``h0[m] = r[2m - 1] + 5 r[2m]``, ``h1[m] = 3 (r[2m] + r[2m + 1])``,
    ``h2[m] = 5 r[2m + 1] + r[2m + 2]``, the ends clamped."""
    n = h0.shape[0]
    h0[0] = U16(6) * U16(r[0])
    for m in range(1, n):
        y = U16(r[2 * m])
        h0[m] = U16(U16(r[2 * m - 1]) + U16(y << 2) + y)
    for m in range(n):
        t = U16(U16(r[2 * m]) + U16(r[2 * m + 1]))
        h1[m] = U16(t + t + t)
    for m in range(n - 1):
        y = U16(r[2 * m + 1])
        h2[m] = U16(U16(y << 2) + y + U16(r[2 * m + 2]))
    h2[n - 1] = U16(6) * U16(r[2 * n - 1])


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _blend15(a: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = round((a + 5 b) / 36)``: the two outer row phases."""
    for m in range(out.shape[0]):
        y = b[m]
        out[m] = U8(U16(a[m] + U16(y << 2) + y + U16(18)) // U16(36))


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _blend33(a: Any, b: Any, out: Any) -> None:  # pragma: no cover - compiled
    """``out = round(3 (a + b) / 36)``: the middle row phase."""
    for m in range(out.shape[0]):
        t = U16(a[m] + b[m])
        out[m] = U8(U16(t + t + t + U16(18)) // U16(36))


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def up32(src: Any, phases: Any, ring: Any, line: Any) -> None:  # pragma: no cover - compiled
    """``src`` (2h/3, 2m) -> ``phases`` (3, h, m), ``h`` a multiple of 3: bilinear 3/2.

    Output column ``3j`` sits at source column ``2j - 1/6``, ``3j + 1`` at ``2j + 1/2`` and
    ``3j + 2`` at ``2j + 7/6`` (half-pixel centres), rows likewise; weights are in sixths per
    axis, edges clamped. ``ring`` is ``(3, 3, m)`` ``uint16``: source row ``r`` enlarged
    horizontally lives in ``ring[r % 3]``; ``line`` is a ``uint8`` scratch row of ``2m``.
    """
    _, h, n = phases.shape
    sh = src.shape[0]
    loaded = np.full(3, -1, np.int64)
    for i in range(h):
        t = 2 * (i // 3)
        phase = i - 3 * (i // 3)
        if phase == 0:  # rows 2t - 1 and 2t, weights 1 and 5
            ra, rb = t - 1, t
        elif phase == 1:  # rows 2t and 2t + 1, weights 3 and 3
            ra, rb = t, t + 1
        else:  # rows 2t + 2 and 2t + 1, weights 1 and 5
            ra, rb = t + 2, t + 1
        ra, rb = min(max(ra, 0), sh - 1), min(max(rb, 0), sh - 1)
        for r in (ra, rb):
            if loaded[r % 3] != r:
                loaded[r % 3] = r
                s = src[r]
                for x in range(2 * n):
                    line[x] = s[x]
                _up32_row(line, ring[r % 3, 0], ring[r % 3, 1], ring[r % 3, 2])
        a, b = ring[ra % 3], ring[rb % 3]
        for k in range(3):
            if phase == 1:
                _blend33(a[k], b[k], phases[k, i])
            else:
                _blend15(a[k], b[k], phases[k, i])


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def interleave(phases: Any, dst: Any) -> None:  # pragma: no cover - compiled
    """``dst[i, p * j + k] = phases[k, i, j]`` (the fallback for ``cv2.merge``)."""
    p, h, n = phases.shape
    for i in range(h):
        d = dst[i]
        for k in range(p):
            src = phases[k, i]
            for j in range(n):
                d[p * j + k] = src[j]
