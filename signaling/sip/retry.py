"""Backoff for re-registration (pure: randomness and time come in as arguments)."""

from __future__ import annotations

import random

from signaling.sip.config import RetryPolicy

__all__ = ["retry_delay"]


def retry_delay(policy: RetryPolicy, attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before re-registration attempt number ``attempt`` (1 = first retry).

    >>> retry_delay(RetryPolicy(initial_s=2, max_s=60, jitter=0), 4)
    16.0
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    base = min(policy.max_s, policy.initial_s * policy.factor ** min(attempt - 1, 64))
    if policy.jitter == 0:
        return float(base)
    spread = base * policy.jitter
    return max(0.0, base + (rng or random).uniform(-spread, spread))
