"""One vocabulary of call events for SIP and H.323, and the translators into it.

Whatever the protocol, a call tells the gateway the same few things: it is in progress, the far
end rings, it answered, media flows or stops, a DTMF digit came, and it ended with a cause. A
:class:`CallEvent` says one of them. Its :class:`Cause` says whether the code came from the far
end over the wire (``RECEIVED``: a SIP status, a Q.931 cause in Release Complete) or was made on
this side (``LOCAL``: pjsip's own codes, a timeout, our hang-up, a dead engine).

``seq`` orders the events of one call: it only grows, so a consumer keeps the newest and drops
one that arrives late (an answer resumed after newer events). SIP events take the engine's
``seq`` (nanoseconds of the host's monotonic clock) or, for events that carry none, their
``at`` in nanoseconds; H.323 events are numbered by :class:`Sequencer` the same way.

Translators: :func:`from_sip` (:mod:`signaling.sip.events`), :func:`from_h323`
(:class:`signaling.h323.call.CallEvent` as :func:`signaling.h323.dial.dial` reports them) and
:func:`h323_end` (how an H.323 dial ended, from its :class:`~signaling.h323.dial.DialResult`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from signaling.sip.events import CallStateChanged, DtmfReceived, EngineEvent, MediaStateChanged
from signaling.sip.types import CallPhase, CauseOrigin

if TYPE_CHECKING:  # the H.323 stack (pycrate) is not loaded for SIP-only users
    from signaling.h323.call import CallEvent as H323Event


def explain(cause: int) -> str:
    """Q.931 ``cause`` in words (imported when needed: ``signaling.h323`` loads the stack)."""
    from signaling.h323.cause import explain as words

    return words(cause)

__all__ = [
    "Cause",
    "CallEvent",
    "EventKind",
    "Protocol",
    "Sequencer",
    "from_h323",
    "from_sip",
    "h323_end",
]

Protocol = Literal["sip", "h323"]


class EventKind(StrEnum):
    PROGRESS = "progress"
    """The far end (or a proxy) is working on it: SIP 100/183 without ringing, Q.931 Call
    Proceeding or Progress."""
    RINGING = "ringing"
    ANSWERED = "answered"
    MEDIA_UP = "media-up"
    MEDIA_DOWN = "media-down"
    DTMF = "dtmf"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Cause:
    """Why a call ended: ``code`` is a SIP status or a Q.931 cause (``None`` when there was
    none, e.g. a connection that closed), ``origin`` received from the far end or made here."""

    protocol: Protocol
    code: int | None
    reason: str
    origin: CauseOrigin

    def text(self) -> str:
        """``486 Busy Here (received)``, ``cause 17 user busy (received)``."""
        code = "" if self.code is None else (
            f"{self.code} " if self.protocol == "sip" else f"cause {self.code} "
        )
        return f"{code}{self.reason}".strip() + f" ({self.origin.value})"

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "code": self.code, "reason": self.reason,
                "origin": self.origin.value}


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One thing that happened to call ``call_id`` (the engine's id), at ``at`` (monotonic
    seconds). ``cause`` is set for ``ENDED``; ``codec`` for ``MEDIA_UP``; ``digit`` for
    ``DTMF``; ``detail`` is a line for people (a code and reason, where RTP goes)."""

    call_id: str
    kind: EventKind
    at: float
    seq: int
    protocol: Protocol
    cause: Cause | None = None
    codec: str | None = None
    digit: str | None = None
    detail: str = ""

    def as_dict(self, since: float | None = None) -> dict[str, Any]:
        """A JSON row; ``t_ms`` counts from ``since`` when given."""
        row: dict[str, Any] = {"event": self.kind.value, "seq": self.seq}
        if since is not None:
            row["t_ms"] = round((self.at - since) * 1000, 1)
        if self.cause is not None:
            row["cause"] = self.cause.as_dict()
        if self.codec is not None:
            row["codec"] = self.codec
        if self.digit is not None:
            row["digit"] = self.digit
        if self.detail:
            row["detail"] = self.detail
        return row


