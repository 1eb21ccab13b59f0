"""media.rtpstats on streams built in memory: each figure against a plain-Python RFC 3550 /
Wireshark computation written here, independently of the numpy code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.rtpstats import (
    RtpColumns,
    analyse_stream,
    analyse_streams,
    estimate_clock_rate,
    event_digits,
    unwrap,
)

CLOCKS = {0: 8000, 8: 8000, 13: 8000, 96: 16000}


def _stream(n: int, jitter_s: float = 0.0, seed: int = 1, start_seq: int = 1000,
            start_ts: int = 5000, clock: int = 8000, pt: int = 0) -> RtpColumns:
    rng = np.random.default_rng(seed)
    t = np.arange(n) * 0.020 + rng.uniform(0, jitter_s, n)
    seq = (start_seq + np.arange(n)) % 65536
    ts = (start_ts + np.arange(n) * (clock // 50)) % (1 << 32)
    return RtpColumns.from_sequences(t, seq, ts, [pt] * n)


def _reference_jitter(t: list[float], ts: list[int], clock: int) -> tuple[float, float]:
    """RFC 3550 6.4.1 in a plain loop; mean and max over packets 2..n (Wireshark's way)."""
    j, values = 0.0, []
    for i in range(1, len(t)):
        d = (t[i] - t[i - 1]) * 1000.0 - (ts[i] - ts[i - 1]) / clock * 1000.0
        j += (abs(d) - j) / 16.0
        values.append(j)
    return sum(values) / len(values), max(values)


def test_perfect_stream_has_no_loss_and_no_jitter() -> None:
    s = analyse_stream(_stream(500), CLOCKS)
    assert (s.packets, s.expected, s.lost, s.sequence_errors, s.duplicates) == (500, 500, 0, 0, 0)
    assert s.mean_jitter_ms == pytest.approx(0.0, abs=1e-9)
    assert s.max_delta_ms == pytest.approx(20.0)
    assert s.audio_payload_type == 0 and s.clock_rate == 8000


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 400), jitter=st.floats(0.0, 0.03), seed=st.integers(0, 10_000))
def test_jitter_equals_plain_rfc3550_loop(n: int, jitter: float, seed: int) -> None:
    cols = _stream(n, jitter, seed)
    s = analyse_stream(cols, CLOCKS)
    mean, peak = _reference_jitter(cols.arrival_s.tolist(), unwrap(cols.timestamp, 32).tolist(),
                                   8000)
    assert s.mean_jitter_ms == pytest.approx(mean, rel=1e-9, abs=1e-9)
    assert s.max_jitter_ms == pytest.approx(peak, rel=1e-9, abs=1e-9)


def test_lost_packets_and_sequence_errors() -> None:
    cols = _stream(100)
    keep = np.ones(100, dtype=bool)
    keep[[10, 11, 50]] = False
    s = analyse_stream(cols.take(keep), CLOCKS)
    assert (s.packets, s.expected, s.lost) == (97, 100, 3)
    assert s.sequence_errors == 2  # two gaps
    assert s.loss_fraction == pytest.approx(0.03)


def test_sequence_wrap_around_is_one_stream_without_loss() -> None:
    s = analyse_stream(_stream(300, start_seq=65400), CLOCKS)
    assert (s.expected, s.lost, s.sequence_errors) == (300, 0, 0)


def test_timestamp_wrap_around_keeps_jitter_small() -> None:
    s = analyse_stream(_stream(300, start_ts=(1 << 32) - 1600), CLOCKS)
    assert s.max_jitter_ms < 1e-6


def test_duplicates_and_late_packets() -> None:
    cols = _stream(50)
    order = list(range(50))
    order.insert(20, 20)  # a duplicate of packet 20 right after it
    order[30], order[31] = order[31], order[30]  # swap: one late packet
    s = analyse_stream(cols.take(np.array(order)), CLOCKS)
    assert s.duplicates == 1
    assert s.packets == 51 and s.lost == -1  # Wireshark's count: duplicates make it negative
    assert s.loss_fraction == 0.0
    assert s.sequence_errors >= 2


