"""Active-speaker detection: smoothed energy with hysteresis, driven by an explicit clock.

Feed one level per participant (dBFS, e.g. :func:`media.mixer.levels_dbfs`) each tick with the
tick's time. A participant becomes the speaker when their smoothed level is above
``threshold_dbfs`` and louder than the current speaker by ``margin_db`` for ``hold_s`` without
interruption; the speaker then stays the speaker through silence (the picture keeps showing the
last person who spoke) until someone else qualifies the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from media._checks import check_range

__all__ = ["ActiveSpeakerDetector"]

SILENCE_DBFS = -120.0


class ActiveSpeakerDetector:
    """Pick the active speaker from per-participant levels."""

    def __init__(
        self,
        *,
        threshold_dbfs: float = -45.0,
        margin_db: float = 6.0,
        hold_s: float = 0.4,
        smoothing_s: float = 0.15,
    ) -> None:
        self.threshold_dbfs = check_range("threshold_dbfs", threshold_dbfs, -120.0, 0.0)
        self.margin_db = check_range("margin_db", margin_db, 0.0, 60.0)
        self.hold_s = check_range("hold_s", hold_s, 0.0, 60.0)
        self.smoothing_s = check_range("smoothing_s", smoothing_s, 0.0, 60.0)
        self.speaker: int | None = None
        self._smoothed: npt.NDArray[np.float64] = np.empty(0)
        self._last: float | None = None
        self._candidate: int | None = None
        self._candidate_since = 0.0

    @property
    def smoothed_dbfs(self) -> npt.NDArray[np.float64]:
        return self._smoothed.copy()

    def update(self, levels: Sequence[float] | npt.NDArray[np.floating], now: float) -> int | None:
        """Take this tick's levels (dBFS, one per participant) at ``now``; return the speaker."""
        current = np.asarray(levels, dtype=np.float64)
        if current.ndim != 1:
            raise ValueError(
                f"levels: expected a 1-D sequence of dBFS values, got shape {current.shape}"
            )
        current = np.maximum(
            np.nan_to_num(current, nan=SILENCE_DBFS, neginf=SILENCE_DBFS), SILENCE_DBFS
        )
        if self._last is not None and now < self._last:
            raise ValueError(f"now: expected a time >= {self._last}, got {now}")
        if current.shape != self._smoothed.shape:  # someone joined or left: restart smoothing
            self._smoothed = current.copy()
            if self.speaker is not None and self.speaker >= current.size:
                self.speaker = None
            self._candidate = None
        else:
            dt = 0.0 if self._last is None else now - self._last
            alpha = 1.0 if self.smoothing_s == 0 else 1 - math.exp(-dt / self.smoothing_s)
            self._smoothed += alpha * (current - self._smoothed)
        self._last = now
        if current.size == 0:
            self.speaker = None
            return None
        loudest = int(np.argmax(self._smoothed))
        level = self._smoothed[loudest]
        floor = self.threshold_dbfs
        if self.speaker is not None and loudest != self.speaker:
            floor = max(floor, self._smoothed[self.speaker] + self.margin_db)
        if loudest == self.speaker or level < floor:
            self._candidate = None
            return self.speaker
        if self._candidate != loudest:
            self._candidate, self._candidate_since = loudest, now
        if now - self._candidate_since >= self.hold_s:
            self.speaker, self._candidate = loudest, None
        return self.speaker
