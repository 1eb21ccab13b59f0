"""Per-stream RTP statistics from captured packet columns (numpy, no I/O, no clock).

A stream is the packets of one SSRC between one source and one destination transport address, in
arrival order. :func:`analyse_stream` computes what Wireshark's RTP stream analysis shows, with the
same definitions so that figures can be checked against ``tshark -q -z rtp,streams``:

- ``expected`` and ``lost``: from the first and the last sequence number seen and the number of
  sequence cycles (``expected = last + cycles * 65536 - first + 1``, ``lost = expected - packets``;
  duplicates can make ``lost`` negative, as in Wireshark);
- ``sequence_errors``: gaps, late and duplicated packets; ``duplicates``: packets whose extended
  sequence number was already seen;
- interarrival jitter (RFC 3550 section 6.4.1, ``J += (|D| - J) / 16``) computed over the audio
  payload only: telephone-event packets (RFC 4733), whose timestamp stays at the event start, and
  payload types without a known clock rate are left out. ``mean_jitter_ms`` and
  ``max_jitter_ms`` are the mean and the maximum of the running estimate over the regular packets
  (not the first, not marked, not comfort noise nor right after it, not before the first
  timestamp), the way Wireshark 4.0's "Mean Jitter" and "Max Jitter" are;
- ``max_delta_ms``: the largest gap between consecutive regular packets of the whole stream.

The running jitter estimate is a first-order IIR filter, evaluated with :func:`scipy.signal.lfilter`
on numpy arrays rather than a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

__all__ = [
    "CN_PAYLOAD_TYPES",
    "STATIC_PAYLOAD_TYPES",
    "RtpColumns",
    "RtpStreamStats",
    "analyse_stream",
    "estimate_clock_rate",
    "event_digits",
    "unwrap",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Static payload types of RFC 3551 (name, clock rate in Hz).
STATIC_PAYLOAD_TYPES: Mapping[int, tuple[str, int]] = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    5: ("DVI4", 8000),
    6: ("DVI4", 16000),
    7: ("LPC", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    10: ("L16", 44100),
    11: ("L16", 44100),
    12: ("QCELP", 8000),
    13: ("CN", 8000),
    14: ("MPA", 90000),
    15: ("G728", 8000),
    16: ("DVI4", 11025),
    17: ("DVI4", 22050),
    18: ("G729", 8000),
    19: ("CN", 8000),
    25: ("CelB", 90000),
    26: ("JPEG", 90000),
    28: ("nv", 90000),
    31: ("H261", 90000),
    32: ("MPV", 90000),
    33: ("MP2T", 90000),
    34: ("H263", 90000),
}

#: Comfort noise (RFC 3389, and the old reserved value 19).
CN_PAYLOAD_TYPES = frozenset({13, 19})

_COMMON_CLOCKS = np.array([8000, 16000, 32000, 44100, 48000, 90000], dtype=np.float64)

# RFC 4733 event codes 0-15 as DTMF characters.
_DTMF = "0123456789*#ABCD"


@dataclass(frozen=True)
class RtpColumns:
    """The packets of one stream as columns, in arrival order.

    ``arrival_s`` is the capture time in seconds (any origin), ``seq`` the 16-bit sequence number,
    ``timestamp`` the 32-bit RTP timestamp, ``payload_type`` 0-127 and ``marker`` the M bit.
    """

    arrival_s: FloatArray
    seq: IntArray
    timestamp: IntArray
    payload_type: IntArray
    marker: BoolArray

    def __post_init__(self) -> None:
        n = len(self.arrival_s)
        for name in ("seq", "timestamp", "payload_type", "marker"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"RtpColumns.{name} has {len(getattr(self, name))} rows, not {n}")
        if n == 0:
            raise ValueError("an RTP stream needs at least one packet")

    @classmethod
    def from_sequences(
        cls,
        arrival_s: Sequence[float],
        seq: Sequence[int],
        timestamp: Sequence[int],
        payload_type: Sequence[int],
        marker: Sequence[bool] | None = None,
    ) -> RtpColumns:
        return cls(
            np.asarray(arrival_s, dtype=np.float64),
            np.asarray(seq, dtype=np.int64),
            np.asarray(timestamp, dtype=np.int64),
            np.asarray(payload_type, dtype=np.int64),
            np.asarray(marker if marker is not None else [False] * len(seq), dtype=np.bool_),
        )

    def take(self, index: npt.NDArray[np.intp] | BoolArray) -> RtpColumns:
        return RtpColumns(
            self.arrival_s[index],
            self.seq[index],
            self.timestamp[index],
            self.payload_type[index],
            self.marker[index],
        )


@dataclass(frozen=True)
class RtpStreamStats:
    """What :func:`analyse_stream` found in one stream (times in milliseconds)."""

    packets: int
    expected: int
    lost: int
    sequence_errors: int
    duplicates: int
    payload_types: tuple[int, ...]
    audio_payload_type: int | None
    clock_rate: int | None
    audio_packets: int
    mean_jitter_ms: float
    max_jitter_ms: float
    last_jitter_ms: float
    max_delta_ms: float
    mean_delta_ms: float
    duration_s: float
    wrong_timestamps: int

    @property
    def loss_fraction(self) -> float:
        """Lost packets over expected ones, clamped to 0..1 (duplicates never count as gain)."""
        if self.expected <= 0:
            return 0.0
        return min(1.0, max(0.0, self.lost / self.expected))

    @property
    def has_problem(self) -> bool:
        """Wireshark's "Problems?" mark: a sequence error or a packet earlier in timestamp."""
        return self.sequence_errors > 0 or self.wrong_timestamps > 0


