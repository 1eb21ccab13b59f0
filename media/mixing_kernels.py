"""The mixer's two compiled passes (Numba), which do in two reads of the input what numpy does in
about seven passes over a float32 copy.

- :func:`sum_rows` reads every input row once and yields the column sums (the full mix, exact in
  ``int32``), each row's energy (exact in ``int64``) and the loudest input sample.
- :func:`limit_rows` forms each mix-minus row (total minus own), finds its peak, moves its limiter
  gain and writes the rounded ``int16`` result, one row at a time while the row is in L1 cache.

Both are bit-identical to the numpy path of :class:`media.mixer.Mixer`: float32 operations in
the same order, no fused multiply-add, round half to even. ``tests/media/test_mixer.py`` checks
this over attack, hold and release.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from media._numba import HAVE_NUMBA, JIT_OPTIONS, njit

__all__ = ["HAVE_NUMBA", "limit_rows", "sum_rows"]


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def sum_rows(x: Any, acc: Any, total: Any, energy: Any) -> Any:  # pragma: no cover - compiled
    """Column sums of int16 ``x`` (n, s) into ``acc`` (int32) and ``total`` (float32), each row's
    sum of squares into ``energy`` (int64); return (peak of ``|x|``, peak of ``|total|``)."""
    n, s = x.shape
    for j in range(s):
        acc[j] = 0
    input_peak = np.int32(0)
    for i in range(n):
        e = np.int64(0)
        hi = np.int32(0)
        for j in range(s):
            v = np.int32(x[i, j])
            acc[j] += v
            e += v * v
            hi = max(hi, max(v, -v))
        energy[i] = e
        input_peak = max(input_peak, hi)
    total_peak = np.int32(0)
    for j in range(s):
        a = acc[j]
        total[j] = np.float32(a)
        total_peak = max(total_peak, max(a, -a))
    return input_peak, total_peak


@njit(**JIT_OPTIONS)  # type: ignore[untyped-decorator]
def limit_rows(
    x: Any, acc: Any, total: Any, gains: Any, threshold: Any, release: Any, ramp: Any, out: Any
) -> int:  # pragma: no cover - compiled
    """Row ``i`` of ``out`` = limited ``total - x[i]``; update ``gains``; return the limited count.

    ``threshold`` and ``release`` are float32 scalars, ``ramp`` the float32 ``(1..s) / s``.
    Attack takes the new gain at once; release ramps from the old gain to the new one.
    """
    n, s = x.shape
    one = np.float32(1.0)
    zero = np.float32(0.0)
    limited = 0
    for i in range(n):
        peak = np.int32(0)
        for j in range(s):
            d = acc[j] - np.int32(x[i, j])
            peak = max(peak, max(d, -d))
        target = one if peak == 0 else min(one, threshold / np.float32(peak))
        old = gains[i]
        new = min(target, one - (one - old) * release)
        if new > old:
            start, delta = old, new - old
        else:
            start, delta = new, zero
        gains[i] = new
        if new < one:
            limited += 1
        for j in range(s):
            v = total[j] - np.float32(x[i, j])
            out[i, j] = np.int16(np.rint(v * (delta * ramp[j] + start)))
    return limited
