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

Every loop is written so that the compiler vectorizes it: rows are combined first (contiguous)
into a ``uint16`` row; columns are then read in whole groups (3 or 4 inputs: a group with gaps
does not vectorize) and each output phase is written to its own contiguous plane, ``phases[k]``
holding output columns ``k, k + p, k + 2p, ...``; :func:`interleave` or ``cv2.merge`` (SIMD) then
puts the columns in place. The 3/2 kernel splits each source row once into even and odd columns
kept in a small ring, blends two such rows per output row, then forms its three phases.
Edges are clamped like OpenCV's bilinear.

Sources and destinations are 2-D ``uint8`` views (crops of a frame, tiles of the output); the
kernels read only the region they are given and write only into their output. ``HAVE_NUMBA``
is false when Numba is not installed; callers then use the OpenCV or numpy kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["HAVE_NUMBA", "KERNEL_RATIOS", "area23", "area34", "box3", "up32"]

KERNEL_RATIOS = {"box3": (1, 3), "area23": (2, 3), "area34": (3, 4), "up32": (3, 2)}
"""Kernel name -> (output, input) pixels per period along each axis."""

njit: Any
try:
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only where Numba is missing
    HAVE_NUMBA = False

    def njit(*_args: Any, **_kwargs: Any) -> Any:
        return lambda fn: fn


U16 = np.uint16
U32 = np.uint32
_JIT = {"cache": True, "nogil": True, "boundscheck": False, "error_model": "numpy"}


