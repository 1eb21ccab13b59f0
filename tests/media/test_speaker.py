from __future__ import annotations

import pytest

from media.speaker import ActiveSpeakerDetector


def run(
    det: ActiveSpeakerDetector, levels: list[float], start: float, seconds: float
) -> list[int | None]:
    out = []
    steps = int(round(seconds / 0.02))
    for i in range(steps):
        out.append(det.update(levels, start + i * 0.02))
    return out


def test_switching_needs_margin_and_hold() -> None:
    det = ActiveSpeakerDetector(threshold_dbfs=-45, margin_db=6, hold_s=0.4, smoothing_s=0.0)
    trace = run(det, [-20, -60, -60], 0.0, 0.5)
    assert trace[0] is None and trace[19] is None  # held 0.38 s
    assert trace[20] == 0 and trace[-1] == 0  # after 0.4 s
    # someone 3 dB louder does not take over (margin 6 dB)
    assert set(run(det, [-20, -17, -60], 0.5, 1.0)) == {0}
    # 10 dB louder for 0.2 s (a cough) does not either
    assert set(run(det, [-20, -10, -60], 1.5, 0.2)) == {0}
    # 10 dB louder for longer than the hold time does
    trace = run(det, [-20, -10, -60], 1.7, 0.6)
    assert trace[0] == 0 and trace[-1] == 1


def test_speaker_stays_through_silence_and_quiet_people_never_qualify() -> None:
    det = ActiveSpeakerDetector(hold_s=0.1, smoothing_s=0.0)
    run(det, [-60, -25], 0.0, 0.2)
    assert det.speaker == 1
    assert set(run(det, [-90, -90], 0.2, 1.0)) == {1}
    fresh = ActiveSpeakerDetector(hold_s=0.0, smoothing_s=0.0)
    assert set(run(fresh, [-50, -55], 0.0, 1.0)) == {None}


def test_smoothing_delays_a_switch() -> None:
    det = ActiveSpeakerDetector(hold_s=0.0, smoothing_s=0.5, margin_db=6)
    run(det, [-20, -80], 0.0, 2.0)
    trace = run(det, [-80, -20], 2.0, 1.0)
    first = trace.index(1)
    assert 5 < first < 50  # the smoothed levels cross after a few hundred ms


def test_participants_leaving() -> None:
    det = ActiveSpeakerDetector(hold_s=0.0, smoothing_s=0.0)
    run(det, [-60, -60, -20], 0.0, 0.1)
    assert det.speaker == 2
    assert det.update([-60, -60], 0.2) is None


def test_bad_input() -> None:
    det = ActiveSpeakerDetector()
    det.update([-20.0], 1.0)
    with pytest.raises(ValueError, match="now: expected a time >= 1.0, got 0.5"):
        det.update([-20.0], 0.5)
    with pytest.raises(
        ValueError, match=r"levels: expected a 1-D sequence of dBFS values, got shape \(1, 1\)"
    ):
        det.update([[-20.0]], 2.0)
    with pytest.raises(ValueError, match="margin_db: expected a value in 0.0..60.0, got -1"):
        ActiveSpeakerDetector(margin_db=-1)
