"""Registration expiry units at the boundary with Zoom's ``/sip_phones`` model.

Zoom counts ``registration_expire_time`` in **minutes**; SIP's ``Expires`` counts seconds.
Convert here, once, and nowhere else.
"""

from __future__ import annotations

import math

__all__ = [
    "MAX_EXPIRES_S",
    "MIN_EXPIRES_S",
    "expires_from_zoom_minutes",
    "zoom_minutes_from_expires",
]

MIN_EXPIRES_S = 1
MAX_EXPIRES_S = 2**32 - 1  # RFC 3261 delta-seconds


def expires_from_zoom_minutes(minutes: int | float | str) -> int:
    """SIP ``Expires`` seconds for Zoom's ``registration_expire_time`` (minutes).

    >>> expires_from_zoom_minutes(60)
    3600
    >>> expires_from_zoom_minutes("5")
    300
    """
    try:
        value = float(minutes)
    except (TypeError, ValueError):
        raise ValueError(
            f"registration_expire_time must be a number of minutes, got {minutes!r}"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"registration_expire_time must be > 0 minutes, got {minutes!r}")
    seconds = round(value * 60)
    if seconds > MAX_EXPIRES_S:
        raise ValueError(f"registration_expire_time {minutes!r} minutes is too large for SIP")
    return max(seconds, MIN_EXPIRES_S)


def zoom_minutes_from_expires(seconds: int) -> int:
    """Zoom ``registration_expire_time`` (whole minutes, rounded up, at least 1) for SIP seconds.

    >>> zoom_minutes_from_expires(3600), zoom_minutes_from_expires(90)
    (60, 2)
    """
    if seconds <= 0:
        raise ValueError(f"expires must be > 0 seconds, got {seconds}")
    return max(1, math.ceil(seconds / 60))
