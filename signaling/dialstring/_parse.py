"""parse(): any Zoom SIP or H.323 dial string to a :class:`DialTarget`.

One anchored regular expression per protocol accepts every valid string and extracts its fields;
only the host goes through a (cached) second check. When the fast pattern does not match, a slow
path walks the fields one by one to say which field broke which rule.

Accepted on top of the canonical forms: a ``sip:``/``sips:`` scheme (any case), surrounding
whitespace, ``<…>`` brackets, and trailing empty fields (``123456789.@zoomcrc.com`` as the Cisco
JoinZoom macro dials it), all normalised away.
"""

from __future__ import annotations

import re

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._fields import (
    check_host,
    check_host_key,
    check_layout,
    check_meeting_id,
    check_params,
    check_passcode,
    check_port,
)
from signaling.dialstring._target import DialTarget, Scheme

__all__ = ["parse", "split_host_port"]

_HOST = r"(\[[^\]\s]*\]|[^\s@:;#\[\]/?]+)"
_SIP_FAST = re.compile(
    r"(?:(sips?|SIPS?):)?"
    r"(\d{9,11})(?:\.(\d{0,10})(?:\.(\d{0,4})(?:\.(\d{6,10})?)?)?)?"
    rf"@{_HOST}(?::(\d{{1,5}}))?((?:;[^;\s?]+)*)"
)
_H323_FAST = re.compile(
    rf"{_HOST}(?::(\d{{1,5}}))?"
    r"##(\d{9,11})(?:#(\d{0,10})(?:#(\d{0,4})(?:#(\d{6,10})?)?)?)?"
)
_SCHEME = re.compile(r"(?i)(sips?):")
_HOST_PORT = re.compile(r"(\[[^\]]*\]|[^:]*)(?::(.*))?")
_FIELD_NAMES = ("meeting_id", "passcode", "layout", "host_key")


def parse(text: str) -> DialTarget:
    """Parse a SIP (``MID.PASS@HOST``) or H.323 (``IP##MID#PASS``) dial string.

    Raises :class:`DialStringError` naming the field and the rule it broke.
    """
    if not isinstance(text, str):
        raise DialStringError("dial_string", "must be text", repr(text))
    match = _SIP_FAST.fullmatch(text)
    if match is not None:
        scheme, mid, passcode, layout, host_key, host, port, params = match.groups()
        return DialTarget(
            "sip",
            mid,
            passcode or None,
            layout or None,
            host_key,
            check_host(host),
            None if port is None else check_port(port),
            check_params(params) if params else "",
            "sips" if scheme is not None and scheme.lower() == "sips" else "sip",
        )
    match = _H323_FAST.fullmatch(text)
    if match is not None:
        host, port, mid, passcode, layout, host_key = match.groups()
        return DialTarget(
            "h323",
            mid,
            passcode or None,
            layout or None,
            host_key,
            check_host(host),
            None if port is None else check_port(port),
        )
    return _parse_slowly(text)


def _parse_slowly(text: str) -> DialTarget:
    """Normalise what people paste, then check field by field for a precise error."""
    stripped = text.strip()
    if stripped.startswith("<") and stripped.endswith(">"):
        stripped = stripped[1:-1].strip()
    if not stripped:
        raise DialStringError("dial_string", "is empty", text)
    if stripped != text:
        return parse(stripped)
    if "##" in stripped:
        return _parse_h323(stripped)
    if "@" in stripped:
        return _parse_sip(stripped)
    raise DialStringError(
        "dial_string",
        "is neither SIP (MEETING[.PASSCODE…]@HOST) nor H.323 (HOST##MEETING[#PASSCODE…])",
        text,
    )


def _check_fields(fields: list[str], separator: str) -> tuple[str, ...]:
    if len(fields) > 4:
        layout = separator.join(("MEETING", "PASSCODE", "LAYOUT", "HOSTKEY"))
        raise DialStringError(
            "dial_string", f"has {len(fields)} fields, at most 4 ({layout})", separator.join(fields)
        )
    fields = fields + [""] * (4 - len(fields))
    mid, passcode, layout, host_key = fields
    check_meeting_id(mid)
    check_passcode(passcode or None)
    check_layout(layout or None)
    check_host_key(host_key or None)
    return mid, passcode, layout, host_key


def split_host_port(text: str) -> tuple[str, int | None]:
    """``HOST[:PORT]`` (``[v6]:port`` for IPv6) -> canonical host and port, or DialStringError."""
    if text.count(":") > 1 and not text.startswith("["):
        check_host(text)  # raises: an IPv6 address must be written in brackets
    match = _HOST_PORT.fullmatch(text)
    assert match is not None  # the pattern accepts any text
    host, port = match.groups()
    return check_host(host), check_port(port) if port is not None else None


def _parse_sip(text: str) -> DialTarget:
    scheme: Scheme = "sip"
    match = _SCHEME.match(text)
    if match is not None:
        scheme = "sips" if match.group(1).lower() == "sips" else "sip"
        text = text[match.end() :]
    elif ":" in text.split("@", 1)[0]:
        raise DialStringError("scheme", "must be sip: or sips:", text.split(":", 1)[0])
    if "?" in text:
        raise DialStringError("params", "URI headers ('?…') are not part of a dial string", text)
    if text.count("@") > 1:
        raise DialStringError("dial_string", "has more than one '@'", text)
    user, rest = text.split("@", 1)
    hostport, _, params = rest.partition(";")
    fields = _check_fields(user.split("."), ".")
    host, port = split_host_port(hostport)
    return DialTarget(
        "sip",
        fields[0],
        fields[1] or None,
        fields[2] or None,
        fields[3] or None,
        host,
        port,
        check_params(";" + params if params else ""),
        scheme,
    )


def _parse_h323(text: str) -> DialTarget:
    hostport, _, user = text.partition("##")
    if not hostport:
        raise DialStringError(
            "host", "is missing: an H.323 dial string starts with the CRC IP (IP##MEETING)", text
        )
    host, port = split_host_port(hostport)
    fields = _check_fields(user.split("#"), "#")
    return DialTarget(
        "h323",
        fields[0],
        fields[1] or None,
        fields[2] or None,
        fields[3] or None,
        host,
        port,
    )
