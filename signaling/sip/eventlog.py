"""A bounded, awaitable log of engine events (lives on the asyncio loop's thread).

Take a :meth:`EventLog.mark` before acting, then :meth:`EventLog.wait_for` the event that
answers, so an event that arrives before the wait starts is not missed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["EventLog"]

E = TypeVar("E")

# Waits wake at least this often: a Ctrl-C delivered to another thread (pjsip's, a BLAS
# worker's) only runs its Python handler once the main thread wakes up.
_TICK_S = 0.25


class EventLog(Generic[E]):
    def __init__(self, maxlen: int = 10_000) -> None:
        self._events: deque[E] = deque(maxlen=maxlen)
        self._dropped = 0  # events pushed out of the deque: absolute index of _events[0]
        self._waiters: list[asyncio.Future[None]] = []

    def append(self, event: E) -> None:
        if len(self._events) == self._events.maxlen:
            self._dropped += 1
        self._events.append(event)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def mark(self) -> int:
        """The position after the last event so far."""
        return self._dropped + len(self._events)

    def since(self, mark: int = 0) -> list[E]:
        start = max(0, mark - self._dropped)
        return list(self._events)[start:]

    async def wait_for(
        self, predicate: Callable[[E], bool], timeout: float, since: int | None = None
    ) -> E:
        """The first event at or after ``since`` (default: now) matching ``predicate``.

        Raises :class:`TimeoutError` after ``timeout`` seconds. (No ``asyncio.wait_for``
        inside: on Python 3.11 it can swallow a cancellation, e.g. the one Ctrl-C sends.)
        """
        position = self.mark() if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.since(position):
                if predicate(event):
                    return event
            position = self.mark()
            left = deadline - loop.time()
            if left <= 0:
                raise TimeoutError(f"no matching event within {timeout:g} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            wake = loop.call_later(min(left, _TICK_S), _resolve, waiter)
            try:
                await waiter
            finally:
                wake.cancel()
                if waiter in self._waiters:
                    self._waiters.remove(waiter)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
