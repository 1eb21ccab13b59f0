"""What one call's SIP messages did on the wire, as seen by a message tap: pure bookkeeping.

The pjsua2 adapter feeds every SIP message it sends or receives (``WireMessage``, stamped
with ``time.monotonic()`` when the stack logged it, just before the socket write or right
after the read) into a :class:`CallWire` keyed by Call-ID. From it come the set-up times
(INVITE sent to response received), whether a final response was really received or made up
by the local stack, and what became of our BYE.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CallWire", "WireMessage", "WireResponse"]

_KEEP_FINALS = 16  # challenges, the answer, re-INVITE answers: enough, and bounded


@dataclass(frozen=True, slots=True)
class WireMessage:
    """One SIP message through the transport. ``code``/``reason`` only for responses;
    ``method`` is the request's method or, for a response, its CSeq method."""

    at: float
    sent: bool
    method: str
    cseq: int
    call_id: str
    code: int | None = None
    reason: str = ""
    session_expires: int | None = None
    """RFC 4028 ``Session-Expires`` delta-seconds, when the message carries it."""
    refresher: str | None = None
    """Its ``refresher`` parameter (``uac``/``uas``)."""
    min_se: int | None = None
    """``Min-SE`` (a 422 names the smallest interval the far end accepts)."""

    @property
    def is_response(self) -> bool:
        return self.code is not None


@dataclass(frozen=True, slots=True)
class WireResponse:
    at: float
    code: int
    reason: str


class CallWire:
    """The wire marks of one call (one Call-ID)."""

    __slots__ = (
        "far_end_ended_at",
        "bye_response",
        "bye_sent_at",
        "invite_sent_at",
        "invite_finals",
        "provisional_at",
        "ringing_at",
        "_bye_cseq",
    )

    def __init__(self) -> None:
        self.invite_sent_at: float | None = None
        self.provisional_at: float | None = None
        self.ringing_at: float | None = None
        self.invite_finals: list[WireResponse] = []
        """Final responses to our INVITEs, in order (a 407, then the 200 after the retry)."""
        self.bye_sent_at: float | None = None
        self.bye_response: WireResponse | None = None
        self.far_end_ended_at: float | None = None
        """When the far end's BYE (or CANCEL, on a call it placed) arrived."""
        self._bye_cseq: int | None = None

    def add(self, msg: WireMessage) -> bool:
        """Take one message; True when it answered our BYE (the BYE's outcome is known)."""
        if msg.sent:
            if msg.method == "INVITE" and not msg.is_response and self.invite_sent_at is None:
                self.invite_sent_at = msg.at  # the first INVITE (retransmissions ignored)
            elif msg.method == "BYE" and not msg.is_response and self.bye_sent_at is None:
                self.bye_sent_at, self._bye_cseq = msg.at, msg.cseq
            return False
        if msg.code is None:
            if msg.method in ("BYE", "CANCEL") and self.far_end_ended_at is None:
                self.far_end_ended_at = msg.at
            return False
        if msg.method == "INVITE":
            self._invite_response(msg)
            return False
        if (
            msg.method == "BYE"
            and msg.cseq == self._bye_cseq
            and msg.code >= 200
            and self.bye_response is None
        ):
            self.bye_response = WireResponse(msg.at, msg.code, msg.reason)
            return True
        return False

    def _invite_response(self, msg: WireMessage) -> None:
        assert msg.code is not None
        if msg.code < 200:
            if self.provisional_at is None:
                self.provisional_at = msg.at
            if msg.code in (180, 181, 182, 183) and self.ringing_at is None:
                self.ringing_at = msg.at
        elif len(self.invite_finals) < _KEEP_FINALS:
            self.invite_finals.append(WireResponse(msg.at, msg.code, msg.reason))

    def received_final(self, code: int | None) -> bool:
        """True when ``code`` is the final response to our INVITE that came over the wire."""
        return any(final.code == code for final in self.invite_finals)

    def ok_at(self) -> float | None:
        """When the first 2xx to an INVITE arrived."""
        return next((f.at for f in self.invite_finals if 200 <= f.code < 300), None)
