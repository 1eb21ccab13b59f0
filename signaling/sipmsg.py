"""Small, lenient SIP message reading for capture analysis (no I/O).

Captures contain whatever endpoints sent, so nothing here raises on odd input: a message whose
start line cannot be read is kept with ``kind == "unknown"``. Headers keep their order; compact
forms (RFC 3261 section 7.3.3) are expanded. The grammar (start lines, header lines, tags, URIs,
CSeq) is :mod:`signaling.sip.grammar`, shared with the strict reader of the redirect server
(:mod:`signaling.sip.request`). Also reads the parts of an SDP body the analysis needs
(RFC 4566: connection address, media ports and ``rtpmap``) and DTMF carried in SIP INFO bodies
(``application/dtmf-relay`` and ``application/dtmf``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from signaling.sip.grammar import (
    COMPACT_FORMS,
    LENIENT_REQUEST_LINE,
    STATUS_LINE,
    cseq_parts,
    parse_headers,
    split_head_body,
    tag_of,
    uri_of,
)

__all__ = [
    "SdpMedia",
    "SdpSummary",
    "SipMessage",
    "info_dtmf",
    "parse_sdp",
]

_REQUEST = LENIENT_REQUEST_LINE
_STATUS = STATUS_LINE


_T = TypeVar("_T")


class cached_property(Generic[_T]):  # noqa: N801 - used like functools.cached_property
    """functools.cached_property without its per-access lock (Python 3.11 takes one on every
    read before the value is cached): the first read stores the value in the instance, which
    then shadows this non-data descriptor."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> cached_property[_T]: ...
    @overload
    def __get__(self, obj: object, objtype: type | None = None) -> _T: ...
    def __get__(self, obj: object | None, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.func(obj)
        obj.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class SipMessage:
    """One SIP message seen on the wire, with where and when it was seen."""

    time_s: float
    src: str
    dst: str
    transport: str
    start_line: str
    header_block: str
    """The header lines as received; parsed on first use (:attr:`headers`), so the many
    messages of which only the Call-ID and CSeq are read stay cheap."""
    body: bytes = b""
    frame: int = 0

    @classmethod
    def parse(
        cls,
        data: bytes | str,
        *,
        time_s: float = 0.0,
        src: str = "",
        dst: str = "",
        transport: str = "UDP",
        frame: int = 0,
    ) -> SipMessage:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        head, body = split_head_body(raw)
        text = head.decode("utf-8", "replace")
        start, _, block = text.partition("\n")
        return cls(
            time_s=time_s,
            src=src,
            dst=dst,
            transport=transport,
            start_line=start.strip(),
            header_block=block,
            body=body,
            frame=frame,
        )

    @classmethod
    def from_parts(
        cls,
        start_line: str,
        header_block: str,
        body: bytes,
        *,
        time_s: float,
        src: str,
        dst: str,
        transport: str,
        frame: int,
    ) -> SipMessage:
        return cls(time_s, src, dst, transport, start_line.strip(), header_block, body, frame)

    # --- start line -------------------------------------------------------------------------
    @cached_property
    def kind(self) -> str:
        """``"request"``, ``"response"`` or ``"unknown"``."""
        if _STATUS.match(self.start_line):
            return "response"
        if _REQUEST.match(self.start_line):
            return "request"
        return "unknown"

    @cached_property
    def method(self) -> str | None:
        m = _REQUEST.match(self.start_line)
        return m.group(1).upper() if m else None

    @cached_property
    def status_code(self) -> int | None:
        m = _STATUS.match(self.start_line)
        return int(m.group(2)) if m else None

    @cached_property
    def reason(self) -> str:
        m = _STATUS.match(self.start_line)
        return (m.group(3) or "").strip() if m else ""

    # --- headers ----------------------------------------------------------------------------
    @cached_property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """``(lower-case full name, value)`` pairs in order, compact forms expanded."""
        return parse_headers(self.header_block)

    @cached_property
    def first_values(self) -> dict[str, str]:
        """The first value of every header, by lower-case full name (one pass over the block:
        cheaper than a search per header once a few are read, as every call summary does)."""
        out: dict[str, str] = {}
        for hname, value in self.headers:
            out.setdefault(hname, value)
        return out

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive, compact forms understood)."""
        key = name.lower()
        return self.first_values.get(COMPACT_FORMS.get(key, key))

    def header_values(self, name: str) -> list[str]:
        key = name.lower()
        return [value for hname, value in self.headers if hname == key]

    @cached_property
    def call_id(self) -> str:
        return self.header("call-id") or ""

    @cached_property
    def cseq(self) -> tuple[int, str]:
        """``(number, METHOD)``; ``(-1, "")`` when missing or unreadable."""
        number, method = cseq_parts(self.header("cseq") or "")
        return number, method.upper()

    @cached_property
    def from_uri(self) -> str:
        return uri_of(self.header("from") or "")

    @cached_property
    def to_uri(self) -> str:
        return uri_of(self.header("to") or "")

    @cached_property
    def from_tag(self) -> str | None:
        return tag_of(self.header("from") or "") or None

    @cached_property
    def to_tag(self) -> str | None:
        return tag_of(self.header("to") or "") or None

    @cached_property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()

    @cached_property
    def has_sdp(self) -> bool:
        return self.content_type == "application/sdp" and bool(self.body.strip())

    @cached_property
    def label(self) -> str:
        """Short text for a ladder arrow: ``INVITE (SDP)``, ``180 Ringing``, ``INFO dtmf 5``."""
        if self.kind == "response":
            text = f"{self.status_code} {self.reason}".strip()
        elif self.kind == "request":
            text = self.method or "?"
            digits = info_dtmf(self)
            if digits:
                text += f" dtmf {digits}"
        else:
            text = self.start_line[:24] or "(unreadable)"
        if self.has_sdp:
            text += " (SDP)"
        return text


@dataclass(frozen=True)
class SdpMedia:
    media: str
    address: str
    port: int
    protocol: str
    formats: tuple[int, ...]


@dataclass(frozen=True)
class SdpSummary:
    """What an SDP offer or answer says about where media goes and what payload types mean."""

    media: tuple[SdpMedia, ...]
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)

    def endpoints(self) -> set[tuple[str, int]]:
        return {(m.address, m.port) for m in self.media if m.port > 0}


def parse_sdp(body: bytes | str) -> SdpSummary:
    """Read ``c=``, ``m=`` and ``a=rtpmap`` lines; anything else is ignored."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    session_addr = ""
    media: list[list[Any]] = []  # [kind, address, port, protocol, formats] until the end
    rtpmap: dict[int, tuple[str, int]] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:].strip()
        if kind == "c":
            parts = value.split()
            addr = parts[2].split("/", 1)[0] if len(parts) >= 3 else ""
            if media:
                media[-1][1] = addr
            else:
                session_addr = addr
        elif kind == "m":
            parts = value.split()
            if len(parts) < 3:
                continue
            port = int(parts[1].split("/", 1)[0]) if parts[1].split("/", 1)[0].isdigit() else 0
            formats = tuple(int(p) for p in parts[3:] if p.isdigit())
            media.append([parts[0], "", port, parts[2], formats])
        elif kind == "a" and value[:7].lower() == "rtpmap:":
            pt_text, _, encoding = value[7:].partition(" ")
            if not pt_text.strip().isdigit():
                continue
            name, _, rest = encoding.strip().partition("/")
            clock_text = rest.split("/", 1)[0]
            clock = int(clock_text) if clock_text.isdigit() else 0
            rtpmap[int(pt_text)] = (name, clock)
    return SdpSummary(
        media=tuple(SdpMedia(m[0], m[1] or session_addr, m[2], m[3], m[4]) for m in media),
        rtpmap=rtpmap,
    )


_RELAY_SIGNAL = re.compile(r"^\s*signal\s*=\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def info_dtmf(message: SipMessage) -> str:
    """Digits carried by a SIP INFO (``application/dtmf-relay`` ``Signal=5``, or
    ``application/dtmf`` with the digit as the body); ``""`` for anything else."""
    if message.method != "INFO":
        return ""
    body = message.body.decode("utf-8", "replace")
    ctype = message.content_type
    if ctype == "application/dtmf-relay":
        m = _RELAY_SIGNAL.search(body)
        return _dtmf_char(m.group(1)) if m else ""
    if ctype == "application/dtmf":
        return _dtmf_char(body.strip())
    return ""


def _dtmf_char(value: str) -> str:
    value = value.strip()
    if value.isdigit() and int(value) < 16:
        return "0123456789*#ABCD"[int(value)]
    if len(value) == 1 and value.upper() in "0123456789*#ABCD":
        return value.upper()
    return ""