class Sequencer:
    """Strictly growing ``seq`` numbers from the monotonic clock (nanoseconds), as the SIP
    engine makes them, so events of both protocols on one host compare."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, at: float | None = None) -> int:
        value = time.monotonic_ns() if at is None else int(at * 1e9)
        self._last = max(value, self._last + 1)
        return self._last


_SIP_PHASES = {
    CallPhase.TRYING: EventKind.PROGRESS,
    CallPhase.RINGING: EventKind.RINGING,
    CallPhase.EARLY_MEDIA: EventKind.RINGING,
    CallPhase.CONNECTED: EventKind.ANSWERED,
    CallPhase.DISCONNECTED: EventKind.ENDED,
}


def from_sip(event: EngineEvent) -> CallEvent | None:
    """The call event an engine event says, or ``None`` (registrations, CALLING, ...)."""
    if isinstance(event, CallStateChanged):
        kind = _SIP_PHASES.get(event.phase)
        if kind is None:
            return None
        seq = event.seq or int(event.at * 1e9)
        detail = f"{event.code or ''} {event.reason}".strip()
        if kind is EventKind.ENDED:
            origin = event.origin or (CauseOrigin.RECEIVED if event.code else CauseOrigin.LOCAL)
            cause = Cause("sip", event.code, event.explanation or event.reason, origin)
            return CallEvent(event.call_id, kind, event.at, seq, "sip", cause, detail=detail)
        return CallEvent(event.call_id, kind, event.at, seq, "sip", detail=detail)
    if isinstance(event, MediaStateChanged):
        kind = EventKind.MEDIA_UP if event.active else EventKind.MEDIA_DOWN
        return CallEvent(event.call_id, kind, event.at, int(event.at * 1e9), "sip",
                         codec=event.codec if event.active else None,
                         detail="SRTP" if event.srtp else "")
    if isinstance(event, DtmfReceived):
        return CallEvent(event.call_id, EventKind.DTMF, event.at, int(event.at * 1e9), "sip",
                         digit=event.digit, detail=event.method.value)
    return None


_H323_KINDS = {
    "proceeding": EventKind.PROGRESS,
    "progress": EventKind.PROGRESS,
    "alerting": EventKind.RINGING,
    "connected": EventKind.ANSWERED,
    "fast-start": EventKind.MEDIA_UP,
    "h245-channel": EventKind.MEDIA_UP,
    "released": EventKind.ENDED,
}


def from_h323(call_id: str, event: H323Event, at: float, seq: int) -> CallEvent | None:
    """The call event an H.323 call-signalling event says (the far end did it), or ``None``
    for those with no counterpart (H.245 bookkeeping, facility, status)."""
    kind = _H323_KINDS.get(event.kind)
    if kind is None:
        return None
    if kind is EventKind.ENDED:
        reason = explain(event.cause) if event.cause is not None else (event.reason or "released")
        if event.reason and event.cause is not None:
            reason += f", reason {event.reason}"
        cause = Cause("h323", event.cause, reason, CauseOrigin.RECEIVED)
        return CallEvent(call_id, kind, at, seq, "h323", cause, detail="Release Complete")
    if kind is EventKind.MEDIA_UP:
        return CallEvent(call_id, kind, at, seq, "h323", codec=event.reason,
                         detail=f"RTP to {event.detail}")
    return CallEvent(call_id, kind, at, seq, "h323", detail=event.kind)


def h323_end(
    call_id: str, at: float, seq: int, *, connected: bool, cause: int | None,
    reason: str | None, error: str | None, released_here: int | None,
) -> CallEvent:
    """How an H.323 dial ended, as an ``ENDED`` event: the far end's Release Complete when it
    sent one (received), else what this side did: our Release Complete with ``released_here``
    (hang-up 16, timer expiry 102) or the connection closing, with ``error`` (local)."""
    if cause is not None or reason is not None:
        said = explain(cause) if cause is not None else (reason or "")
        if reason and cause is not None:
            said += f", reason {reason}"
        ended = Cause("h323", cause, said, CauseOrigin.RECEIVED)
    elif released_here is not None:
        said = error or ("hung up here" if connected else explain(released_here))
        ended = Cause("h323", released_here, said, CauseOrigin.LOCAL)
    else:
        ended = Cause("h323", None, error or "the connection closed", CauseOrigin.LOCAL)
    return CallEvent(call_id, EventKind.ENDED, at, seq, "h323", ended)
