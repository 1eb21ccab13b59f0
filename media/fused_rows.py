"""Both passes of a plane row by row, through one or two rows of scratch instead of a plane.

With the columns pass on the rows themselves (:mod:`media.permute_rows`), the two passes no
longer need a whole intermediate plane: a 720p -> 1080p luma plane wrote and read 1.4 MB of it,
as much memory traffic again as the source and the output, and both passes run near the
memory's rate here. So each output row is made as soon as its inputs are:

- :func:`widen_then_blend` (the plane grows taller): the source rows an output row needs are
  resampled into a ring of two rows (each source row once), then blended into the output row
  by byte-pair multiply-adds (:mod:`media.madd_rows`; vertical footprints of two rows);
- :func:`reduce_then_resample` (the plane gets shorter): the rows pass makes a few output rows
  at a time into a small scratch plane (:func:`media.vertical_pass.vertical` on their taps),
  which are resampled straight into the output rows.

The integers and their order are those of the two whole-plane passes, so are the bits
(``tests/media/test_fused_rows.py``).
"""

from __future__ import annotations

from typing import Any

from media._numba import JIT_OPTIONS, njit
from media.madd_rows import LANES, madd_rows1
from media.permute_rows import resample_row
from media.vertical_pass import pair_taps, vertical

__all__ = ["reduce_then_resample", "widen_then_blend"]


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def widen_then_blend(
    src: Any,
    tables: Any,
    bases: Any,
    starts: Any,
    kind: Any,
    first: Any,
    weights: Any,
    ring: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """``out`` from ``src``: columns by the step tables, rows by ``first`` / ``weights`` (at
    most two taps); ``ring`` is (2, out width) scratch, ``out`` at least ``LANES`` wide."""
    h, n = out.shape
    last = src.shape[0] - 1
    held0, held1 = -1, -1  # the source row in ring row 0 (even rows) and 1 (odd rows)
    two = weights.shape[1] > 1
    for i in range(h):
        r = first[i]
        r1 = min(r + 1, last)
        for rr in (r, r1):
            if rr & 1:
                if held1 != rr:
                    resample_row(src, rr, tables, bases, starts, kind, ring, 1)
                    held1 = rr
            elif held0 != rr:
                resample_row(src, rr, tables, bases, starts, kind, ring, 0)
                held0 = rr
        w1 = weights[i, 1] if two else 0
        if weights[i, 0] == 256 or w1 == 256:  # a whole source row (3x: one row in three)
            whole = r & 1 if weights[i, 0] == 256 else r1 & 1
            for x in range(n):
                out[i, x] = ring[whole, x]
            continue
        a, b, w01 = pair_taps(r & 1, r1 & 1, weights[i, 0], w1)
        for x in range(0, n - LANES, LANES):
            madd_rows1(ring, a, b, a, b, w01, 0, out, i, x)
        madd_rows1(ring, a, b, a, b, w01, 0, out, i, n - LANES)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def reduce_then_resample(
    src: Any,
    first: Any,
    weights: Any,
    count: Any,
    flat: Any,
    tables: Any,
    bases: Any,
    starts: Any,
    kind: Any,
    chunk: Any,
    acc: Any,
    prefetch: Any,
    out: Any,
) -> None:  # pragma: no cover - compiled
    """``out`` from ``src``: rows by ``first`` / ``weights`` / ``count`` / ``flat`` into
    ``chunk`` (k rows of the source width: k output rows at a time, which keeps the per-call
    cost of the rows pass off each row and the chunk in cache), then columns by the step
    tables; ``prefetch`` is the rows pass's."""
    h = out.shape[0]
    k = chunk.shape[0]
    for i in range(0, h, k):
        j = min(i + k, h)
        part = chunk[: j - i]
        vertical(src, first[i:j], weights[i:j], count[i:j], flat[i:j], part, acc, prefetch)
        for r in range(j - i):
            resample_row(part, r, tables, bases, starts, kind, out, i + r)
