from __future__ import annotations

import pytest

from media.pacing import FramePacer, LatestFrame


def test_pacer_deadlines_and_backlog() -> None:
    pacer = FramePacer(15, start=100.0)
    assert pacer.next_due == 100.0
    assert pacer.emit(99.9) is None
    assert pacer.emit(100.0) == 0
    assert pacer.due(100.05) == 0
    assert pacer.next_due == pytest.approx(100.0 + 1 / 15)
    assert pacer.emit(100.07) == 1
    # a caller three frames late skips to the newest due frame
    assert pacer.due(100.0 + 4.5 / 15) == 3
    assert pacer.emit(100.0 + 4.5 / 15) == 4
    assert pacer.emit(100.0 + 4.6 / 15) is None


def test_pacer_without_skipping_bursts_the_backlog() -> None:
    pacer = FramePacer(10, start=0.0)
    assert [pacer.emit(0.35, skip_backlog=False) for _ in range(5)] == [0, 1, 2, 3, None]


def drive(source_fps: float, room_fps: float, seconds: float) -> LatestFrame[int]:
    """Feed a source at source_fps and take frames at room_fps, with an explicit clock."""
    slot: LatestFrame[int] = LatestFrame()
    pacer = FramePacer(room_fps, start=0.0)
    events = [(i / source_fps, "put", i) for i in range(int(seconds * source_fps))]
    events += [(i / room_fps + 1e-6, "take", i) for i in range(int(seconds * room_fps))]
    for now, kind, i in sorted(events):
        if kind == "put":
            slot.put(i, now)
        else:
            assert pacer.emit(now) is not None
            slot.take()
    return slot


def test_faster_source_is_thinned_and_slower_source_repeated() -> None:
    fast = drive(30, 15, 2.0)
    assert fast.received == 60
    assert fast.dropped == 29  # every other frame is overwritten before it is shown
    assert fast.repeated == 0
    slow = drive(5, 15, 2.0)
    assert slow.dropped == 0
    assert slow.repeated == 20  # each of the 10 frames is shown three times


def test_bad_framerate() -> None:
    with pytest.raises(ValueError, match="framerate: expected a value in 1..240, got 0"):
        FramePacer(0, start=0.0)