def unwrap(values: IntArray, bits: int) -> IntArray:
    """Extend ``bits``-wide counters (sequence numbers, timestamps) across wrap-arounds.

    Each step is read as the signed difference closest to zero, so a 65535 -> 0 step is +1 and a
    late packet is a small negative step rather than a whole cycle.
    """
    if len(values) == 0:
        return values.astype(np.int64)
    modulus = 1 << bits
    half = modulus >> 1
    steps = (np.diff(values) + half) % modulus - half
    out = np.empty(len(values), dtype=np.int64)
    out[0] = values[0]
    np.cumsum(steps, out=out[1:])
    out[1:] += values[0]
    return out


def _previous_in_time(ext_ts: IntArray) -> tuple[BoolArray, IntArray]:
    """Which packets are "in time sequence", and for each packet the index of the last such
    packet before it (the reference of its delta and jitter).

    As in Wireshark 4.0, a packet is in time sequence unless its timestamp lies before the
    stream's first timestamp (so RFC 4733 event packets, whose timestamp stays at the event
    start, are in sequence).
    """
    n = len(ext_ts)
    in_time = (ext_ts - ext_ts[0]) >= 0
    marks = np.where(in_time, np.arange(n), 0)
    last = np.maximum.accumulate(marks)
    prev = np.zeros(n, dtype=np.int64)
    prev[1:] = last[:-1]
    return in_time, prev


def _sequence_figures(seq: IntArray, ext_ts: IntArray, in_time: BoolArray) -> tuple[int, int, int]:
    """(expected, sequence_errors, duplicates) with Wireshark's cycle counting."""
    n = len(seq)
    start = int(seq[0])
    # Cycles: a flip-flop set by an in-time packet below the start number (or 65535 -> 0) and
    # reset by an in-time packet above it; each setting is one more cycle.
    prev_seq = np.empty(n, dtype=np.int64)
    prev_seq[0] = seq[0]
    prev_seq[1:] = seq[:-1]
    sets = in_time & ((seq < start) | ((seq == 0) & (prev_seq == 65535)))
    resets = in_time & (seq > start)
    sets[0] = resets[0] = False
    events = np.where(sets, 1, np.where(resets, -1, 0))[1:]
    events = events[events != 0]
    cycles = 0
    if len(events):
        before = np.concatenate(([-1], events[:-1]))
        cycles = int(np.count_nonzero((events == 1) & (before == -1)))
    expected = int(seq[-1]) + cycles * 65536 - start + 1

    ext_seq = unwrap(seq, 16)
    candidates = np.where(in_time, ext_seq, np.iinfo(np.int64).min)
    highest = np.maximum.accumulate(candidates)
    prev_high = highest[:-1]
    cur = ext_seq[1:]
    gaps = in_time[1:] & (cur > prev_high + 1)
    late = cur <= prev_high
    errors = int(np.count_nonzero(gaps | late))
    steps = np.diff(ext_seq)
    duplicates = 0 if bool(np.all(steps > 0)) else n - len(np.unique(ext_seq))
    return expected, errors, duplicates


