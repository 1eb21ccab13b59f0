"""The statistics of many RTP streams at once: segmented numpy operations over one table.

Each stream is a contiguous segment of rows (in arrival order); every running quantity (extended
counters, running maxima, the jitter filter, Wireshark's running means) is computed for all
segments in one pass, so a capture of thousands of short streams costs a few numpy calls rather
than thousands. Public entry points live in :mod:`media.rtpstats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])

_ALPHA = 15.0 / 16.0
_BIG = np.int64(1) << np.int64(42)  # separates segments in running maxima
_OFFSET = np.int64(1) << np.int64(40)  # keeps extended sequence numbers positive


@dataclass(frozen=True)
class Segments:
    """Row layout: ``starts[k]`` is the first row of segment ``k``, ``ends[k]`` one past its
    last; ``seg[i]`` the segment of row ``i``; ``pos[i]`` the row's index inside its segment."""

    starts: IntArray
    ends: IntArray
    seg: IntArray
    pos: IntArray

    @classmethod
    def from_lengths(cls, lengths: IntArray) -> Segments:
        ends = np.cumsum(lengths).astype(np.int64)
        starts = ends - lengths
        seg = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
        pos = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) - starts[seg]
        return cls(starts, ends, seg, pos)

    @property
    def count(self) -> int:
        return len(self.starts)

    def first_row(self) -> IntArray:
        return self.starts[self.seg]

    def shift(self, values: ArrayT) -> ArrayT:
        """``values`` of the previous row of the same segment (the row itself at segment start)."""
        out = values.copy()
        out[1:] = values[:-1]
        out[self.starts] = values[self.starts]
        return out

    def total(self, weights: FloatArray | IntArray | BoolArray) -> FloatArray:
        return np.bincount(self.seg, weights=weights, minlength=self.count).astype(np.float64)

    def maximum(self, values: FloatArray, mask: BoolArray) -> FloatArray:
        """Per-segment maximum of ``values`` over ``mask`` (0 for a segment with none)."""
        masked = np.where(mask, values, -np.inf)
        out = np.full(self.count, -np.inf)
        np.maximum.at(out, self.seg, masked)
        return np.where(np.isfinite(out), out, 0.0)


def unwrap(values: IntArray, bits: int, segs: Segments) -> IntArray:
    """Extend ``bits``-wide counters across wrap-arounds, each segment on its own: every step is
    read as the signed difference closest to zero."""
    modulus = np.int64(1) << np.int64(bits)
    half = modulus >> np.int64(1)
    steps = np.zeros(len(values), dtype=np.int64)
    steps[1:] = (np.diff(values) + half) % modulus - half
    steps[segs.starts] = 0
    running = np.cumsum(steps)
    first = segs.first_row()
    return values[first] + running - running[first]


def in_time_and_reference(ext_ts: IntArray, segs: Segments) -> tuple[BoolArray, IntArray]:
    """Wireshark 4.0's "in time sequence" (timestamp not before the segment's first) and, for
    each row, the last in-time row before it in its segment (itself for a segment's first)."""
    n = len(ext_ts)
    in_time: BoolArray = ext_ts - ext_ts[segs.first_row()] >= 0
    marks = np.where(in_time, np.arange(n, dtype=np.int64), 0)
    last = np.maximum.accumulate(marks)  # a segment's first row is in time: no leak across
    prev = np.empty(n, dtype=np.int64)
    prev[1:] = last[:-1]
    prev[segs.starts] = segs.starts
    return in_time, prev


def regular_rows(
    payload_type: IntArray, marker: BoolArray, in_time: BoolArray, segs: Segments
) -> BoolArray:
    """Rows Wireshark counts in max/mean delta and jitter: not first, not marked, not comfort
    noise and not right after it, in time sequence."""
    cn: BoolArray = (payload_type == 13) | (payload_type == 19)
    after_cn = segs.shift(cn)
    after_cn[segs.starts] = False
    regular: BoolArray = ~marker & ~cn & ~after_cn & in_time & (segs.pos > 0)
    return regular


def running_means(values: FloatArray, mask: BoolArray, segs: Segments) -> FloatArray:
    """Per segment, Wireshark's running mean ``m = (m * (n - 1) + x) / n`` over the rows in
    ``mask``, ``n`` being the row's index inside its segment."""
    rows = np.flatnonzero(mask)
    out = np.zeros(segs.count)
    if not len(rows):
        return out
    n = segs.pos[rows].astype(np.float64)
    factor = np.where(n > 1, (n - 1.0) / n, 1.0)  # n == 1: only ever the first term
    logs = np.cumsum(np.log(factor))
    seg = segs.seg[rows]
    last = np.flatnonzero(np.append(seg[1:] != seg[:-1], True))  # last masked row per segment
    last_log = np.zeros(segs.count)
    last_log[seg[last]] = logs[last]
    terms = values[rows] / n * np.exp(last_log[seg] - logs)
    return np.bincount(seg, weights=terms, minlength=segs.count).astype(np.float64)


