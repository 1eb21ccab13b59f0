"""RFC 4028 session timers, sans I/O: the negotiated interval, who refreshes, and when the
session is refreshed or dead. Explicit clock (``now``), no headers parsed here.

The engine's SIP stack (pjsip's own timer module, configured from :class:`SessionTimerPolicy`)
puts ``Session-Expires``/``Min-SE`` on the wire and sends the refreshes; the call machine
(:mod:`signaling.sip.callmachine`) feeds :class:`SessionTimer` what the wire tap saw, so it
knows the session's state independently of the stack and ends a call whose session expired.

Rules followed (RFC 4028):
- the 2xx to an INVITE or UPDATE carries the interval that holds (section 7.2/9); without
  ``Session-Expires`` there the session timer is off (the peer does not support it);
- ``refresher=uac``/``uas`` names the side by its role in *that* transaction (section 7.1);
- the refresher refreshes at half the interval (section 10);
- the other side ends the session (BYE) when no refresh arrived by the interval minus the
  lesser of 32 s and a third of it (section 10);
- a 422 answer carries ``Min-SE``; the request is retried with ``Session-Expires`` at least
  that (section 6), and a 422 to a refresh does not end the dialog.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from signaling.sip.errors import SipConfigError

__all__ = [
    "ABSOLUTE_MIN_SE_S",
    "SessionTimer",
    "SessionTimerPolicy",
    "TimerUse",
    "bye_lead_s",
]

ABSOLUTE_MIN_SE_S = 90
"""RFC 4028 section 4: Min-SE may not be below 90 s."""


class TimerUse(StrEnum):
    """``OFF``: never offer timers; ``OPTIONAL``: offer them, use them where the peer does
    (the others run without); ``REQUIRED``: refuse peers without them;
    ``ALWAYS``: use them even when the peer does not (this side refreshes)."""

    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"
    ALWAYS = "always"


@dataclass(frozen=True)
class SessionTimerPolicy:
    """What this side offers: ``expires_s`` in ``Session-Expires`` and ``min_se_s`` in
    ``Min-SE`` (RFC 4028 recommends 1800 and 90)."""

    use: TimerUse = TimerUse.OPTIONAL
    expires_s: int = 1800
    min_se_s: int = ABSOLUTE_MIN_SE_S

    def __post_init__(self) -> None:
        if self.min_se_s < ABSOLUTE_MIN_SE_S:
            raise SipConfigError(
                f"session timer: min_se_s must be >= {ABSOLUTE_MIN_SE_S} s (RFC 4028)"
            )
        if self.expires_s < self.min_se_s:
            raise SipConfigError("session timer: expires_s must be >= min_se_s")

    @property
    def enabled(self) -> bool:
        return self.use is not TimerUse.OFF


def bye_lead_s(interval_s: float) -> float:
    """How long before the session expires the side that does not refresh sends BYE."""
    return min(32.0, interval_s / 3)


class SessionTimer:
    """One dialog's session timer as seen on the wire."""

    __slots__ = (
        "interval_s",
        "last_refresh",
        "min_se_s",
        "offer_s",
        "policy",
        "refresh_pending_since",
        "we_refresh",
    )

    def __init__(self, policy: SessionTimerPolicy) -> None:
        self.policy = policy
        self.offer_s = policy.expires_s
        """What this side asks for in its next request (raised by a 422)."""
        self.min_se_s = policy.min_se_s
        self.interval_s: float | None = None
        """The negotiated interval; ``None`` while the session timer is not running."""
        self.we_refresh = False
        self.last_refresh: float | None = None
        self.refresh_pending_since: float | None = None
        """When a refresh request went out (or came in) that no 2xx has answered yet."""

    @property
    def active(self) -> bool:
        return self.interval_s is not None

    def answered(
        self,
        session_expires: int | None,
        refresher: str | None,
        we_are_uac: bool,
        now: float,
    ) -> None:
        """A 2xx to an INVITE or UPDATE of the dialog (sent or received): it sets (or ends)
        the session timer. ``we_are_uac``: this side sent the request it answers."""
        self.refresh_pending_since = None
        if session_expires is not None and session_expires < self.min_se_s:
            # below what this side accepts: pjsip 2.15 runs no timer then (measured: no
            # refresh, no BYE), so neither does the machine
            session_expires = None
        if session_expires is None or session_expires <= 0:
            if self.policy.use is TimerUse.ALWAYS:  # RFC 4028 7.2: the UAC refreshes alone
                self._start(self.offer_s, we_are_uac, now)
            else:
                self.interval_s = None
            return
        role = refresher.lower() if refresher else ("uac" if we_are_uac else "uas")
        self._start(session_expires, (role == "uac") == we_are_uac, now)

    def _start(self, interval_s: float, we_refresh: bool, now: float) -> None:
        self.interval_s = float(interval_s)
        self.we_refresh = we_refresh
        self.last_refresh = now

    def refresh_started(self, now: float) -> None:
        """A re-INVITE or UPDATE of the dialog went out or came in."""
        if self.refresh_pending_since is None:
            self.refresh_pending_since = now

    def too_small(self, min_se: int | None) -> int:
        """A 422 with ``Min-SE``: the ``Session-Expires`` for the retry (never below what
        this side would accept, never below the peer's minimum)."""
        self.refresh_pending_since = None
        floor = max(self.min_se_s, min_se or 0)
        self.min_se_s = floor
        self.offer_s = max(self.offer_s, floor)
        return self.offer_s

    def refresh_due(self) -> float | None:
        """When this side should refresh (half the interval), or ``None``."""
        if self.interval_s is None or self.last_refresh is None or not self.we_refresh:
            return None
        return self.last_refresh + self.interval_s / 2

    def expires_at(self) -> float | None:
        """When the session expires without a refresh."""
        if self.interval_s is None or self.last_refresh is None:
            return None
        return self.last_refresh + self.interval_s

    def bye_due(self) -> float | None:
        """When the session is given up: for the side that waits for refreshes, the interval
        minus :func:`bye_lead_s`; for the refresher (whose refresh went unanswered), expiry."""
        expires = self.expires_at()
        if expires is None or self.interval_s is None:
            return None
        return expires if self.we_refresh else expires - bye_lead_s(self.interval_s)

    def expired(self, now: float) -> bool:
        due = self.bye_due()
        return due is not None and now >= due
