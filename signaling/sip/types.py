"""Enumerations shared by the SIP core's configuration, events and adapter."""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CallPhase",
    "CauseOrigin",
    "Direction",
    "DtmfMethod",
    "RegState",
    "SrtpMode",
    "Transport",
]


class Transport(StrEnum):
    """SIP transport. ``AUTO`` follows RFC 3263 (with a name server) or tries TLS, TCP, UDP."""

    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"
    AUTO = "auto"

    @property
    def reliable(self) -> bool:
        return self in (Transport.TCP, Transport.TLS)

    @property
    def default_port(self) -> int:
        return 5061 if self is Transport.TLS else 5060


class SrtpMode(StrEnum):
    OFF = "off"
    OPTIONAL = "optional"
    MANDATORY = "mandatory"


class DtmfMethod(StrEnum):
    RFC4733 = "rfc4733"
    SIP_INFO = "sip-info"


class RegState(StrEnum):
    """Where one endpoint's registration stands."""

    UNREGISTERED = "unregistered"
    REGISTERING = "registering"
    REGISTERED = "registered"
    FAILED = "failed"


class Direction(StrEnum):
    OUTGOING = "outgoing"
    INCOMING = "incoming"


class CallPhase(StrEnum):
    """A call's progress as a room engineer reads it."""

    CALLING = "calling"  # INVITE sent
    TRYING = "trying"  # 100 Trying received
    RINGING = "ringing"  # 180 received
    EARLY_MEDIA = "early-media"  # 183 with SDP: media flows before answer
    INCOMING = "incoming"  # INVITE received, not answered yet
    CONNECTING = "connecting"  # 200 OK sent or received, ACK pending
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class CauseOrigin(StrEnum):
    """Where the code that ended a call (or a stage) came from.

    ``RECEIVED``: the far end (or a proxy on the way) sent it, seen on the wire.
    ``LOCAL``: this side made it up (pjsip's own 408/415/487, our hang-up or timeout).
    """

    RECEIVED = "received"
    LOCAL = "local"
