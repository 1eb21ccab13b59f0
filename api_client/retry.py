"""Retry policy: pure decisions, no sleeping and no clock of its own.

- 429 (per-second limit): the request was refused before any work was done, so it is retried for
  every method, after ``Retry-After`` (delta-seconds or an HTTP date; Zoom clients have seen both)
  or, without one, after the exponential backoff.
- 429 (daily limit, told by Zoom's message, ``X-RateLimit-Type`` or a ``Retry-After`` further away
  than ``max_retry_after``): never retried; :class:`~api_client.errors.DailyRateLimitError` is
  raised at once with ``reset_at``.
- 5xx, 408 and connection errors: retried with exponential backoff and jitter, for idempotent
  methods only (GET, HEAD, OPTIONS, PUT, DELETE); a POST or PATCH may have been applied.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = [
    "DEFAULT_INITIAL_DELAY",
    "DEFAULT_MAX_DELAY",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_AFTER",
    "IDEMPOTENT_METHODS",
    "RetryPolicy",
    "is_daily_limit",
    "parse_retry_after",
]

DEFAULT_MAX_RETRIES = 3
DEFAULT_INITIAL_DELAY = 0.5
DEFAULT_MAX_DELAY = 8.0
DEFAULT_MAX_RETRY_AFTER = 60.0
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_RETRYABLE_STATUS = frozenset({408, 500, 502, 503, 504})


def parse_retry_after(value: str | None, now: datetime) -> tuple[float, datetime] | None:
    """``Retry-After`` as (seconds from ``now``, absolute time), or ``None`` when absent/unreadable.

    Accepts delta-seconds (``"2"``, ``"1.5"``), an HTTP date (``"Wed, 21 Oct 2026 07:28:00 GMT"``)
    and ISO 8601 (``"2026-10-21T07:28:00Z"``). A date in the past gives 0 seconds.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds < 0:  # NaN or negative
            return None
        return seconds, now + timedelta(seconds=seconds)
    when: datetime | None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds()), when


def is_daily_limit(message: str | None, rate_limit_type: str | None) -> bool:
    """Zoom's daily 429 says "daily" in its message; some say so in ``X-RateLimit-Type``."""
    text = f"{message or ''} {rate_limit_type or ''}".lower()
    return "daily" in text or "per-day" in text or "per day" in text


@dataclass(frozen=True)
class RetryPolicy:
    """How many times and how long to wait. ``rng`` gives the jitter (seeded in tests)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = DEFAULT_INITIAL_DELAY
    max_delay: float = DEFAULT_MAX_DELAY
    max_retry_after: float = DEFAULT_MAX_RETRY_AFTER
    jitter: float = 0.25
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): 0.5, 1, 2, 4 … capped, ±jitter."""
        base = min(self.max_delay, self.initial_delay * (2 ** (attempt - 1)))
        spread = base * self.jitter
        jittered: float = base + self.rng.uniform(-spread, spread)
        return max(0.0, jittered)

    def retry_status(
        self, method: str, status_code: int, attempt: int, retry_after: float | None = None
    ) -> float | None:
        """Delay before retrying a 408/5xx answer, or ``None`` to give up. A ``Retry-After``
        (503 often has one) lengthens the backoff, up to ``max_retry_after``."""
        if attempt > self.max_retries or method.upper() not in IDEMPOTENT_METHODS:
            return None
        if status_code not in _RETRYABLE_STATUS:
            return None
        delay = self.backoff(attempt)
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return None
            delay = max(delay, retry_after)
        return delay

    def retry_connection(self, method: str, attempt: int) -> float | None:
        """Delay before retrying after a connection error or timeout, or ``None`` to give up."""
        if attempt > self.max_retries or method.upper() not in IDEMPOTENT_METHODS:
            return None
        return self.backoff(attempt)

    def retry_rate_limited(self, retry_after: float | None, attempt: int) -> float | None:
        """Delay before retrying a per-second 429, or ``None`` to raise it."""
        if attempt > self.max_retries:
            return None
        if retry_after is None:
            return self.backoff(attempt)
        if retry_after > self.max_retry_after:
            return None
        return retry_after
