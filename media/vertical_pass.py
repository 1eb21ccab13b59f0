"""The rows pass of :mod:`media.separable`, compiled: ``out[i] = round(sum_t w[i, t] *
src[first[i] + t] / 256)`` from uint8 rows into uint8 rows.

Footprints of at most four rows go to byte-pair multiply-adds where the CPU has them
(:mod:`media.madd_rows`), otherwise to 16-bit lanes (:func:`_uniform`); wider ones to
:func:`_general` (taps four or two at a time through a uint16 scratch row, or the interior rows
of equal weight added and multiplied once). How the arithmetic is kept in 16-bit lanes, and
why, is in :mod:`media.separable`'s text.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from media._numba import JIT_OPTIONS, njit, prefetch_row
from media.madd_rows import HAVE_MADD, LANES, madd_rows1, madd_rows2, madd_rows_many

__all__ = ["LOOKAHEAD", "pair_taps", "vertical"]

LOOKAHEAD = 8
"""Source rows prefetched ahead of the footprint being computed."""

U8 = np.uint8
U16 = np.uint16


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
def pair_taps(r0: Any, r1: Any, w0: Any, w1: Any) -> Any:  # pragma: no cover - compiled
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
        r0, r1, w01 = pair_taps(r, min(r + 1, last_row), weights[i, 0], w1)
        if width <= 2:
            for x in range(0, n - LANES, LANES):
                madd_rows1(src, r0, r1, r0, r1, w01, 0, out, i, x)
            madd_rows1(src, r0, r1, r0, r1, w01, 0, out, i, n - LANES)
            continue
        r2, r3, w23 = pair_taps(min(r + 2, last_row), min(r + 3, last_row), w2, w3)
        for x in range(0, n - LANES, LANES):
            madd_rows2(src, r0, r1, r2, r3, w01, w23, out, i, x)
        madd_rows2(src, r0, r1, r2, r3, w01, w23, out, i, n - LANES)


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def _general_madd(
    src: Any, first: Any, weights: Any, count: Any, out: Any, prefetch: Any
) -> None:  # pragma: no cover - compiled
    """:func:`_general` by byte-pair multiply-adds, the sums of all of a footprint's pairs kept
    in registers (no round trips through a scratch row); ``out`` at least ``LANES`` wide."""
    h, n = out.shape
    last_row = src.shape[0] - 1
    width = weights.shape[1]
    rows = np.empty(width + 2, np.int64)
    words = np.empty(width // 2 + 1, np.uint16)
    ahead = first[0] - 1
    for i in range(h):
        r, taps = first[i], count[i]
        if prefetch:
            target = min(r + taps - 1 + LOOKAHEAD, last_row)
            while ahead < target:
                ahead += 1
                prefetch_row(src, ahead)
        pairs = (taps + 1) // 2
        for k in range(pairs):
            r1 = min(r + 2 * k + 1, last_row)
            w1 = weights[i, 2 * k + 1] if 2 * k + 1 < taps else U16(0)
            a, b, word = pair_taps(r + 2 * k, r1, weights[i, 2 * k], w1)
            rows[2 * k], rows[2 * k + 1], words[k] = a, b, word
        for x in range(0, n - LANES, LANES):
            madd_rows_many(src, rows, words, pairs, out, i, x)
        madd_rows_many(src, rows, words, pairs, out, i, n - LANES)


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
    elif HAVE_MADD and out.shape[1] >= LANES:
        _general_madd(src, first, weights, count, out, prefetch)
    else:
        _general(src, first, weights, count, flat, out, acc, prefetch)