def _running_mean(values: FloatArray, counts: IntArray) -> float:
    """Wireshark's mean: ``m = (m * (n - 1) + x) / n`` applied to each ``(x, n)`` in turn."""
    if len(values) == 0:
        return 0.0
    n = counts.astype(np.float64)
    factors = (n - 1.0) / n
    factors[0] = 1.0  # never used: each term is scaled by the factors *after* it
    logs = np.cumsum(np.log(np.where(factors > 0, factors, 1.0)))
    # A factor of 0 (n == 1) can only be the first one, which no term is scaled by.
    weights = np.exp(logs[-1] - logs)
    return float(np.sum(values / n * weights))


def _regular(payload_type: IntArray, marker: BoolArray, in_time: BoolArray) -> BoolArray:
    cn: BoolArray = (payload_type == 13) | (payload_type == 19)  # CN_PAYLOAD_TYPES
    after_cn = np.zeros(len(cn), dtype=np.bool_)
    after_cn[1:] = cn[:-1]
    regular: BoolArray = ~marker & ~cn & ~after_cn & in_time
    regular[0] = False
    return regular


def _jitter(
    cols: RtpColumns, ext_ts: IntArray, clock: FloatArray
) -> tuple[float, float, float]:
    """(mean, max, last) running interarrival jitter in ms over the given (audio) packets,
    ``ext_ts`` being their extended timestamps."""
    n = len(cols.arrival_s)
    if n < 2:
        return 0.0, 0.0, 0.0
    in_time, prev = _previous_in_time(ext_ts)
    t_ms = cols.arrival_s * 1000.0
    nominal_ms = (ext_ts - ext_ts[prev]).astype(np.float64) / (clock / 1000.0)
    diff = np.abs(t_ms - (t_ms[prev] + nominal_ms))
    diff[0] = 0.0
    running: FloatArray = lfilter([1.0 / 16.0], [1.0, -15.0 / 16.0], diff)
    regular = _regular(cols.payload_type, cols.marker, in_time)
    idx = np.flatnonzero(regular)
    if len(idx) == 0:
        return 0.0, 0.0, float(running[-1])
    mean = _running_mean(running[idx], idx.astype(np.int64))
    return mean, float(np.max(running[idx])), float(running[-1])


def _deltas(cols: RtpColumns, in_time: BoolArray, prev: IntArray) -> tuple[float, float]:
    delta_ms = (cols.arrival_s - cols.arrival_s[prev]) * 1000.0
    regular = _regular(cols.payload_type, cols.marker, in_time)
    idx = np.flatnonzero(regular)
    if len(idx) == 0:
        return 0.0, 0.0
    mean = _running_mean(delta_ms[idx], idx.astype(np.int64))
    return float(np.max(delta_ms[idx])), mean


