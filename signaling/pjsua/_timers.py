"""A timer heap run by the engine thread between ``libHandleEvents`` polls.

A cancelled timer lets go of its callback at once (a callback closes over a call's record and
its pjsua2 objects), and the heap drops cancelled entries whenever they are the larger part of
it: without that, every call's set-up and BYE timeouts, cancelled when the call went well,
pinned the call's record until their due time (a minute and more), so memory grew with the
call rate (bench/soak_calls.py).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import traceback
from collections.abc import Callable

__all__ = ["Timer", "TimerHeap"]

logger = logging.getLogger("signaling.pjsua")

_COMPACT_AT = 64
"""Cancelled entries tolerated before the heap is rebuilt without them (if they are most)."""


def _nothing() -> None:
    return None


class Timer:
    __slots__ = ("_heap", "callback", "cancelled", "due")

    def __init__(self, due: float, callback: Callable[[], None],
                 heap: TimerHeap | None = None) -> None:
        self.due = due
        self.callback = callback
        self.cancelled = False
        self._heap = heap

    def cancel(self) -> None:
        if self.cancelled:
            return
        self.cancelled = True
        self.callback = _nothing
        heap, self._heap = self._heap, None
        if heap is not None:
            heap.cancelled_one()


class TimerHeap:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._cancelled = 0

    def __len__(self) -> int:
        """Entries held, cancelled ones not yet dropped included."""
        return len(self._heap)

    def at(self, due: float, callback: Callable[[], None]) -> Timer:
        timer = Timer(due, callback, self)
        heapq.heappush(self._heap, (due, next(self._seq), timer))
        return timer

    def rearm(
        self, timer: Timer | None, due: float | None, callback: Callable[[], None]
    ) -> Timer | None:
        """The timer for a state machine's next ``due``: ``timer`` itself when it is due
        then already, else ``timer`` cancelled and a new one (none for no ``due``)."""
        if timer is not None and not timer.cancelled and timer.due == due:
            return timer
        if timer is not None:
            timer.cancel()
        return None if due is None else self.at(due, callback)

    def cancelled_one(self) -> None:
        self._cancelled += 1
        if self._cancelled > _COMPACT_AT and 2 * self._cancelled > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry[2].cancelled]
            heapq.heapify(self._heap)
            self._cancelled = 0

    def _pop(self) -> Timer:
        timer = heapq.heappop(self._heap)[2]
        if timer.cancelled:
            self._cancelled = max(0, self._cancelled - 1)
        else:
            timer._heap = None  # run or not, it is out of the heap: a late cancel counts nothing
        return timer

    def run_due(self, now: float) -> None:
        while self._heap and self._heap[0][0] <= now:
            timer = self._pop()
            if timer.cancelled:
                continue
            try:
                timer.callback()
            except Exception:  # as text: a kept traceback would pin pjsua2 objects
                logger.error("engine timer failed:\n%s", traceback.format_exc())

    def next_due(self) -> float | None:
        while self._heap and self._heap[0][2].cancelled:
            self._pop()
        return self._heap[0][0] if self._heap else None

    def clear(self) -> None:
        for _, _, timer in self._heap:
            timer._heap = None
        self._heap.clear()
        self._cancelled = 0
