"""Host/port strings, registrar URIs and call targets (pure string work, no DNS).

>>> parse_host_port("[::1]:5070")
HostPort(host='::1', port=5070)
>>> registrar_uri(parse_host_port("127.0.0.1"), Transport.TLS)
'sip:127.0.0.1:5061;transport=tls'
"""

from __future__ import annotations

import ipaddress
import re
from typing import NamedTuple

from signaling.dialstring import DialStringError, DialTarget, parse
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

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


class HostPort(NamedTuple):
    host: str
    port: int | None = None

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def is_ip(self) -> bool:
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True

    def host_literal(self) -> str:
        """The host as it appears in a URI (IPv6 in brackets)."""
        return f"[{self.host}]" if self.is_ipv6 else self.host

    def with_default_port(self, transport: Transport) -> HostPort:
        return self if self.port is not None else self._replace(port=transport.default_port)

    def __str__(self) -> str:
        literal = self.host_literal()
        return literal if self.port is None else f"{literal}:{self.port}"


def _port(text: str, original: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SipConfigError(f"bad port in {original!r}: must be 1-65535")
    return int(text)


def parse_host_port(text: str) -> HostPort:
    """``HOST``, ``HOST:PORT``, ``[IPv6]``, ``[IPv6]:PORT`` or a bare IPv6 address."""
    value = text.strip()
    if not value:
        raise SipConfigError("empty address: expected HOST[:PORT]")
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            raise SipConfigError(f"bad address {text!r}: missing ']'")
        host, rest = value[1:end], value[end + 1 :]
        _check_ip6(host, text)
        if not rest:
            return HostPort(host)
        if not rest.startswith(":"):
            raise SipConfigError(f"bad address {text!r}: expected ':PORT' after ']'")
        return HostPort(host, _port(rest[1:], text))
    if value.count(":") > 1:
        _check_ip6(value, text)
        return HostPort(value)
    host, _, port = value.partition(":")
    if not (_HOSTNAME.match(host) or _is_ip4(host)):
        raise SipConfigError(f"bad host {host!r} in {text!r}")
    return HostPort(host, _port(port, text) if port else None)


def _is_ip4(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


def _check_ip6(host: str, original: str) -> None:
    try:
        if ipaddress.ip_address(host).version != 6:
            raise ValueError
    except ValueError:
        raise SipConfigError(f"bad IPv6 address in {original!r}") from None


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
