"""pjsua2 configuration objects built from the SIP core's frozen settings (engine thread only)."""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Callable, Sequence

import pjsua2 as pj

from signaling.pjsua._wiretap import parse_message_log
from signaling.sip.address import HostPort, registrar_uri
from signaling.sip.config import EndpointConfig, EngineConfig
from signaling.sip.registration import refresh_lead_s
from signaling.sip.sessiontimer import TimerUse
from signaling.sip.types import SrtpMode, Transport
from signaling.sip.wire import WireMessage

__all__ = [
    "MESSAGE_LOG_LEVEL",
    "PJ_TRANSPORT_TYPES",
    "PjLogWriter",
    "account_config",
    "ep_config",
    "tls_problem_names",
    "transport_config",
]

logger = logging.getLogger("signaling.pjsua.pjsip")

PJ_TRANSPORT_TYPES = {
    (Transport.UDP, False): pj.PJSIP_TRANSPORT_UDP,
    (Transport.TCP, False): pj.PJSIP_TRANSPORT_TCP,
    (Transport.TLS, False): pj.PJSIP_TRANSPORT_TLS,
    (Transport.UDP, True): pj.PJSIP_TRANSPORT_UDP6,
    (Transport.TCP, True): pj.PJSIP_TRANSPORT_TCP6,
    (Transport.TLS, True): pj.PJSIP_TRANSPORT_TLS6,
}

MESSAGE_LOG_LEVEL = 4
"""pjsua logs each SIP message ("TX ... msg"/"RX ... msg") at this level."""

_PJ_TO_LOGGING = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}

_IPPROTO_TCP = 6
_TCP_NODELAY = 1

_SRTP = {
    SrtpMode.OFF: pj.PJMEDIA_SRTP_DISABLED,
    SrtpMode.OPTIONAL: pj.PJMEDIA_SRTP_OPTIONAL,
    SrtpMode.MANDATORY: pj.PJMEDIA_SRTP_MANDATORY,
}

_TIMER_USE = {
    TimerUse.OFF: pj.PJSUA_SIP_TIMER_INACTIVE,
    TimerUse.OPTIONAL: pj.PJSUA_SIP_TIMER_OPTIONAL,
    TimerUse.REQUIRED: pj.PJSUA_SIP_TIMER_REQUIRED,
    TimerUse.ALWAYS: pj.PJSUA_SIP_TIMER_ALWAYS,
}

_TLS_FLAGS = (
    (pj.PJ_SSL_CERT_EISSUER_NOT_FOUND, "issuer_not_found"),
    (pj.PJ_SSL_CERT_EUNTRUSTED, "untrusted"),
    (pj.PJ_SSL_CERT_EVALIDITY_PERIOD, "expired"),
    (pj.PJ_SSL_CERT_EINVALID_FORMAT, "invalid_format"),
    (pj.PJ_SSL_CERT_EINVALID_PURPOSE, "invalid_purpose"),
    (pj.PJ_SSL_CERT_EISSUER_MISMATCH, "untrusted"),
    (pj.PJ_SSL_CERT_ECRL_FAILURE, "revoked"),
    (pj.PJ_SSL_CERT_EREVOKED, "revoked"),
    (pj.PJ_SSL_CERT_ECHAIN_TOO_LONG, "chain_too_long"),
    (pj.PJ_SSL_CERT_EWEAK_SIGNATURE, "weak_signature"),
    (pj.PJ_SSL_CERT_EIDENTITY_NOT_MATCH, "identity_mismatch"),
    (pj.PJ_SSL_CERT_EUNKNOWN, "unknown"),
)


_EXPECTED_MEDIA_ERROR = "Invalid media type (PJMEDIA_EINVALIMEDIATYPE)"


