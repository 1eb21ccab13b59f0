"""Validation of each dial-string field, with messages that name the field and its rule.

The rules, from Zoom support articles, Zoom invitations and room-system macros:

- meeting ID: 9 to 11 digits (9 for meetings scheduled before 2020-04-12, 10 for personal meeting
  IDs, 11 for the rest); builders accept the spaces and dashes people type (``123 4567 8901``);
- passcode: the numeric room-system passcode (Zoom's ``h323_password``), 1 to 10 digits; never
  the alphanumeric web passcode;
- layout: a numeric code of 1 to 4 digits (11, 308, 505, 608, ...);
- host key: 6 to 10 digits;
- host: ``zoomcrc.com``, ``global.zoomcrc.com``, a CRC IPv4 address, a bracketed IPv6 address or
  another DNS name; port 1 to 65535.
"""

from __future__ import annotations

import re
from functools import lru_cache

from signaling import hostport
from signaling.dialstring._errors import DialStringError
from signaling.hostport import PORT_RULE, HostPortError

__all__ = [
    "check_host",
    "check_host_key",
    "check_layout",
    "check_meeting_id",
    "check_params",
    "check_passcode",
    "check_port",
    "normalise_meeting_id",
    "optional",
]

MEETING_ID_RULE = "must be 9 to 11 digits"
PASSCODE_RULE = "must be 1 to 10 digits (the numeric room-system passcode, not the web passcode)"
LAYOUT_RULE = "must be a numeric layout code of 1 to 4 digits (e.g. 11, 308, 505, 608)"
HOST_KEY_RULE = "must be 6 to 10 digits"

_MEETING_ID = re.compile(r"\d{9,11}")
_PASSCODE = re.compile(r"\d{1,10}")
_LAYOUT = re.compile(r"\d{1,4}")
_HOST_KEY = re.compile(r"\d{6,10}")
_TYPED_SEPARATORS = re.compile(r"[\s\-]+")
_PARAM = re.compile(r"[A-Za-z0-9\-_.!~*'()%]+(?:=[A-Za-z0-9\-_.!~*'()%\[\]/:&+$]*)?")


def optional(value: str | None) -> str | None:
    """An empty field is an absent field."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalise_meeting_id(value: str | int) -> str:
    """Accept ``123 4567 8901``, ``123-4567-8901`` or an int, return ``12345678901``."""
    text = _TYPED_SEPARATORS.sub("", str(value))
    return check_meeting_id(text)


def check_meeting_id(value: str) -> str:
    if not _MEETING_ID.fullmatch(value):
        rule = MEETING_ID_RULE
        if _TYPED_SEPARATORS.search(value) and _MEETING_ID.fullmatch(
            _TYPED_SEPARATORS.sub("", value)
        ):
            rule += " with no spaces or dashes inside a dial string"
        elif value == "":
            rule += " and may not be empty"
        raise DialStringError("meeting_id", rule, value)
    return value


def check_passcode(value: str | None) -> str | None:
    if value is not None and not _PASSCODE.fullmatch(value):
        raise DialStringError("passcode", PASSCODE_RULE, value)
    return value


def check_layout(value: str | None) -> str | None:
    if value is not None and not _LAYOUT.fullmatch(value):
        raise DialStringError("layout", LAYOUT_RULE, value)
    return value


def check_host_key(value: str | None) -> str | None:
    if value is not None and not _HOST_KEY.fullmatch(value):
        raise DialStringError("host_key", HOST_KEY_RULE, value)
    return value


def check_port(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        return hostport.check_port(value)
    except HostPortError as exc:
        raise DialStringError("port", PORT_RULE, str(value)) from exc


@lru_cache(maxsize=4096)
def check_host(value: str) -> str:
    """Validate a host (DNS name, IPv4, ``[IPv6]``) and return its canonical spelling, by the
    project's one address reader (:mod:`signaling.hostport`).

    IPv6 is canonicalised (``[2001:DB8::0001]`` -> ``[2001:db8::1]``) and DNS names lowercased, so
    targets that dial the same place compare equal. Cached: hosts repeat in every batch.
    """
    if not value:
        raise DialStringError("host", "is missing: a dial string needs the CRC host or IP", value)
    try:
        host = hostport.canonical_host(value)
    except HostPortError as exc:
        raise DialStringError(exc.field, exc.rule, value) from None
    return f"[{host}]" if ":" in host else host


def check_params(value: str) -> str:
    """URI parameters (``;transport=tls;x=y``), kept exactly as written."""
    if not value:
        return ""
    if not value.startswith(";"):
        raise DialStringError("params", "URI parameters must start with ';'", value)
    for item in value[1:].split(";"):
        if not _PARAM.fullmatch(item):
            raise DialStringError("params", "is not a valid URI parameter", ";" + item)
    return value