def estimate_clock_rate(cols: RtpColumns) -> int | None:
    """Guess a payload's clock rate from timestamp steps over arrival steps (no SDP in sight).

    Returns the common rate (8, 16, 32, 44.1, 48 or 90 kHz) nearest to the median ratio, or
    ``None`` when the stream is too short or too irregular to tell.
    """
    if len(cols.arrival_s) < 3:
        return None
    dt = np.diff(cols.arrival_s)
    dts = np.diff(unwrap(cols.timestamp, 32)).astype(np.float64)
    ok = (dt > 1e-4) & (dts > 0)
    if np.count_nonzero(ok) < 2:
        return None
    ratio = float(np.median(dts[ok] / dt[ok]))
    nearest = _COMMON_CLOCKS[int(np.argmin(np.abs(np.log(_COMMON_CLOCKS / ratio))))]
    if abs(np.log(nearest / ratio)) > 0.25:
        return None
    return int(nearest)


def analyse_stream(
    cols: RtpColumns,
    clock_rates: Mapping[int, int],
    event_payload_types: frozenset[int] = frozenset(),
) -> RtpStreamStats:
    """Statistics of one stream.

    ``clock_rates`` maps payload types to their clock rate in Hz (from the SDP ``rtpmap``, the
    static table, or :func:`estimate_clock_rate`); payload types without a rate, and those in
    ``event_payload_types`` (telephone-event), are left out of the jitter.
    """
    n = len(cols.arrival_s)
    ext_ts = unwrap(cols.timestamp, 32)
    in_time, prev = _previous_in_time(ext_ts)
    expected, errors, duplicates = _sequence_figures(cols.seq, ext_ts, in_time)
    max_delta, mean_delta = _deltas(cols, in_time, prev)

    pts, counts = np.unique(cols.payload_type, return_counts=True)
    audio_pts = [
        int(p)
        for p in pts
        if int(p) not in event_payload_types and clock_rates.get(int(p), 0) > 0
    ]
    rate_of = np.zeros(128, dtype=np.float64)
    for p in audio_pts:
        rate_of[p & 0x7F] = clock_rates[p]
    packet_rate = rate_of[cols.payload_type & 0x7F]
    audio_mask = packet_rate > 0
    main_pt: int | None = None
    candidates = [
        (int(c), int(p))
        for p, c in zip(pts, counts, strict=True)
        if int(p) in audio_pts and int(p) not in CN_PAYLOAD_TYPES
    ]
    if candidates:
        main_pt = max(candidates)[1]
    mean_j = max_j = last_j = 0.0
    if audio_mask.any():
        audio = cols.take(audio_mask) if not audio_mask.all() else cols
        audio_ts = ext_ts[audio_mask] if audio is not cols else ext_ts
        mean_j, max_j, last_j = _jitter(audio, audio_ts, packet_rate[audio_mask])
    return RtpStreamStats(
        packets=n,
        expected=expected,
        lost=expected - n,
        sequence_errors=errors,
        duplicates=duplicates,
        payload_types=tuple(int(p) for p in pts),
        audio_payload_type=main_pt,
        clock_rate=clock_rates.get(main_pt) if main_pt is not None else None,
        audio_packets=int(np.count_nonzero(audio_mask)),
        mean_jitter_ms=mean_j,
        max_jitter_ms=max_j,
        last_jitter_ms=last_j,
        max_delta_ms=max_delta,
        mean_delta_ms=mean_delta,
        duration_s=float(cols.arrival_s[-1] - cols.arrival_s[0]),
        wrong_timestamps=int(np.count_nonzero(~in_time)),
    )


def event_digits(
    event_id: IntArray, timestamp: IntArray
) -> str:
    """The DTMF digits carried by RFC 4733 telephone-event packets of one stream.

    One event is all packets with the same RTP timestamp (the event start); retransmitted end
    packets and the long-event updates are folded into one digit. Codes above 15 show as ``?``.
    """
    if len(event_id) == 0:
        return ""
    starts = np.ones(len(timestamp), dtype=np.bool_)
    starts[1:] = timestamp[1:] != timestamp[:-1]
    # A new event can also reuse the timestamp only if the code changes.
    starts[1:] |= event_id[1:] != event_id[:-1]
    return "".join(_DTMF[c] if 0 <= c < 16 else "?" for c in event_id[starts].tolist())
