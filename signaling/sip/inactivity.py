"""RTP inactivity: has a connected call received nothing for too long? Pure, explicit clock.

The engine samples each connected call's received-packet counter about once a second and
asks :meth:`RtpWatch.observe`; once no packet has arrived for ``timeout_s`` the far end is
taken as gone and the call is ended locally (its port goes back to the pool).
"""

from __future__ import annotations

__all__ = ["RtpWatch"]


class RtpWatch:
    """Watches one call's received RTP packet count (from when the call connected)."""

    __slots__ = ("_last_count", "_last_change", "timeout_s")

    def __init__(self, timeout_s: float, now: float) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.timeout_s = timeout_s
        self._last_count = -1
        self._last_change = now

    def observe(self, rx_packets: int, now: float) -> bool:
        """Take one sample; True when nothing arrived for ``timeout_s`` (the call is dead)."""
        if rx_packets != self._last_count:
            self._last_count = rx_packets
            if rx_packets > 0:  # the first sample (0 at connect) starts nothing new
                self._last_change = now
            return False
        return now - self._last_change >= self.timeout_s

    def silent_s(self, now: float) -> float:
        return max(0.0, now - self._last_change)
