"""What the engine tells asyncio: frozen event dataclasses and the status snapshots they carry.

Every event has ``at`` (``time.monotonic()`` seconds when the engine saw it). Registration
statuses and call states also carry ``seq``, the order of the event that made them: it only
grows within an engine, and as it is taken from the host's monotonic clock (nanoseconds, bumped
to stay strictly increasing) statuses from different engine processes on one host compare too.
A snapshot keeps the status with the highest ``seq`` it has seen, so an answer that arrives late
(a command's result resumed after newer events) can never take it back in time.
"""

from __future__ import annotations

from dataclasses import dataclass

from signaling.sip.types import (
    CallPhase,
    CauseOrigin,
    Direction,
    DtmfMethod,
    RegState,
    Transport,
)

__all__ = [
    "ByeOutcome",
    "CallStateChanged",
    "CallStats",
    "DtmfReceived",
    "EngineEvent",
    "IncomingCall",
    "MediaStateChanged",
    "RegistrationChanged",
    "RegistrationStatus",
    "KeyframeRequested",
    "TransportDisconnected",
    "VideoNegotiated",
    "newer",
]


@dataclass(frozen=True, slots=True)
class RegistrationStatus:
    """One endpoint's registration as last reported. ``duration_ms`` is REGISTER (including the
    401 round) to final answer; ``explanation`` is set for failures."""

    endpoint: str
    state: RegState
    transport: Transport
    code: int | None = None
    reason: str = ""
    duration_ms: float | None = None
    expires_s: int | None = None
    explanation: str | None = None
    attempts: int = 0
    seq: int = 0

    @property
    def ok(self) -> bool:
        return self.state is RegState.REGISTERED


@dataclass(frozen=True, slots=True)
class RegistrationChanged:
    at: float
    status: RegistrationStatus

    @property
    def endpoint(self) -> str:
        return self.status.endpoint


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    at: float
    call_id: str
    endpoint: str
    phase: CallPhase
    code: int | None = None
    reason: str = ""
    direction: Direction = Direction.OUTGOING
    remote_uri: str = ""
    explanation: str | None = None
    seq: int = 0
    origin: CauseOrigin | None = None
    """For DISCONNECTED: whether ``code`` came from the far end over the wire (``RECEIVED``)
    or was made on this side (``LOCAL``: pjsip's own codes, our hang-up, a timeout)."""


@dataclass(frozen=True, slots=True)
class ByeOutcome:
    """What became of the BYE this side sent: its final response, or ``code=None`` when none
    came within the engine's ``bye_timeout_s`` (then ``origin`` is ``LOCAL``). ``ms`` runs
    from the BYE leaving to the response arriving (or to the timeout)."""

    at: float
    call_id: str
    code: int | None
    reason: str
    origin: CauseOrigin
    ms: float


@dataclass(frozen=True, slots=True)
class IncomingCall:
    at: float
    call_id: str
    endpoint: str
    remote_uri: str
    local_uri: str = ""
    """The dialled URI as the caller's To header carries it (a room's dial string)."""


@dataclass(frozen=True, slots=True)
class DtmfReceived:
    at: float
    call_id: str
    digit: str
    method: DtmfMethod
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class MediaStateChanged:
    at: float
    call_id: str
    active: bool
    codec: str | None = None
    clock_rate: int | None = None
    srtp: bool = False


@dataclass(frozen=True, slots=True)
class TransportDisconnected:
    """A TCP or TLS connection closed (the registrar restarted, the network dropped)."""

    at: float
    transport: Transport
    remote: str
    reason: str
    tls_problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CallStats:
    """Set-up times (ms, from sending INVITE) and media figures from pjsua2's stream stats."""

    call_id: str
    invite_to_provisional_ms: float | None
    invite_to_ringing_ms: float | None
    invite_to_200_ms: float | None
    codec: str | None
    clock_rate: int | None
    rx_packets: int
    tx_packets: int
    rx_lost: int
    rx_jitter_ms: float | None
    rx_jitter_max_ms: float | None
    connected_s: float | None
    srtp: bool = False


@dataclass(frozen=True, slots=True)
class VideoNegotiated:
    """One offer/answer settled the call's video (pjsua2 has none: crcgw's own section).

    ``direction`` is what this side does (``sendonly``: we send, the far end does not);
    ``accepted=False`` (with ``reason``) means no video now: declined, no common codec, or the
    offer had none. ``local_port`` is where our RTP must be received (RTCP on the next port);
    ``answered`` says we answered the far end's offer (else it answered ours).
    """

    at: float
    call_id: str
    accepted: bool
    local_port: int
    remote_host: str | None = None
    remote_port: int = 0
    remote_rtcp_port: int = 0
    codec: str | None = None
    payload_type: int | None = None
    fmtp: str = ""
    direction: str = "inactive"
    width: int = 0
    height: int = 0
    framerate: int = 0
    bitrate_kbps: int = 0
    rtcp_fb: tuple[str, ...] = ()
    reason: str = ""
    answered: bool = False


@dataclass(frozen=True, slots=True)
class KeyframeRequested:
    """The far end asked for a keyframe over SIP (INFO ``picture_fast_update``, RFC 5168).

    pjsua answers such an INFO 400 whatever we do (the wheel gives no way to answer it);
    the request is still honoured by forcing a keyframe."""

    at: float
    call_id: str
    method: str = "sip-info"


def newer(current: RegistrationStatus | CallStateChanged | None, seq: int) -> bool:
    """Whether a status made by event ``seq`` may replace ``current`` (none, or not newer)."""
    return current is None or seq >= current.seq


EngineEvent = (
    RegistrationChanged
    | CallStateChanged
    | ByeOutcome
    | IncomingCall
    | DtmfReceived
    | MediaStateChanged
    | TransportDisconnected
    | VideoNegotiated
    | KeyframeRequested
)