@njit(**_JIT)  # type: ignore[untyped-decorator]
def box3(src: Any, dst: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (3h, 3w) -> ``dst`` (h, w): mean of each 3x3 block, rounded half up."""
    h, w = dst.shape
    sw = 3 * w
    for i in range(h):
        r0, r1, r2 = src[3 * i], src[3 * i + 1], src[3 * i + 2]
        for x in range(sw):
            row[x] = U16(r0[x]) + U16(r1[x]) + U16(r2[x])
        d = dst[i]
        for j in range(w):
            s = U32(row[3 * j]) + U32(row[3 * j + 1]) + U32(row[3 * j + 2])
            d[j] = np.uint8((U32(2) * s + U32(9)) // U32(18))


@njit(**_JIT)  # type: ignore[untyped-decorator]
def area23(src: Any, phases: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (3h/2, 3m) -> ``phases`` (2, h, m), ``h`` even: exact 2/3 area average.

    ``phases[k, i, j]`` is output pixel ``(i, 2j + k)``: :func:`interleave` (or ``cv2.merge``)
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
            row[x] = U16(2) * U16(near[x]) + U16(far[x])
        e, o = even[i], odd[i]
        for m in range(n):
            a, b, c = U32(row[3 * m]), U32(row[3 * m + 1]), U32(row[3 * m + 2])
            e[m] = np.uint8((U32(2) * (a + a + b) + U32(9)) // U32(18))
            o[m] = np.uint8((U32(2) * (b + c + c) + U32(9)) // U32(18))


@njit(**_JIT)  # type: ignore[untyped-decorator]
def area34(src: Any, phases: Any, row: Any) -> None:  # pragma: no cover - compiled
    """``src`` (4h/3, 4m) -> ``phases`` (3, h, m), ``h`` a multiple of 3: exact 3/4 area."""
    _, h, n = phases.shape
    for i in range(h):
        k = 4 * (i // 3)
        phase = i - 3 * (i // 3)
        a_row, b_row = src[k + phase], src[k + phase + 1]
        wa = U16(3 - phase)  # weights (3, 1), (2, 2), (1, 3)
        wb = U16(1 + phase)
        for x in range(4 * n):
            row[x] = wa * U16(a_row[x]) + wb * U16(b_row[x])
        p0, p1, p2 = phases[0, i], phases[1, i], phases[2, i]
        for m in range(n):
            a, b = U32(row[4 * m]), U32(row[4 * m + 1])
            c, e = U32(row[4 * m + 2]), U32(row[4 * m + 3])
            p0[m] = np.uint8((U32(3) * a + b + U32(8)) >> U32(4))
            p1[m] = np.uint8((U32(2) * (b + c) + U32(8)) >> U32(4))
            p2[m] = np.uint8((c + U32(3) * e + U32(8)) >> U32(4))


@njit(**_JIT)  # type: ignore[untyped-decorator]
def _split_row(r: Any, e: Any, o: Any) -> None:  # pragma: no cover - compiled
    for m in range(e.shape[0]):
        e[m] = U16(r[2 * m])
        o[m] = U16(r[2 * m + 1])


@njit(**_JIT)  # type: ignore[untyped-decorator]
def up32(src: Any, phases: Any, ring: Any) -> None:  # pragma: no cover - compiled
    """``src`` (2h/3, 2m) -> ``phases`` (3, h, m), ``h`` a multiple of 3: bilinear 3/2.

    Output column ``3j`` sits at source column ``2j - 1/6``, ``3j + 1`` at ``2j + 1/2`` and
    ``3j + 2`` at ``2j + 7/6`` (half-pixel centres), rows likewise; weights are in sixths per
    axis, edges clamped. ``ring`` is ``(4, 2, m)`` ``uint16``: source row ``r`` split into even
    and odd columns lives in ``ring[r % 3]``, and ``ring[3]`` holds the blended pair.
    """
    _, h, n = phases.shape
    sh = src.shape[0]
    ev, ov = ring[3, 0], ring[3, 1]
    loaded = np.full(3, -1, np.int64)
    for i in range(h):
        t = 2 * (i // 3)
        phase = i - 3 * (i // 3)
        if phase == 0:  # rows 2t - 1 and 2t, weights 1 and 5
            ra, rb, wa, wb = t - 1, t, U16(1), U16(5)
        elif phase == 1:  # rows 2t and 2t + 1, weights 3 and 3
            ra, rb, wa, wb = t, t + 1, U16(3), U16(3)
        else:  # rows 2t + 1 and 2t + 2, weights 5 and 1
            ra, rb, wa, wb = t + 1, t + 2, U16(5), U16(1)
        ra, rb = max(ra, 0), min(rb, sh - 1)
        for r in (ra, rb):
            if loaded[r % 3] != r:
                loaded[r % 3] = r
                _split_row(src[r], ring[r % 3, 0], ring[r % 3, 1])
        ea, oa, eb, ob = ring[ra % 3, 0], ring[ra % 3, 1], ring[rb % 3, 0], ring[rb % 3, 1]
        for m in range(n):
            ev[m] = wa * ea[m] + wb * eb[m]
            ov[m] = wa * oa[m] + wb * ob[m]
        p0, p1, p2 = phases[0, i], phases[1, i], phases[2, i]
        p0[0] = np.uint8((U32(6) * U32(ev[0]) + U32(18)) // U32(36))
        for m in range(1, n):
            p0[m] = np.uint8((U32(ov[m - 1]) + U32(5) * U32(ev[m]) + U32(18)) // U32(36))
        for m in range(n):
            p1[m] = np.uint8((U32(3) * (U32(ev[m]) + U32(ov[m])) + U32(18)) // U32(36))
        for m in range(n - 1):
            p2[m] = np.uint8((U32(5) * U32(ov[m]) + U32(ev[m + 1]) + U32(18)) // U32(36))
        p2[n - 1] = np.uint8((U32(6) * U32(ov[n - 1]) + U32(18)) // U32(36))


@njit(**_JIT)  # type: ignore[untyped-decorator]
def interleave(phases: Any, dst: Any) -> None:  # pragma: no cover - compiled
    """``dst[i, p * j + k] = phases[k, i, j]`` (the fallback for ``cv2.merge``)."""
    p, h, n = phases.shape
    for i in range(h):
        d = dst[i]
        for k in range(p):
            src = phases[k, i]
            for j in range(n):
                d[p * j + k] = src[j]
