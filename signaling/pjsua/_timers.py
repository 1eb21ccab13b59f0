"""A timer heap run by the engine thread between ``libHandleEvents`` polls."""

from __future__ import annotations

import heapq
import itertools
import logging
import traceback
from collections.abc import Callable

__all__ = ["Timer", "TimerHeap"]

logger = logging.getLogger("signaling.pjsua")


class Timer:
    __slots__ = ("callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None]) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class TimerHeap:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def at(self, due: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(due, callback)
        heapq.heappush(self._heap, (due, next(self._seq), timer))
        return timer

    def run_due(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            _, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except Exception:  # as text: a kept traceback would pin pjsua2 objects
                logger.error("engine timer failed:\n%s", traceback.format_exc())

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        self._heap.clear()
