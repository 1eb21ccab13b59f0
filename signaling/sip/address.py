"""Host/port strings, registrar URIs and call targets (pure string work, no DNS).

>>> parse_host_port("[::1]:5070")
HostPort(host='::1', port=5070)
>>> registrar_uri(parse_host_port("127.0.0.1"), Transport.TLS)
'sip:127.0.0.1:5061;transport=tls'
"""

from __future__ import annotations

from signaling import hostport
from signaling.dialstring import DialStringError, DialTarget, parse
from signaling.hostport import HostPort, HostPortError
from signaling.sip.errors import SipConfigError
from signaling.sip.types import Transport

__all__ = [
    "HostPort",
    "add_transport_param",
    "dial_uri",
    "is_sip_uri",
    "parse_host_port",
    "registrar_uri",
]


def parse_host_port(text: str) -> HostPort:
    """``HOST``, ``HOST:PORT``, ``[IPv6]``, ``[IPv6]:PORT`` or a bare IPv6 address, by the
    project's one address reader (:mod:`signaling.hostport`); :class:`SipConfigError` names
    what is wrong."""
    try:
        return hostport.parse_host_port(text, bare_ipv6=True)
    except HostPortError as exc:
        raise SipConfigError(f"bad address {text.strip()!r}: {exc.field} {exc.rule}") from None


def registrar_uri(address: HostPort, transport: Transport) -> str:
    """The registrar (or outbound proxy) URI for an explicit transport.

    ``AUTO`` gives a URI without port and transport, so pjsip follows RFC 3263 (NAPTR/SRV).
    """
    if transport is Transport.AUTO:
        return f"sip:{address}"
    return f"sip:{address.with_default_port(transport)};transport={transport.value}"


def is_sip_uri(text: str) -> bool:
    return text.lower().startswith(("sip:", "sips:"))


def add_transport_param(uri: str, transport: Transport) -> str:
    """``uri`` with ``;transport=`` for TCP/TLS unless it already names one (UDP is default)."""
    if transport in (Transport.UDP, Transport.AUTO) or ";transport=" in uri.lower():
        return uri
    head, sep, headers = uri.partition("?")
    return f"{head};transport={transport.value}{sep}{headers}"


def dial_uri(target: DialTarget | str) -> str:
    """The SIP URI to INVITE for a :class:`DialTarget`, a SIP URI, or a Zoom dial string.

    H.323 targets (``IP##MEETING...``) are refused with a one-line explanation.
    """
    if isinstance(target, str):
        text = target.strip()
        if is_sip_uri(text) and "##" not in text:
            if "@" not in text and not text.partition(":")[2]:
                raise SipConfigError(f"bad SIP URI {text!r}")
            return text
        try:
            target = parse(text)
        except DialStringError as exc:
            raise SipConfigError(f"not a SIP URI or Zoom dial string: {exc}") from None
    if target.protocol != "sip":
        raise SipConfigError(
            f"{target.dial_string()!r} is an H.323 dial string; the SIP core cannot dial it "
            "(H.323 calls are not wired into crcgw dial yet)"
        )
    return target.sip_uri()
