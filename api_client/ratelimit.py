"""Client-side rate limiter: one token bucket per Zoom rate-limit label.

Zoom counts requests per account and per label (Light, Medium, Heavy, Resource-intensive). The
limiter keeps each label under its per-second cap so that a busy process sees no 429 of its own
making. :meth:`RateLimiter.reserve` is pure bookkeeping on an explicit ``now``; the clients sleep
the delay it returns.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["RateLabel", "RateLimiter", "ZOOM_PLAN_RATES", "shared_limiter"]


class RateLabel(StrEnum):
    """Zoom's rate-limit labels (each operation's documentation names one)."""

    LIGHT = "light"
    MEDIUM = "medium"
    HEAVY = "heavy"
    RESOURCE_INTENSIVE = "resource_intensive"
    #: Zoom Phone APIs have their own, lower caps (Zoom's rate-limits page), counted apart.
    PHONE_LIGHT = "phone_light"
    PHONE_MEDIUM = "phone_medium"
    PHONE_HEAVY = "phone_heavy"
    PHONE_RESOURCE_INTENSIVE = "phone_resource_intensive"

    @property
    def category(self) -> str:
        """Zoom's name (``X-RateLimit-Category``): ``Light``, ``Resource-intensive``."""
        return self.value.removeprefix("phone_").replace("_", "-").capitalize()


#: Zoom Phone caps per second (Pro, Business+); Zoom lists none for Free (Pro's are used).
_PHONE_PRO = {
    RateLabel.PHONE_LIGHT: 20.0,
    RateLabel.PHONE_MEDIUM: 10.0,
    RateLabel.PHONE_HEAVY: 5.0,
    RateLabel.PHONE_RESOURCE_INTENSIVE: 5 / 60,
}
_PHONE_BUSINESS = {
    RateLabel.PHONE_LIGHT: 40.0,
    RateLabel.PHONE_MEDIUM: 20.0,
    RateLabel.PHONE_HEAVY: 10.0,
    RateLabel.PHONE_RESOURCE_INTENSIVE: 10 / 60,
}


#: Requests per second per label and plan (Zoom rate-limits page; Resource-intensive is per minute).
ZOOM_PLAN_RATES: dict[str, dict[RateLabel, float]] = {
    "free": {
        RateLabel.LIGHT: 4,
        RateLabel.MEDIUM: 2,
        RateLabel.HEAVY: 1,
        RateLabel.RESOURCE_INTENSIVE: 10 / 60,
        **_PHONE_PRO,
    },
    "pro": {
        RateLabel.LIGHT: 30,
        RateLabel.MEDIUM: 20,
        RateLabel.HEAVY: 10,
        RateLabel.RESOURCE_INTENSIVE: 10 / 60,
        **_PHONE_PRO,
    },
    "business": {
        RateLabel.LIGHT: 80,
        RateLabel.MEDIUM: 60,
        RateLabel.HEAVY: 40,
        RateLabel.RESOURCE_INTENSIVE: 20 / 60,
        **_PHONE_BUSINESS,
    },
}


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    stamp: float | None = None


class RateLimiter:
    """Token buckets keyed by label. ``rates`` maps label to requests per second; a label that is
    not listed is not limited. ``burst`` is the bucket size in seconds of traffic (default 1 s).

    Thread-safe; the async client calls it from one event loop, the sync one from any thread.
    """

    def __init__(self, rates: dict[RateLabel, float], *, burst: float = 1.0) -> None:
        for label, rate in rates.items():
            if rate <= 0:
                raise ValueError(f"rate for {label} must be > 0 (got {rate})")
        self._buckets = {
            label: _Bucket(
                rate=rate, capacity=max(1.0, rate * burst), tokens=max(1.0, rate * burst)
            )
            for label, rate in rates.items()
        }
        self._lock = threading.Lock()

    @classmethod
    def for_plan(cls, plan: str) -> RateLimiter:
        """The caps of a Zoom plan: ``free``, ``pro`` or ``business``."""
        try:
            return cls(ZOOM_PLAN_RATES[plan])
        except KeyError:
            raise ValueError(
                f"unknown plan {plan!r}; expected one of {sorted(ZOOM_PLAN_RATES)}"
            ) from None

    def reserve(self, label: RateLabel | None, now: float) -> float:
        """Take one slot of ``label`` at monotonic time ``now``; return how long to wait first."""
        if label is None:
            return 0.0
        with self._lock:
            bucket = self._buckets.get(label)
            if bucket is None:
                return 0.0
            if bucket.stamp is not None and now > bucket.stamp:
                bucket.tokens = min(
                    bucket.capacity, bucket.tokens + (now - bucket.stamp) * bucket.rate
                )
            if bucket.stamp is None or now > bucket.stamp:
                bucket.stamp = now
            bucket.tokens -= 1.0
            if bucket.tokens >= 0:
                return 0.0
            return -bucket.tokens / bucket.rate


_SHARED: dict[tuple[str, str], RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(account: str, plan: str = "pro") -> RateLimiter:
    """One limiter per account and plan in this process: Zoom counts requests per account, so
    every client of the account must draw from the same buckets."""
    with _SHARED_LOCK:
        limiter = _SHARED.get((account, plan))
        if limiter is None:
            limiter = _SHARED[(account, plan)] = RateLimiter.for_plan(plan)
        return limiter