def test_telephone_events_are_left_out_of_the_jitter() -> None:
    audio = _stream(200)
    # events every 20 ms in the middle, timestamp frozen at the event start
    ev_t = audio.arrival_s[100] + 0.001 + np.arange(8) * 0.020
    cols = RtpColumns.from_sequences(
        np.concatenate([audio.arrival_s, ev_t]),
        np.concatenate([audio.seq, 3000 + np.arange(8)]),
        np.concatenate([audio.timestamp, np.full(8, audio.timestamp[100])]),
        [0] * 200 + [101] * 8,
    )
    order = np.argsort(cols.arrival_s, kind="stable")
    cols = cols.take(order)
    with_events = analyse_stream(cols, CLOCKS, frozenset({101}))
    assert with_events.max_jitter_ms < 1e-6
    assert with_events.audio_packets == 200 and with_events.packets == 208
    # treating the events as audio (8 kHz clock) shows the inflation Wireshark reports
    naive = analyse_stream(cols, {**CLOCKS, 101: 8000})
    assert naive.max_jitter_ms > 5.0


def test_marker_and_comfort_noise_packets_are_not_regular() -> None:
    base = _stream(100)
    arrival = base.arrival_s.copy()
    arrival[60:] += 0.100  # a talk spurt starting 100 ms late, marked
    arrival[40:] += 0.050  # and a late packet right after comfort noise
    pts = np.zeros(100, dtype=np.int64)
    pts[39] = 13
    marker = np.zeros(100, dtype=bool)
    marker[60] = True
    s = analyse_stream(RtpColumns(arrival, base.seq, base.timestamp, pts, marker), CLOCKS)
    assert s.audio_payload_type == 0 and set(s.payload_types) == {0, 13}
    assert s.max_delta_ms == pytest.approx(20.0)  # the two long gaps are not regular
    unmarked = analyse_stream(RtpColumns(arrival, base.seq, base.timestamp,
                                         np.zeros(100, dtype=np.int64), np.zeros(100, bool)),
                              CLOCKS)
    assert unmarked.max_delta_ms == pytest.approx(120.0)


def test_estimate_clock_rate_from_timestamps() -> None:
    assert estimate_clock_rate(_stream(50, clock=16000, pt=96)) == 16000
    assert estimate_clock_rate(_stream(50, clock=48000, pt=96)) == 48000
    assert estimate_clock_rate(_stream(2)) is None


def test_event_digits_fold_retransmitted_end_packets() -> None:
    ids = np.array([1, 1, 1, 1, 2, 2, 2, 10, 10, 11])
    ts = np.array([100, 100, 100, 100, 900, 900, 900, 1700, 1700, 2500])
    assert event_digits(ids, ts) == "12*#"
    assert event_digits(np.array([], dtype=np.int64), np.array([], dtype=np.int64)) == ""


def test_columns_must_agree_in_length() -> None:
    with pytest.raises(ValueError, match="seq has 2 rows, not 3"):
        RtpColumns.from_sequences([0.0, 0.02, 0.04], [1, 2], [0, 160, 320], [0, 0, 0])
    with pytest.raises(ValueError, match="at least one packet"):
        RtpColumns.from_sequences([], [], [], [])


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 120), min_size=1, max_size=6),
    seed=st.integers(0, 10_000),
)
def test_many_streams_at_once_equal_one_by_one(sizes: list[int], seed: int) -> None:
    """The batch keeps streams apart: no running value leaks from one stream into the next."""
    rng = np.random.default_rng(seed)
    parts = []
    for k, n in enumerate(sizes):
        cols = _stream(n, jitter_s=float(rng.uniform(0, 0.05)), seed=seed + k,
                       start_seq=int(rng.integers(0, 65536)), start_ts=int(rng.integers(0, 2**32)))
        order = np.arange(n)
        if n > 4:  # some reordering, a duplicate and a loss
            order[1], order[2] = order[2], order[1]
            order = np.delete(np.insert(order, 3, order[3]), n // 2)
        pts = np.where(rng.random(len(order)) < 0.1, 101, 0)
        marker = rng.random(len(order)) < 0.05
        c = cols.take(order)
        parts.append(RtpColumns(c.arrival_s, c.seq, c.timestamp, pts, marker))
    one_by_one = [analyse_stream(c, CLOCKS, frozenset({101})) for c in parts]
    joined = RtpColumns(*(np.concatenate([getattr(c, f) for c in parts]) for f in
                          ("arrival_s", "seq", "timestamp", "payload_type", "marker")))
    clock = np.where(joined.payload_type == 101, 0.0, 8000.0)
    lengths = np.array([len(c.arrival_s) for c in parts], dtype=np.int64)
    together = analyse_streams(joined, lengths, clock)
    for a, b in zip(one_by_one, together, strict=True):
        for field in a.__dataclass_fields__:
            va, vb = getattr(a, field), getattr(b, field)
            if isinstance(va, float):
                assert vb == pytest.approx(va, rel=1e-9, abs=1e-9), field
            else:
                assert va == vb, field
