"""DTMF to send after answer: plain digits or the IVR steps of :mod:`signaling.dialstring.ivr`.

Pure: a plan is offsets (seconds after answer); the engine schedules and sends them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from signaling.dialstring.ivr import IvrStep
from signaling.sip.errors import SipConfigError

__all__ = ["DTMF_DIGITS", "DtmfSend", "check_digits", "dtmf_plan"]

DTMF_DIGITS = frozenset("0123456789*#ABCD")


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
