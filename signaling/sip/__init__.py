"""Pure logic of the SIP core (no pjsua2): settings, events, explanations, timing plans.

The pjsua2 adapter that acts on them is :mod:`signaling.pjsua`.
"""

from signaling.sip.config import (
    CallOptions,
    EndpointConfig,
    EngineConfig,
    NatSettings,
    RetryPolicy,
    TlsSettings,
    endpoint_from_sip_phone,
)
from signaling.sip.errors import EngineClosed, EngineError, SipConfigError, SipError
from signaling.sip.events import (
    CallStateChanged,
    CallStats,
    DtmfReceived,
    EngineEvent,
    IncomingCall,
    MediaStateChanged,
    RegistrationChanged,
    RegistrationStatus,
    TransportDisconnected,
)
from signaling.sip.expiry import expires_from_zoom_minutes, zoom_minutes_from_expires
from signaling.sip.types import CallPhase, Direction, DtmfMethod, RegState, SrtpMode, Transport

__all__ = [
    "CallOptions",
    "CallPhase",
    "CallStateChanged",
    "CallStats",
    "Direction",
    "DtmfMethod",
    "DtmfReceived",
    "EndpointConfig",
    "EngineClosed",
    "EngineConfig",
    "EngineError",
    "EngineEvent",
    "IncomingCall",
    "MediaStateChanged",
    "NatSettings",
    "RegState",
    "RegistrationChanged",
    "RegistrationStatus",
    "RetryPolicy",
    "SipConfigError",
    "SipError",
    "SrtpMode",
    "TlsSettings",
    "Transport",
    "TransportDisconnected",
    "endpoint_from_sip_phone",
    "expires_from_zoom_minutes",
    "zoom_minutes_from_expires",
]
