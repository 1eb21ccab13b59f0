"""Health of the parts the gateway depends on (the API, the store): ``ok`` or ``degraded`` since
when and why. A state change is logged once (not on every failed attempt), counted in the
metrics, and shown by ``/readyz``.

The state is plain data with an explicit clock (seconds since the epoch) so that the loops that
use it stay easy to test.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Backoff", "Health"]

log = logging.getLogger(__name__)


@dataclass
class Health:
    """One dependency's state. ``fail(reason)`` / ``ok()`` record each attempt; ``since`` is
    when the current state began (``None`` while it has never failed)."""

    name: str
    clock: Callable[[], float] = time.time
    degraded: bool = False
    since: float | None = None
    reason: str = ""
    failures: int = 0
    """Failed attempts in a row."""

    def fail(self, reason: str) -> bool:
        """Record a failed attempt; ``True`` when this one changed the state (then logged).
        A new reason while degraded is kept (``/readyz`` shows it) but not logged again."""
        self.failures += 1
        self.reason = reason
        if self.degraded:
            return False
        self.degraded, self.since = True, self.clock()
        log.warning("%s degraded: %s", self.name, reason)
        return True

    def ok(self) -> bool:
        """Record a successful attempt; ``True`` when it ended a degraded state (then logged)."""
        self.failures = 0
        if not self.degraded:
            return False
        lasted = self.clock() - (self.since or self.clock())
        log.warning("%s recovered after %.1f s (was: %s)", self.name, lasted, self.reason)
        self.degraded, self.since, self.reason = False, self.clock(), ""
        return True

    def as_dict(self) -> dict[str, object]:
        return {"degraded": self.degraded, "since": self.since, "reason": self.reason or None}


@dataclass
class Backoff:
    """Exponential back-off of a retry loop: ``base`` seconds after the first failure, doubling
    up to ``cap``; ``base`` again after a success."""

    base: float
    cap: float
    current: float = 0.0

    def failed(self) -> float:
        """The wait after one more failure."""
        self.current = self.base if self.current <= 0 else min(self.cap, self.current * 2)
        return self.current

    def succeeded(self) -> None:
        self.current = 0.0
