"""DTMF to send after answer: plain digits or the IVR steps of :mod:`signaling.dialstring.ivr`.

Pure: a plan is offsets (seconds after answer); the engine schedules and sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signaling.dialstring.ivr import IvrStep
from signaling.sip.errors import SipConfigError

__all__ = [
    "DIGIT_DURATION_MS",
    "DTMF_DIGITS",
    "DtmfSend",
    "check_digits",
    "dtmf_plan",
    "hold_s",
    "plan_done_s",
]

DTMF_DIGITS = frozenset("0123456789*#ABCD")

#: Tone length of one RFC 4733 digit as the engine sends it.
DIGIT_DURATION_MS = 160
#: Line time of one RFC 4733 digit: the tone, then the end event sent three times one packet
#: time (20 ms) apart, rounded up with room for a late timer on a busy machine.
_DIGIT_SLOT_S = (DIGIT_DURATION_MS + 3 * 20 + 40) / 1000
#: After the last digit, time for it to reach the far end before the BYE.
SETTLE_S = 0.3


def check_digits(digits: str) -> str:
    """``digits`` upper-cased, or :class:`SipConfigError` naming the first bad character."""
    value = digits.strip()
    for ch in value:
        if ch.upper() not in DTMF_DIGITS:
            raise SipConfigError(f"DTMF: {ch!r} is not a DTMF digit (0-9, *, #, A-D)")
    if not value:
        raise SipConfigError("DTMF: no digits")
    return value.upper()


@dataclass(frozen=True, slots=True)
class DtmfSend:
    """Send ``digits`` at ``at_s`` seconds after answer; ``secret`` keeps them out of logs."""

    at_s: float
    digits: str
    secret: bool = False

    def __repr__(self) -> str:
        shown = "***" if self.secret else self.digits
        return f"DtmfSend(at_s={self.at_s}, digits={shown!r})"


def dtmf_plan(
    digits: str | None = None,
    ivr: Sequence[IvrStep] = (),
    delay_s: float = 1.0,
) -> tuple[DtmfSend, ...]:
    """Explicit ``digits`` at ``delay_s``, then the IVR steps at their own offsets."""
    plan: list[DtmfSend] = []
    if digits:
        plan.append(DtmfSend(delay_s, check_digits(digits)))
    for step in ivr:
        plan.append(DtmfSend(step.at_s, check_digits(step.digits), step.field != "meeting_id"))
    return tuple(sorted(plan, key=lambda s: s.at_s))


def plan_done_s(plan: Sequence[DtmfSend], slot_s: float = _DIGIT_SLOT_S) -> float:
    """Seconds after answer by which every digit of ``plan`` has gone out (0 for no plan).

    Each step starts at its offset or when the digits before it are done, whichever is later;
    every digit takes ``slot_s``. A caller that hangs up earlier cuts the last digits off.
    """
    done = 0.0
    for step in sorted(plan, key=lambda s: s.at_s):
        done = max(done, step.at_s) + len(step.digits) * slot_s
    return done


def hold_s(duration_s: float, plan: Sequence[DtmfSend]) -> float:
    """How long to stay connected after answer: ``duration_s``, or longer when the digits of
    ``plan`` would still be going out (plus :data:`SETTLE_S` for the last one to arrive)."""
    return max(duration_s, plan_done_s(plan) + SETTLE_S) if plan else duration_s
