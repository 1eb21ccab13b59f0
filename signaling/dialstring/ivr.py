"""The DTMF a room system sends after the CRC answers, for what its dial string left out.

Zoom's connector prompts by voice for what the URI does not carry: the meeting ID (when the room
dialled the connector's bare address), then the passcode, each entered followed by ``#``; a host
key entered as ``HOSTKEY#`` claims host (facts 1.8). A target dialled with everything in the
string needs no IVR at all.

Pure: the timing plan is offsets from the moment of answer; the SIP core sends the digits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from signaling.dialstring._target import DialTarget

__all__ = ["IvrStep", "ivr_steps", "split_for_ivr"]

IvrField = Literal["meeting_id", "passcode", "host_key"]

DEFAULT_FIRST_DELAY_S = 3.0
DEFAULT_GAP_S = 2.0


@dataclass(frozen=True, slots=True)
class IvrStep:
    """Send ``digits`` (the field's value and ``#``) ``at_s`` seconds after answer."""

    field: IvrField
    digits: str
    at_s: float

    def __repr__(self) -> str:
        # Passcodes and host keys are secrets; only the meeting ID may be shown.
        shown = self.digits if self.field == "meeting_id" else "***#"
        return f"IvrStep(field={self.field!r}, digits={shown!r}, at_s={self.at_s})"


def ivr_steps(
    target: DialTarget,
    *,
    meeting_id_in_uri: bool = True,
    first_delay_s: float = DEFAULT_FIRST_DELAY_S,
    gap_s: float = DEFAULT_GAP_S,
) -> tuple[IvrStep, ...]:
    """The IVR entries for ``target``'s meeting ID (when not dialled), passcode and host key.

    ``target`` holds the values to enter; pass the full target and dial
    ``target.without_secrets()`` (see :func:`split_for_ivr`).
    """
    if first_delay_s < 0 or gap_s < 0:
        raise ValueError(f"IVR delays must be >= 0, got first={first_delay_s} gap={gap_s}")
    values: list[tuple[IvrField, str | None]] = []
    if not meeting_id_in_uri:
        values.append(("meeting_id", target.meeting_id))
    values += [("passcode", target.passcode), ("host_key", target.host_key)]
    present = [(field, value) for field, value in values if value]
    return tuple(
        IvrStep(field, f"{value}#", first_delay_s + index * gap_s)
        for index, (field, value) in enumerate(present)
    )


def split_for_ivr(
    target: DialTarget,
    *,
    first_delay_s: float = DEFAULT_FIRST_DELAY_S,
    gap_s: float = DEFAULT_GAP_S,
) -> tuple[DialTarget, tuple[IvrStep, ...]]:
    """What to dial (no passcode, no host key in the URI) and the DTMF to send after answer."""
    steps = ivr_steps(target, first_delay_s=first_delay_s, gap_s=gap_s)
    return target.without_secrets(), steps
