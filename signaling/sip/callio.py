"""What the SIP call machine (:mod:`signaling.sip.callmachine`) takes and gives back.

Inputs are what the SIP stack reported (a state, a response, media, a message on the wire, a
counter read); commands are what the machine asks the stack to do. All plain frozen values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from signaling.sip.dtmf import DtmfSend
from signaling.sip.events import EngineEvent
from signaling.sip.sessiontimer import SessionTimerPolicy
from signaling.sip.types import DtmfMethod
from signaling.sip.wire import WireMessage

__all__ = [
    "AnswerCall",
    "CallInput",
    "CallTimers",
    "Command",
    "DtmfSeen",
    "HangupAsked",
    "HangupCall",
    "InvState",
    "InviteAnswered",
    "MediaSeen",
    "ReadRtp",
    "ReleaseCall",
    "RtpCount",
    "SendDigits",
    "StateSeen",
    "Step",
    "StreamFigures",
    "WireSeen",
]


# -- inputs ------------------------------------------------------------------------------------


class InvState(Enum):
    """The INVITE session states the SIP stack reports (pjsip's ``PJSIP_INV_STATE_*``)."""

    CALLING = "calling"
    INCOMING = "incoming"
    EARLY = "early"
    CONNECTING = "connecting"
    CONFIRMED = "confirmed"
    DISCONNECTED = "disconnected"


@dataclass(frozen=True, slots=True)
class StateSeen:
    """The stack's INVITE session moved to ``state`` (last status ``code``/``reason``)."""

    state: InvState
    code: int | None = None
    reason: str = ""
    remote_uri: str = ""


@dataclass(frozen=True, slots=True)
class InviteAnswered:
    """A response to our INVITE, as the stack's transaction reports it (used for set-up
    times only when the wire tap saw nothing)."""

    code: int


@dataclass(frozen=True, slots=True)
class MediaSeen:
    """The call's audio is flowing (``active``) or not; ``code``/``reason`` are the last
    status of the INVITE session at that moment."""

    active: bool
    codec: str | None = None
    clock_rate: int | None = None
    srtp: bool = False
    code: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class WireSeen:
    """A SIP message of this call that went out or came in (stamped by the wire tap)."""

    msg: WireMessage


@dataclass(frozen=True, slots=True)
class RtpCount:
    """Answer to :class:`ReadRtp`: RTP packets received so far."""

    rx_packets: int


@dataclass(frozen=True, slots=True)
class DtmfSeen:
    digit: str
    method: DtmfMethod
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class HangupAsked:
    """The owner of the call asks for its end (``code`` for a call not yet answered)."""

    code: int | None = None
    cause: str | None = None


CallInput = StateSeen | InviteAnswered | MediaSeen | WireSeen | RtpCount | DtmfSeen | HangupAsked


# -- commands ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnswerCall:
    code: int


@dataclass(frozen=True, slots=True)
class HangupCall:
    """End the call (CANCEL, BYE or a final response, as the stack sees fit)."""

    code: int | None = None


@dataclass(frozen=True, slots=True)
class SendDigits:
    step: DtmfSend
    method: DtmfMethod


@dataclass(frozen=True, slots=True)
class ReadRtp:
    """Read the received RTP packet count and feed it back as :class:`RtpCount`."""


@dataclass(frozen=True, slots=True)
class ReleaseCall:
    """The call is over: let go of the stack's call object (outside its own callback)."""


Command = AnswerCall | HangupCall | SendDigits | ReadRtp | ReleaseCall
Step = tuple[list[Command], list[EngineEvent]]


@dataclass(frozen=True, slots=True)
class CallTimers:
    """The call's timeouts. ``setup_timeout_s``: an outgoing call not answered by then is
    cancelled; an incoming one not answered is refused with 480. ``rtp_timeout_s``: a
    connected call without RTP for so long is ended (``None``: never), session timer or not;
    ``session``: the RFC 4028 policy the stack was given (``None``: off)."""

    setup_timeout_s: float | None = None
    rtp_timeout_s: float | None = 30.0
    bye_timeout_s: float = 32.0
    no_media_grace_s: float = 2.0
    rtp_check_s: float = 1.0
    session: SessionTimerPolicy | None = None

    def __post_init__(self) -> None:
        if self.rtp_check_s <= 0 or self.bye_timeout_s <= 0 or self.no_media_grace_s < 0:
            raise ValueError("call timers: rtp_check_s and bye_timeout_s must be > 0")


@dataclass(frozen=True, slots=True)
class StreamFigures:
    """The audio stream's counters as the stack reports them."""

    rx_packets: int = 0
    tx_packets: int = 0
    rx_lost: int = 0
    jitter_mean_us: float | None = None
    jitter_max_us: float | None = None
