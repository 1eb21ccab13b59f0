"""Settings of the SIP core: the engine, one endpoint (a registered room), one call.

All frozen dataclasses, validated on creation (:class:`SipConfigError` names the field).
Passwords never appear in ``repr``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from signaling.sip.address import HostPort, parse_host_port
from signaling.sip.errors import SipConfigError
from signaling.sip.expiry import expires_from_zoom_minutes
from signaling.sip.sessiontimer import SessionTimerPolicy
from signaling.sip.types import DtmfMethod, SrtpMode, Transport

if TYPE_CHECKING:  # not at run time: sdpvideo pulls numpy, and the CLI starts fast
    from signaling.sip.sdpvideo import VideoSettings

__all__ = [
    "CallOptions",
    "EndpointConfig",
    "EngineConfig",
    "NatSettings",
    "RetryPolicy",
    "TlsSettings",
    "endpoint_from_sip_phone",
]

KNOWN_CODECS = ("G722", "PCMU", "PCMA", "opus", "speex", "GSM", "iLBC", "L16")


@dataclass(frozen=True)
class TlsSettings:
    """TLS for SIP. Verification is on by default: the server certificate must chain to
    ``ca_file`` (or the system store when ``None``) and name the host dialled."""

    verify: bool = True
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    min_version: str = "1.2"

    def __post_init__(self) -> None:
        if self.min_version not in ("1.2", "1.3"):
            raise SipConfigError(
                f"tls.min_version must be '1.2' or '1.3', not {self.min_version!r}"
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise SipConfigError("tls: a client certificate needs both cert_file and key_file")


@dataclass(frozen=True)
class NatSettings:
    """What room systems behind NAT need. pjsua always adds ``rport`` to Via when ``rport``;
    ``contact_rewrite`` re-registers with the address the registrar saw; ``symmetric_rtp``
    sends RTP back to where it came from (pjmedia latches on the first packets)."""

    rport: bool = True
    contact_rewrite: bool = True
    symmetric_rtp: bool = True
    stun_server: str | None = None

    def __post_init__(self) -> None:
        if not self.symmetric_rtp:
            raise SipConfigError(
                "nat.symmetric_rtp cannot be turned off: pjmedia always sends RTP back to "
                "where it comes from"
            )


@dataclass(frozen=True)
class RetryPolicy:
    """Re-registration after a failure or a dropped connection: ``initial_s`` doubled per
    attempt up to ``max_s``, with ``jitter`` (fraction) of randomness."""

    initial_s: float = 2.0
    max_s: float = 300.0
    factor: float = 2.0
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.max_s < self.initial_s or self.factor < 1:
            raise SipConfigError("retry: need 0 < initial_s <= max_s and factor >= 1")
        if not 0 <= self.jitter < 1:
            raise SipConfigError("retry.jitter must be in [0, 1)")


@dataclass(frozen=True)
class EngineConfig:
    """One pjsua2 engine (one process-wide SIP stack serving many endpoints).

    ``sip_port``/``tls_port`` 0 pick ephemeral ports (fine for a client; a gateway that
    receives calls sets them). ``bind_address6`` adds IPv6 transports. ``nameservers``
    enables RFC 3263 resolution in pjsip for ``Transport.AUTO``. An incoming call nobody
    answers is refused with 480 after ``ring_timeout_s``.
    """

    bind_address: str = "127.0.0.1"
    bind_address6: str | None = None
    sip_port: int = 0
    tls_port: int = 0
    transports: tuple[Transport, ...] = (Transport.UDP, Transport.TCP, Transport.TLS)
    tls: TlsSettings = field(default_factory=TlsSettings)
    nat: NatSettings = field(default_factory=NatSettings)
    nameservers: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ("G722", "PCMU", "PCMA")
    user_agent: str = "crcgw"
    rtp_port: int = 0
    rtp_port_range: int = 0
    register_timeout_s: float = 32.0
    auto_probe_timeout_s: float = 1.0
    unregister_wait_s: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    max_calls: int = 32
    """Asked of pjsua; the engine holds fewer when pjsua is built for fewer (the wheel: 4)."""
    ring_timeout_s: float = 60.0
    bye_timeout_s: float = 32.0
    """How long a BYE we sent may go unanswered before its outcome is "no answer" (the
    RFC 3261 Timer F of a non-INVITE transaction, 64 * T1)."""
    rtp_timeout_s: float | None = 30.0
    """A connected call that receives no RTP for this long is hung up (the far end is gone);
    ``None`` never checks."""
    session_timer: SessionTimerPolicy = field(default_factory=SessionTimerPolicy)
    """RFC 4028 session timers offered on calls (pjsip's own timer module does the refreshes;
    :mod:`signaling.sip.callmachine` watches them) where the peer takes them; the RTP
    inactivity check (``rtp_timeout_s``) runs beside them."""
    poll_ms: int = 5
    pjsip_log_level: int = 3

    def __post_init__(self) -> None:
        for name in ("sip_port", "tls_port", "rtp_port"):
            value = getattr(self, name)
            if not 0 <= value < 65536:
                raise SipConfigError(f"{name} must be 0-65535, got {value}")
        if not self.transports or Transport.AUTO in self.transports:
            raise SipConfigError("transports: list UDP, TCP and/or TLS (AUTO picks among them)")
        if self.bye_timeout_s <= 0 or (self.rtp_timeout_s is not None and self.rtp_timeout_s <= 0):
            raise SipConfigError("bye_timeout_s and rtp_timeout_s must be > 0")
        if self.register_timeout_s <= 0 or self.auto_probe_timeout_s <= 0:
            raise SipConfigError("timeouts must be > 0")
        unknown = [c for c in self.codecs if c not in KNOWN_CODECS]
        if unknown or not self.codecs:
            choices = ", ".join(KNOWN_CODECS)
            raise SipConfigError(f"codecs: unknown {unknown}; choose from {choices}")
        if not 1 <= self.max_calls <= 512 or not 1 <= self.poll_ms <= 100:
            raise SipConfigError("max_calls must be 1-512 and poll_ms 1-100")


@dataclass(frozen=True)
class EndpointConfig:
    """One SIP identity: a room system's account at a registrar, or a bare local identity.

    ``registrar`` is ``HOST[:PORT]`` (``None``: never registers, can still call and be called).
    ``outbound_proxy`` routes every request (default: the registrar when ``proxy_via_registrar``).
    """

    name: str
    user: str
    password: str = field(default="", repr=False)
    registrar: str | None = None
    domain: str | None = None
    auth_user: str | None = None
    display_name: str | None = None
    transport: Transport = Transport.UDP
    expires_s: int = 300
    outbound_proxy: str | None = None
    proxy_via_registrar: bool = True
    register: bool = True
    auto_answer: bool = False
    srtp: SrtpMode = SrtpMode.OFF
    video: VideoSettings | None = None
    """Answer video offers of incoming calls with these settings (``None``: decline video)."""

    def __post_init__(self) -> None:
        if not self.name or not self.user:
            raise SipConfigError("endpoint: name and user are required")
        if any(ch in self.user for ch in ' <>@:;"\r\n'):
            raise SipConfigError(f"endpoint {self.name}: bad user {self.user!r}")
        if not 1 <= self.expires_s <= 2**32 - 1:
            raise SipConfigError(f"endpoint {self.name}: expires_s must be >= 1 second")
        for attr in ("registrar", "outbound_proxy"):
            value = getattr(self, attr)
            if value is not None:
                parse_host_port(value)
        if self.register and self.registrar is None:
            object.__setattr__(self, "register", False)

    @property
    def registrar_address(self) -> HostPort | None:
        return parse_host_port(self.registrar) if self.registrar else None

    @property
    def proxy_address(self) -> HostPort | None:
        if self.outbound_proxy:
            return parse_host_port(self.outbound_proxy)
        return self.registrar_address if self.proxy_via_registrar else None

    @property
    def sip_domain(self) -> str:
        """The domain of the identity: ``domain``, else the registrar host."""
        if self.domain:
            return self.domain
        address = self.registrar_address
        return address.host_literal() if address else "localhost"

    @property
    def aor(self) -> str:
        return f"sip:{self.user}@{self.sip_domain}"


@dataclass(frozen=True)
class CallOptions:
    """One outgoing call. ``dtmf`` digits (or the ``ivr`` steps) are sent after answer."""

    dtmf: str | None = None
    dtmf_method: DtmfMethod = DtmfMethod.RFC4733
    dtmf_delay_s: float = 1.0
    timeout_s: float = 60.0
    transport: Transport | None = None
    video: VideoSettings | None = None
    """Offer video beside the audio (``signaling/sip/sdpvideo.py``); ``None``: audio only."""

    def __post_init__(self) -> None:
        if self.timeout_s <= 0 or self.dtmf_delay_s < 0:
            raise SipConfigError("call: timeout_s must be > 0 and dtmf_delay_s >= 0")


def _pick(phone: Mapping[str, Any], key: str) -> str | None:
    value = phone.get(key)
    if value is None or str(value).strip() == "":
        return None
    return str(value).strip()


def endpoint_from_sip_phone(phone: Mapping[str, Any], name: str | None = None) -> EndpointConfig:
    """An endpoint from a Zoom ``/sip_phones`` record (flat or nested ``server`` form).

    ``registration_expire_time`` is in minutes there; here it becomes ``expires_s``.
    """
    server = phone.get("server") if isinstance(phone.get("server"), Mapping) else phone
    assert isinstance(server, Mapping)
    user = _pick(phone, "user_name")
    registrar = _pick(server, "register_server")
    if user is None or registrar is None:
        raise SipConfigError("sip_phone: user_name and register_server are required")
    transport_text = (_pick(server, "transport_protocol") or "UDP").lower()
    try:
        transport = Transport(transport_text)
    except ValueError:
        raise SipConfigError(f"sip_phone: unknown transport_protocol {transport_text!r}") from None
    minutes = phone.get("registration_expire_time")
    return EndpointConfig(
        name=name or user,
        user=user,
        password=str(phone.get("password") or ""),
        registrar=registrar,
        domain=_pick(phone, "domain"),
        auth_user=_pick(phone, "authorization_name"),
        transport=transport,
        expires_s=expires_from_zoom_minutes(minutes) if minutes is not None else 3600,
        outbound_proxy=_pick(server, "proxy_server"),
    )