class PjLogWriter(pj.LogWriter):  # type: ignore[misc]
    """PJSIP's log lines into Python ``logging`` (logger ``signaling.pjsua.pjsip``), up to
    ``level``; every SIP message line also goes to ``tap`` as a :class:`WireMessage`, stamped
    here, in the stack's own thread, just before the send or right after the receive."""

    def __init__(self, level: int, tap: Callable[[WireMessage], None] | None = None) -> None:
        super().__init__()
        self._level = level
        self._tap = tap

    def write(self, entry: pj.LogEntry) -> None:
        try:
            at = time.monotonic()
            pj_level = int(entry.level)
            text = str(entry.msg)
            if pj_level == MESSAGE_LOG_LEVEL and self._tap is not None:
                msg = parse_message_log(text, at)
                if msg is not None:
                    self._tap(msg)
                    if self._level < MESSAGE_LOG_LEVEL + 1:
                        return
            if pj_level > self._level:
                return
            level = _PJ_TO_LOGGING.get(pj_level, logging.DEBUG)
            if _EXPECTED_MEDIA_ERROR in text:
                # The wheel has no video: pjsua cannot build a stream for the video m-line
                # that crcgw itself carries beside it (docs/sip-core.md), and says so at
                # ERROR on every call with video. Expected, so kept out of the user's way.
                level = logging.DEBUG
            if logger.isEnabledFor(level):
                logger.log(level, "%s", text.rstrip())
        except Exception:  # noqa: BLE001 - never let a log line raise into C++
            pass


def tls_problem_names(verify_status: int) -> tuple[str, ...]:
    """pjsip's certificate verification flags as names known to :mod:`signaling.sip.explain`."""
    names: list[str] = []
    for flag, name in _TLS_FLAGS:
        if verify_status & flag and name not in names:
            names.append(name)
    return tuple(names)


def ep_config(config: EngineConfig, writer: PjLogWriter, max_calls: int) -> pj.EpConfig:
    cfg = pj.EpConfig()
    ua = cfg.uaConfig
    ua.threadCnt = 0
    ua.mainThreadOnly = True
    ua.userAgent = config.user_agent
    ua.maxCalls = max_calls
    for server in config.nameservers:
        ua.nameserver.append(server)
    if config.nat.stun_server:
        ua.stunServer.append(config.nat.stun_server)
        ua.stunIgnoreFailure = True
    log = cfg.logConfig
    log.writer = writer
    # SIP messages are always logged (at level 4) for the wire tap; the writer passes on to
    # Python logging only what config.pjsip_log_level asks for (messages from level 5)
    level = max(config.pjsip_log_level, MESSAGE_LOG_LEVEL)
    log.level = level
    log.consoleLevel = level  # pjsua hands the writer only lines up to consoleLevel
    log.msgLogging = True
    log.decor = pj.PJ_LOG_HAS_SENDER
    cfg.medConfig.noVad = True  # keep RTP flowing during silence (stats, NAT bindings)
    # The null sound device is the clock that makes pjsua send RTP: never let it auto-close
    # after a call (default: 1 s), or a long-running engine sends no RTP on its next calls.
    cfg.medConfig.sndAutoCloseTime = -1
    return cfg


def _nodelay() -> pj.SockOpt:
    # pjsip leaves Nagle on: a request sent right after another on the same connection
    # (INVITE after the ACK of a 407) then waits ~40 ms for the peer's delayed ACK.
    opt = pj.SockOpt()
    opt.level = _IPPROTO_TCP
    opt.optName = _TCP_NODELAY
    opt.setOptValInt(1)
    return opt


def _system_ca_file() -> str | None:
    paths = ssl.get_default_verify_paths()
    return paths.cafile or paths.openssl_cafile or None


def transport_config(config: EngineConfig, transport: Transport, ipv6: bool) -> pj.TransportConfig:
    tc = pj.TransportConfig()
    bound = config.bind_address6 if ipv6 else config.bind_address
    tc.boundAddress = bound or ""
    tc.port = config.tls_port if transport is Transport.TLS else config.sip_port
    if transport.reliable:
        tc.sockOptParams.sockOpts.append(_nodelay())
    if transport is Transport.TLS:
        tls = tc.tlsConfig
        tls.sockOptParams.sockOpts.append(_nodelay())
        settings = config.tls
        tls.proto = pj.PJ_SSL_SOCK_PROTO_TLS1_3
        if settings.min_version == "1.2":
            tls.proto |= pj.PJ_SSL_SOCK_PROTO_TLS1_2
        tls.verifyServer = settings.verify
        ca_file = settings.ca_file or _system_ca_file()
        if ca_file:
            tls.CaListFile = ca_file
        if settings.cert_file and settings.key_file:
            tls.certFile = settings.cert_file
            tls.privKeyFile = settings.key_file
        tls.msecTimeout = int(config.register_timeout_s * 1000)
        if not settings.verify:
            logging.getLogger("signaling.pjsua").warning(
                "TLS server certificate verification is OFF (insecure): any certificate "
                "is accepted, a man in the middle can read and change the signaling"
            )
    return tc


