"""The one ``HOST[:PORT]`` reader of the project (pure string work, no DNS).

Every place that takes an address from a person or a peer reads it here: the dial-string
grammar, the SIP core's registrars and proxies, the configuration file (registrars, HTTP and
SIP listeners), the H.323 command line. One set of rules, one set of messages:

- host: a DNS name (letters, digits, ``-`` and ``.``; lower-cased, trailing dot dropped), an IPv4
  address, or an IPv6 address in brackets (``[2001:db8::1]``, written back compressed). A bare
  IPv6 address is taken only where the caller allows it (``bare_ipv6=True``), and then never
  with a port: ``2001:db8::1:5060`` is an address, not an address and a port;
- port: digits, 1 to 65535 (0 too where the caller binds a socket: ``zero_port=True``);
  ``HOST:`` with nothing after the colon is refused rather than read as "no port".

>>> parse_host_port("[2001:DB8::0001]:5061")
HostPort(host='2001:db8::1', port=5061)
>>> str(parse_host_port("PBX.example.com.", default_port=5060))
'pbx.example.com:5060'
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import NamedTuple, Protocol

__all__ = [
    "HostPort",
    "HostPortError",
    "canonical_host",
    "check_port",
    "parse_host_port",
]

PORT_RULE = "must be a number from 1 to 65535"
PORT_OR_ZERO_RULE = "must be a number from 0 to 65535"

_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_DNS_NAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_IPV4_LIKE = re.compile(r"[\d.]+")


class HostPortError(ValueError):
    """An address that cannot be read. ``field`` is ``"host"`` or ``"port"``, ``rule`` what it
    must be, ``value`` the text as given; the message reads ``"<field>: <rule> (got '<value>')"``
    (the same shape as :class:`signaling.dialstring.DialStringError`, which wraps it)."""

    def __init__(self, field: str, rule: str, value: str) -> None:
        self.field = field
        self.rule = rule
        self.value = value
        super().__init__(f"{field}: {rule} (got {value!r})")


class _HasDefaultPort(Protocol):
    @property
    def default_port(self) -> int: ...


class HostPort(NamedTuple):
    """A host (IPv6 without brackets) and an optional port."""

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
        """The host as written in a URI or an address (IPv6 in brackets)."""
        return f"[{self.host}]" if self.is_ipv6 else self.host

    def with_default_port(self, default: int | _HasDefaultPort) -> HostPort:
        """This address with ``default`` as its port when it has none (``default``: a port,
        or anything with a ``default_port``, such as a SIP transport)."""
        if self.port is not None:
            return self
        return self._replace(port=default if isinstance(default, int) else default.default_port)

    def __str__(self) -> str:
        literal = self.host_literal()
        return literal if self.port is None else f"{literal}:{self.port}"


@lru_cache(maxsize=4096)
def canonical_host(text: str, *, bare_ipv6: bool = False) -> str:
    """Validate a host without a port and return its canonical spelling, IPv6 without
    brackets. ``[v6]`` is always accepted; a bare IPv6 address only with ``bare_ipv6``.
    Cached: the same hosts come back in every batch and every configuration reload."""
    if not text:
        raise HostPortError("host", "is missing", text)
    if text.startswith("["):
        if not text.endswith("]"):
            raise HostPortError("host", "an IPv6 address must be closed by ']'", text)
        try:
            return ipaddress.IPv6Address(text[1:-1]).compressed
        except ValueError:
            raise HostPortError("host", "is not a valid IPv6 address", text) from None
    if ":" in text:
        try:
            address = ipaddress.IPv6Address(text)
        except ValueError:
            raise HostPortError("host", "is not a valid host name or address", text) from None
        if bare_ipv6:
            return address.compressed
        raise HostPortError(
            "host", f"an IPv6 address must be written in brackets: [{address.compressed}]", text
        )
    if _IPV4_LIKE.fullmatch(text):
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise HostPortError("host", "is not a valid IPv4 address", text) from None
    if len(text) > 253 or not _DNS_NAME.fullmatch(text):
        raise HostPortError(
            "host", "is not a valid host name (letters, digits, '-' and '.')", text
        )
    return text.lower().rstrip(".")


def check_port(text: str | int, *, zero_port: bool = False, original: str | None = None) -> int:
    """A port number from text or int; ``original`` is the whole address, for the message."""
    value = str(text)
    low = 0 if zero_port else 1
    if not value.isascii() or not value.isdigit() or not low <= int(value) <= 65535:
        rule = PORT_OR_ZERO_RULE if zero_port else PORT_RULE
        raise HostPortError("port", rule, original if original is not None else value)
    return int(value)


def parse_host_port(
    text: str,
    *,
    default_port: int | None = None,
    bare_ipv6: bool = False,
    zero_port: bool = False,
) -> HostPort:
    """``HOST``, ``HOST:PORT``, ``[IPv6]`` or ``[IPv6]:PORT`` (a bare IPv6 address too with
    ``bare_ipv6``) to a :class:`HostPort`; ``default_port`` when none is written.

    :class:`HostPortError` names what is wrong: a missing or unclosed bracket, an invalid
    address, a port that is empty, not a number or out of range.
    """
    value = text.strip()
    try:
        if value.startswith("["):
            end = value.find("]")
            if end < 0:
                raise HostPortError("host", "an IPv6 address must be closed by ']'", text)
            host_text, rest = value[: end + 1], value[end + 1 :]
            if rest and not rest.startswith(":"):
                raise HostPortError("host", "only ':PORT' may follow ']'", text)
        elif value.count(":") > 1:
            return HostPort(canonical_host(value, bare_ipv6=bare_ipv6), default_port)
        else:
            host_text, colon, port_text = value.partition(":")
            rest = colon + port_text
        host = canonical_host(host_text)
    except HostPortError as exc:  # name the whole address, not only its host
        raise HostPortError(exc.field, exc.rule, text) from None
    if not rest:
        return HostPort(host, default_port)
    if rest == ":":
        raise HostPortError("port", "is missing after ':'", text)
    return HostPort(host, check_port(rest[1:], zero_port=zero_port, original=text))