def sequence_figures(
    seq: IntArray, in_time: BoolArray, segs: Segments
) -> tuple[IntArray, IntArray, IntArray]:
    """(expected, sequence errors, duplicates) per segment, with Wireshark's cycle counting:
    a flip-flop set by an in-time packet below the start number (or 65535 -> 0) and reset by one
    above it; each setting is one more cycle."""
    first = segs.first_row()
    start_seq = seq[first]
    prev_seq = segs.shift(seq)
    later = segs.pos > 0
    sets = later & in_time & ((seq < start_seq) | ((seq == 0) & (prev_seq == 65535)))
    resets = later & in_time & (seq > start_seq)
    events = np.where(sets, 1, np.where(resets, -1, 0))
    nz = np.flatnonzero(events)
    cycles = np.zeros(segs.count, dtype=np.int64)
    if len(nz):
        ev = events[nz]
        before = np.empty(len(nz), dtype=np.int64)
        before[0] = -1
        before[1:] = np.where(segs.seg[nz[1:]] == segs.seg[nz[:-1]], ev[:-1], -1)
        counted = (ev == 1) & (before == -1)
        cycles = np.bincount(segs.seg[nz[counted]], minlength=segs.count).astype(np.int64)
    expected = seq[segs.ends - 1] + cycles * 65536 - seq[segs.starts] + 1

    ext_seq = unwrap(seq, 16, segs) + _OFFSET
    base = segs.seg * _BIG
    highest = np.maximum.accumulate(np.where(in_time, base + ext_seq, base))
    prev_high = np.empty(len(seq), dtype=np.int64)
    prev_high[1:] = highest[:-1] - base[1:]
    prev_high[segs.starts] = ext_seq[segs.starts]
    gaps = in_time & (ext_seq > prev_high + 1)
    late = ext_seq <= prev_high
    errors = segs.total(later & (gaps | late)).astype(np.int64)
    keys = np.sort(base + ext_seq)  # distinct values (np.unique would import numpy.ma)
    keys = keys[np.concatenate(([True], np.diff(keys) != 0))] if len(keys) else keys
    distinct = np.bincount(keys // _BIG, minlength=segs.count)
    duplicates = (segs.ends - segs.starts) - distinct
    return expected.astype(np.int64), errors, duplicates.astype(np.int64)


_BLOCK = 64
_UP = _ALPHA ** -np.arange(_BLOCK, dtype=np.float64)
_DOWN = _ALPHA ** np.arange(_BLOCK, dtype=np.float64)
_CARRY = _ALPHA ** np.arange(1, _BLOCK + 1, dtype=np.float64)


def _first_order_filter(x: FloatArray) -> FloatArray:
    """``y[n] = x[n] / 16 + (15/16) y[n-1]`` from rest (the RFC 3550 jitter recurrence), in numpy.

    Within blocks of 64 rows the recurrence is a weighted cumulative sum (weights at most
    (16/15)**63, about 58, so nothing is lost to rounding); one short loop carries each block's
    last value into the next. scipy's ``lfilter`` does the same but costs half a second to import.
    """
    n = len(x)
    blocks = -(-n // _BLOCK)
    padded = np.zeros(blocks * _BLOCK, dtype=np.float64)
    padded[:n] = x / 16.0
    local = np.cumsum(padded.reshape(blocks, _BLOCK) * _UP, axis=1) * _DOWN
    carry = np.zeros(blocks, dtype=np.float64)
    step = _ALPHA**_BLOCK
    value = 0.0
    for b, end in enumerate(local[:, -1].tolist()):
        carry[b] = value
        value = end + step * value
    out: FloatArray = (local + carry[:, None] * _CARRY).reshape(-1)[:n]
    return out


def jitter(
    arrival_s: FloatArray,
    ext_ts: IntArray,
    clock_hz: FloatArray,
    payload_type: IntArray,
    marker: BoolArray,
    segs: Segments,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(mean, max, last) running RFC 3550 jitter in ms per segment over the given rows."""
    in_time, prev = in_time_and_reference(ext_ts, segs)
    t_ms = arrival_s * 1000.0
    nominal_ms = (ext_ts - ext_ts[prev]).astype(np.float64) / (clock_hz / 1000.0)
    diff = np.abs(t_ms - (t_ms[prev] + nominal_ms))
    diff[segs.starts] = 0.0
    running = _first_order_filter(diff)
    # The filter ran across segment borders: take out what the previous segment left in it.
    carried = np.zeros(segs.count)
    later_segments = segs.starts > 0
    carried[later_segments] = running[segs.starts[later_segments] - 1]
    decay = np.power(_ALPHA, (segs.pos + 1).astype(np.float64))
    running = running - carried[segs.seg] * decay
    running[segs.starts] = 0.0
    regular = regular_rows(payload_type, marker, in_time, segs)
    mean = running_means(running, regular, segs)
    peak = segs.maximum(running, regular)
    last = running[segs.ends - 1]
    return mean, peak, last
