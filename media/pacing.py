"""Framerate pacing by an explicit clock: output at the room rate from sources at any rate.

Sources write their newest frame into a :class:`LatestFrame` slot whenever they have one; the
:class:`FramePacer` says when an output frame is due. A source faster than the room rate is
thinned (frames overwritten before they are used are *dropped*), a slower one is *repeated*.
Nothing here reads a clock: every call takes ``now`` (seconds, any monotonic origin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

from media._checks import check_range

__all__ = ["FramePacer", "LatestFrame"]

T = TypeVar("T")


class FramePacer:
    """Output frame deadlines at ``framerate`` frames per second from ``start``."""

    def __init__(self, framerate: float, start: float) -> None:
        self.framerate = check_range("framerate", framerate, 1, 240)
        self.start = float(start)
        self.emitted = 0

    @property
    def next_due(self) -> float:
        """When the next output frame is due."""
        return self.start + self.emitted / float(self.framerate)

    def due(self, now: float) -> int:
        """How many output frames are due at ``now`` and not yet emitted (0, 1 or a backlog)."""
        if now < self.next_due:
            return 0
        return int(math.floor((now - self.start) * self.framerate + 1e-9)) + 1 - self.emitted

    def emit(self, now: float, *, skip_backlog: bool = True) -> int | None:
        """Take the output frame due at ``now``: its index (the pts in frame units) or ``None``.

        With ``skip_backlog`` a late caller jumps to the newest due frame instead of bursting.
        """
        pending = self.due(now)
        if pending <= 0:
            return None
        if skip_backlog:
            self.emitted += pending - 1
        index = self.emitted
        self.emitted += 1
        return index


@dataclass
class LatestFrame(Generic[T]):
    """The newest frame of one source, with drop and repeat counters."""

    frame: T | None = None
    updated_at: float | None = None
    fresh: bool = False
    dropped: int = 0
    repeated: int = 0
    received: int = 0

    def put(self, frame: T, now: float) -> None:
        if self.fresh:
            self.dropped += 1  # the previous frame was never shown
        self.frame, self.updated_at, self.fresh = frame, now, True
        self.received += 1

    def take(self) -> T | None:
        """The frame to show now (``None`` before the first one); counts repeats."""
        if self.frame is not None and not self.fresh:
            self.repeated += 1
        self.fresh = False
        return self.frame