def _proxy_uris(address: HostPort | None, transport: Transport) -> Sequence[str]:
    if address is None:
        return ()
    return (registrar_uri(address, transport) + ";lr",)  # loose routing (RFC 3261 16.12)


def account_config(
    endpoint: EndpointConfig,
    engine: EngineConfig,
    transport: Transport,
    transport_id: int | None,
    ipv6: bool,
) -> pj.AccountConfig:
    acfg = pj.AccountConfig()
    identity = endpoint.aor
    if endpoint.display_name:
        identity = f'"{endpoint.display_name}" <{identity}>'
    acfg.idUri = identity
    reg = acfg.regConfig
    registrar = endpoint.registrar_address
    if registrar is not None:
        reg.registrarUri = registrar_uri(registrar, transport)
    reg.registerOnAdd = endpoint.register
    reg.timeoutSec = endpoint.expires_s
    reg.delayBeforeRefreshSec = refresh_lead_s(endpoint.expires_s)  # the machine decides
    reg.retryIntervalSec = 0  # the engine re-registers itself, with backoff
    reg.firstRetryIntervalSec = 0
    reg.dropCallsOnFail = False
    reg.unregWaitMsec = int(engine.unregister_wait_s * 1000)
    sip = acfg.sipConfig
    if transport_id is not None:
        sip.transportId = transport_id
    for uri in _proxy_uris(endpoint.proxy_address, transport):
        sip.proxies.append(uri)
    if endpoint.password:
        user = endpoint.auth_user or endpoint.user
        sip.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, endpoint.password))
    nat = acfg.natConfig
    # pjsip 2.15.1 aborts (pj_sockaddr_get_addr_len assertion) when it rewrites the Contact
    # of a TLS registration over IPv6: no contact rewrite there (no NAT on IPv6 anyway).
    rewrite = engine.nat.contact_rewrite and not (ipv6 and transport is Transport.TLS)
    nat.contactRewriteUse = 1 if rewrite else 0
    nat.viaRewriteUse = 1 if engine.nat.rport else 0
    nat.sdpNatRewriteUse = 1 if rewrite else 0
    stun = pj.PJSUA_STUN_USE_DEFAULT if engine.nat.stun_server else pj.PJSUA_STUN_USE_DISABLED
    nat.sipStunUse = stun
    nat.mediaStunUse = stun
    session = engine.session_timer  # RFC 4028: pjsip's own timers refresh and expire
    acfg.callConfig.timerUse = _TIMER_USE[session.use]
    acfg.callConfig.timerSessExpiresSec = session.expires_s
    acfg.callConfig.timerMinSESec = session.min_se_s
    media = acfg.mediaConfig
    # RTP stays on IPv4 even for IPv6 signaling: the pjsua2-python wheel is built without
    # IPv6 media (pjsua_acc_add asserts ipv6_media_use == PJSUA_IPV6_DISABLED and aborts).
    media.transportConfig.boundAddress = engine.bind_address or ""
    media.transportConfig.port = engine.rtp_port
    media.transportConfig.portRange = engine.rtp_port_range
    media.srtpUse = _SRTP[endpoint.srtp]
    media.srtpSecureSignaling = 0  # SDES keys also over UDP/TCP (room systems do this)
    # pjsua's codec-locking re-INVITE (after an answer with several codecs) is built from the
    # active SDP without onCallSdpCreated: it offered crcgw's video section as inactive and
    # the far end stopped its video (measured with baresip). RFC 3264 does not need it.
    media.lockCodecEnabled = False
    return acfg
