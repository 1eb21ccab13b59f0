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

The running jitter estimate is a first-order IIR filter, evaluated blockwise with numpy
(cumulative sums, see :mod:`media._rtpsegments`) rather than a Python loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from media import _rtpsegments as seg_ops

__all__ = [
    "CN_PAYLOAD_TYPES",
    "STATIC_PAYLOAD_TYPES",
    "RtpColumns",
    "RtpStreamStats",
    "analyse_stream",
    "analyse_streams",
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
    rate_of = np.zeros(128, dtype=np.float64)
    for pt, rate in clock_rates.items():
        if 0 <= pt < 128 and pt not in event_payload_types:
            rate_of[pt] = rate
    clock = rate_of[cols.payload_type & 0x7F]
    return analyse_streams(cols, np.array([len(cols.arrival_s)], dtype=np.int64), clock)[0]


def analyse_streams(
    cols: RtpColumns, lengths: IntArray, clock_hz: FloatArray
) -> list[RtpStreamStats]:
    """Statistics of many streams at once: ``cols`` holds them one after the other (each in
    arrival order, ``lengths[k]`` rows for stream ``k``); ``clock_hz`` is each packet's clock
    rate, 0 for packets left out of the jitter (telephone events, unknown payload types)."""
    if len(lengths) == 0:
        return []
    if np.any(lengths <= 0) or int(np.sum(lengths)) != len(cols.arrival_s):
        raise ValueError("stream lengths must be positive and add up to the rows of cols")
    if len(clock_hz) != len(cols.arrival_s):
        raise ValueError(f"clock_hz has {len(clock_hz)} rows, not {len(cols.arrival_s)}")
    segs = seg_ops.Segments.from_lengths(lengths.astype(np.int64))
    ext_ts = seg_ops.unwrap(cols.timestamp, 32, segs)
    in_time, prev = seg_ops.in_time_and_reference(ext_ts, segs)
    expected, errors, duplicates = seg_ops.sequence_figures(cols.seq, in_time, segs)
    delta_ms = (cols.arrival_s - cols.arrival_s[prev]) * 1000.0
    regular = seg_ops.regular_rows(cols.payload_type, cols.marker, in_time, segs)
    max_delta = segs.maximum(delta_ms, regular)
    mean_delta = seg_ops.running_means(delta_ms, regular, segs)

    audio = clock_hz > 0
    audio_rows = np.flatnonzero(audio)
    mean_j = max_j = last_j = np.zeros(segs.count)
    audio_count = np.bincount(segs.seg[audio_rows], minlength=segs.count)
    if len(audio_rows):
        present = audio_count > 0
        sub = seg_ops.Segments.from_lengths(audio_count[present])
        m, p, last = seg_ops.jitter(
            cols.arrival_s[audio_rows], ext_ts[audio_rows], clock_hz[audio_rows],
            cols.payload_type[audio_rows], cols.marker[audio_rows], sub,
        )
        mean_j, max_j, last_j = (np.zeros(segs.count) for _ in range(3))
        mean_j[present], max_j[present], last_j[present] = m, p, last

    # payload types per stream, and the main audio one (most packets, comfort noise aside)
    combo, counts = np.unique(segs.seg * 128 + (cols.payload_type & 0x7F), return_counts=True)
    audio_keys, audio_first = np.unique(
        segs.seg[audio_rows] * 128 + (cols.payload_type[audio_rows] & 0x7F), return_index=True
    )
    rate_of = dict(zip(audio_keys.tolist(), clock_hz[audio_rows[audio_first]].tolist(),
                       strict=True))
    pts: list[list[int]] = [[] for _ in range(segs.count)]
    best: list[tuple[int, int]] = [(0, -1)] * segs.count
    for key, count in zip(combo.tolist(), counts.tolist(), strict=True):
        k, pt = divmod(key, 128)
        pts[k].append(pt)
        if key in rate_of and pt not in CN_PAYLOAD_TYPES and count > best[k][0]:
            best[k] = (count, pt)
    wrong = segs.total(~in_time)
    # every figure as a Python list at once: a numpy scalar per figure and stream costs more
    # than the statistics themselves on thousands of short streams
    firsts = segs.starts.tolist()
    lasts = (segs.ends - 1).tolist()
    arrival = cols.arrival_s
    durations = (arrival[segs.ends - 1] - arrival[segs.starts]).tolist()
    out = []
    for k, (first, last_row, exp, err, dup, n_audio, mj, pj, lj, md, mnd, dur, bad) in enumerate(
        zip(firsts, lasts, expected.tolist(), errors.tolist(), duplicates.tolist(),
            audio_count.tolist(), mean_j.tolist(), max_j.tolist(), last_j.tolist(),
            max_delta.tolist(), mean_delta.tolist(), durations, wrong.tolist(), strict=True)
    ):
        main = best[k][1] if best[k][1] >= 0 else None
        clock = int(rate_of[k * 128 + main]) if main is not None else None
        out.append(
            RtpStreamStats(
                packets=last_row - first + 1,
                expected=int(exp),
                lost=int(exp) - (last_row - first + 1),
                sequence_errors=int(err),
                duplicates=int(dup),
                payload_types=tuple(pts[k]),
                audio_payload_type=main,
                clock_rate=clock,
                audio_packets=int(n_audio),
                mean_jitter_ms=float(mj),
                max_jitter_ms=float(pj),
                last_jitter_ms=float(lj),
                max_delta_ms=float(md),
                mean_delta_ms=float(mnd),
                duration_s=float(dur),
                wrong_timestamps=int(bad),
            )
        )
    return out


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
