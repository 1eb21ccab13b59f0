"""parse(): any Zoom SIP or H.323 dial string to a :class:`DialTarget`.

The fast path uses only C-level string methods (``partition``, ``split``, ``isdigit``) to cut
and check the fields, and validates the host part (host, port, URI parameters) once per distinct
spelling: a batch of thousands of strings names a handful of hosts. Whatever the fast path does
not accept outright goes to a slow path that normalises what people paste and walks the fields
one by one to say which field broke which rule.

Accepted on top of the canonical forms: a ``sip:``/``sips:`` scheme (any case), surrounding
whitespace, ``<…>`` brackets, and trailing empty fields (``123456789.@zoomcrc.com`` as the Cisco
JoinZoom macro dials it), all normalised away.
"""

from __future__ import annotations

import re

from signaling.dialstring._errors import DialStringError
from signaling.dialstring._fields import (
    check_host_key,
    check_layout,
    check_meeting_id,
    check_params,
    check_passcode,
)
from signaling.dialstring._target import DialTarget, Scheme
from signaling.hostport import HostPortError, parse_host_port

__all__ = ["parse", "split_host_port"]

_SCHEME = re.compile(r"(?i)(sips?):")
_CACHE_LIMIT = 4096
_SIP_HOST_PARTS: dict[str, tuple[str, int | None, str]] = {}
_H323_HOST_PARTS: dict[str, tuple[str, int | None]] = {}
_new_target = tuple.__new__
_SIP_PREFIXES = ("sip:", "SIP:")
_SIPS_PREFIXES = ("sips:", "SIPS:")
_PADDING: tuple[list[str], ...] = ([], ["", "", ""], ["", ""], [""], [])


def _remember(cache: dict[str, object], key: str, value: object) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _sip_host_part(rest: str) -> tuple[str, int | None, str]:
    """``HOST[:PORT][;params]`` after the ``@``, validated once per spelling."""
    known = _SIP_HOST_PARTS.get(rest)
    if known is not None:
        return known
    if "@" in rest or "?" in rest or any(c.isspace() for c in rest):
        raise DialStringError("dial_string", "needs the slow path", rest)
    hostport, _, params = rest.partition(";")
    host, port = split_host_port(hostport)
    value = (host, port, check_params(";" + params) if params else "")
    _remember(_SIP_HOST_PARTS, rest, value)  # type: ignore[arg-type]
    return value


def _h323_host_part(hostport: str) -> tuple[str, int | None]:
    known = _H323_HOST_PARTS.get(hostport)
    if known is not None:
        return known
    if any(c.isspace() for c in hostport):
        raise DialStringError("dial_string", "needs the slow path", hostport)
    value = split_host_port(hostport)
    _remember(_H323_HOST_PARTS, hostport, value)  # type: ignore[arg-type]
    return value


def parse(text: str) -> DialTarget:
    """Parse a SIP (``MID.PASS@HOST``) or H.323 (``IP##MID#PASS``) dial string.

    Raises :class:`DialStringError` naming the field and the rule it broke.
    """
    # Fast path, inlined on purpose (it is the hot loop of batch jobs): the user part must be
    # ASCII digits and separators only, then each field's length is checked: meeting ID 9-11,
    # passcode <= 10, layout <= 4, host key 0 or 6-10, at most four fields.
    try:
        user, at, rest = text.partition("@")
    except AttributeError:
        raise DialStringError("dial_string", "must be text", repr(text)) from None
    try:
        if at:
            scheme = "sip"
            if user.startswith(_SIP_PREFIXES):
                user = user[4:]
            elif user.startswith(_SIPS_PREFIXES):
                user, scheme = user[5:], "sips"
            fields = user.split(".")
            count = len(fields)
            if count <= 4 and user.isascii() and user.replace(".", "").isdigit():
                fields += _PADDING[count]
                mid, passcode, layout, host_key = fields
                if (
                    9 <= len(mid) <= 11
                    and len(passcode) <= 10
                    and len(layout) <= 4
                    and (not host_key or 6 <= len(host_key) <= 10)
                ):
                    host, port, params = _SIP_HOST_PARTS.get(rest) or _sip_host_part(rest)
                    return _new_target(
                        DialTarget,
                        ("sip", mid, passcode or None, layout or None, host_key or None,
                         host, port, params, scheme),
                    )
        else:
            hostport, hashes, user = text.partition("##")
            fields = user.split("#")
            count = len(fields)
            if hashes and count <= 4 and user.isascii() and user.replace("#", "").isdigit():
                fields += _PADDING[count]
                mid, passcode, layout, host_key = fields
                if (
                    9 <= len(mid) <= 11
                    and len(passcode) <= 10
                    and len(layout) <= 4
                    and (not host_key or 6 <= len(host_key) <= 10)
                ):
                    host, port = _H323_HOST_PARTS.get(hostport) or _h323_host_part(hostport)
                    return _new_target(
                        DialTarget,
                        ("h323", mid, passcode or None, layout or None, host_key or None,
                         host, port, "", "sip"),
                    )
    except DialStringError:
        pass  # the slow path explains it
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
    """``HOST[:PORT]`` (``[v6]:port`` for IPv6) -> canonical host (IPv6 in brackets) and port,
    read by the project's one address reader (:mod:`signaling.hostport`), or DialStringError."""
    try:
        address = parse_host_port(text)
    except HostPortError as exc:
        raise DialStringError(exc.field, exc.rule, text) from None
    return address.host_literal(), address.port


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
