"""SDP media sections as a room system or a hostile peer sends them, read without raising.

:func:`parse_sdp` reads every ``m=`` section of an offer or answer (or of a whole SIP message
carrying one): port, protocol, formats with rtpmap/fmtp/rtcp-fb, connection address (media or
session level), RTCP port, direction, bandwidth, ``a=content``. A line it cannot read is
skipped and named in ``problems``; at most 32 sections and 64 formats each are kept, bodies
over 64 KiB are ignored. :func:`main_video` picks the main camera stream.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

__all__ = [
    "DIRECTIONS",
    "MAX_SDP_BYTES",
    "MediaSection",
    "RtpFormat",
    "SdpMessage",
    "main_video",
    "parse_sdp",
]

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
MAX_SDP_BYTES = 64 * 1024
"""Longer SDP bodies are not parsed (a room system's is ~2 kB)."""
_MAX_SECTIONS = 32
_MAX_FORMATS = 64


@dataclass(frozen=True)
class RtpFormat:
    payload_type: int
    codec: str
    """Encoding name, upper case (``H264``, ``VP8``, ``H263``, ...)."""
    clock_rate: int
    fmtp: tuple[tuple[str, str], ...] = ()
    rtcp_fb: tuple[str, ...] = ()

    def param(self, name: str) -> str | None:
        for key, value in self.fmtp:
            if key == name:
                return value
        return None

    def fmtp_text(self) -> str:
        return ";".join(f"{k}={v}" for k, v in self.fmtp)


@dataclass(frozen=True)
class MediaSection:
    index: int
    kind: str
    port: int
    proto: str
    formats: tuple[RtpFormat, ...]
    host: str | None
    """Connection address (media level, else session level); ``None`` if none was given."""
    rtcp_port: int
    direction: str
    bandwidth_kbps: int | None
    content: str | None
    """``a=content`` (RFC 4796): ``main``, ``slides`` (a room system's presentation), ..."""

    @property
    def rejected(self) -> bool:
        return self.port == 0

    @property
    def on_hold_address(self) -> bool:
        """RFC 2543 hold: ``c=IN IP4 0.0.0.0`` (send nothing there)."""
        return self.host in ("0.0.0.0", "::")


@dataclass(frozen=True)
class SdpMessage:
    sections: tuple[MediaSection, ...]
    problems: tuple[str, ...] = ()
    """Lines that were skipped, for the log."""


# -- parsing -----------------------------------------------------------------------------------

_M_LINE = re.compile(r"^m=(\w+) (\d{1,5})(?:/\d+)? (\S+)((?: \S+)*)$")
_C_LINE = re.compile(r"^c=IN IP[46] ([0-9A-Fa-f.:]+)(?:/\d+)*$")
_RTPMAP = re.compile(r"^a=rtpmap:(\d{1,3}) ([\w.-]+)/(\d{1,6})(?:/\d+)?$")
_FMTP = re.compile(r"^a=fmtp:(\d{1,3}) (.*)$")
_RTCP_FB = re.compile(r"^a=rtcp-fb:(\d{1,3}|\*) (.+)$")
_RTCP = re.compile(r"^a=rtcp:(\d{1,5})\b")
_BW = re.compile(r"^b=(AS|TIAS):(\d{1,10})$")
# Static payload types a room system offers for video without rtpmap (RFC 3551).
_STATIC_VIDEO = {26: ("JPEG", 90000), 31: ("H261", 90000), 32: ("MPV", 90000), 34: ("H263", 90000)}


def _host(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _fmtp_pairs(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in text.split(";")[:32]:
        key, sep, value = item.strip().partition("=")
        if key and sep:
            pairs.append((key.strip().lower(), value.strip()))
    return tuple(pairs)


@dataclass
class _Draft:
    index: int
    kind: str
    port: int
    proto: str
    pts: list[int]
    host: str | None = None
    rtcp_port: int | None = None
    direction: str | None = None
    bandwidth: int | None = None
    content: str | None = None
    rtpmap: dict[int, tuple[str, int]] = field(default_factory=dict)
    fmtp: dict[int, str] = field(default_factory=dict)
    fb: dict[int | None, list[str]] = field(default_factory=dict)


def parse_sdp(text: str) -> SdpMessage:
    """Every ``m=`` section of ``text`` (an SDP body, or a whole SIP message with one).

    Never raises on content: what cannot be read is skipped and named in ``problems``.
    """
    if len(text) > MAX_SDP_BYTES:
        return SdpMessage((), (f"SDP of {len(text)} bytes ignored (limit {MAX_SDP_BYTES})",))
    body = _body(text)
    problems: list[str] = []
    session_host: str | None = None
    session_dir = "sendrecv"
    drafts: list[_Draft] = []
    for raw in body.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("m="):
            if len(drafts) >= _MAX_SECTIONS:
                problems.append(f"more than {_MAX_SECTIONS} m= sections: the rest ignored")
                break
            m = _M_LINE.match(line)
            if m is None:
                problems.append(f"skipped {line[:80]!r}")
                # a section we cannot read still takes its index, so answers stay aligned
                drafts.append(_Draft(len(drafts), "?", 0, "?", []))
                continue
            pts = [int(f) for f in m.group(4).split() if f.isdigit() and int(f) < 128]
            drafts.append(
                _Draft(len(drafts), m.group(1), int(m.group(2)), m.group(3), pts[:_MAX_FORMATS])
            )
            continue
        cur = drafts[-1] if drafts else None
        if line.startswith("c="):
            c = _C_LINE.match(line)
            host = _host(c.group(1)) if c else None
            if host is None:
                problems.append(f"skipped {line[:80]!r}")
            elif cur is None:
                session_host = host
            else:
                cur.host = host
        elif line[2:] in DIRECTIONS and line.startswith("a="):
            if cur is None:
                session_dir = line[2:]
            else:
                cur.direction = line[2:]
        elif cur is not None:
            _attribute(cur, line, problems)
    sections = tuple(_finish(d, session_host, session_dir) for d in drafts)
    return SdpMessage(sections, tuple(problems[:20]))


def _body(text: str) -> str:
    """The SDP of a SIP message (after the blank line), or ``text`` itself."""
    if text.startswith("v=") or "\nv=0" not in text:
        return text
    for sep in ("\r\n\r\n", "\n\n"):
        head, found, rest = text.partition(sep)
        if found and "v=0" in rest:
            return rest
    return text


def _attribute(cur: _Draft, line: str, problems: list[str]) -> None:
    if line.startswith("a=rtpmap:"):
        m = _RTPMAP.match(line)
        if m is None:
            problems.append(f"skipped {line[:80]!r}")
        else:
            cur.rtpmap[int(m.group(1))] = (m.group(2).upper(), int(m.group(3)))
    elif line.startswith("a=fmtp:"):
        m = _FMTP.match(line)
        if m is not None:
            cur.fmtp[int(m.group(1))] = m.group(2)[:512]
    elif line.startswith("a=rtcp-fb:"):
        m = _RTCP_FB.match(line)
        if m is not None:
            pt = None if m.group(1) == "*" else int(m.group(1))
            cur.fb.setdefault(pt, []).append(" ".join(m.group(2).split())[:40])
    elif line.startswith("a=rtcp:"):
        m = _RTCP.match(line)
        if m is not None and 0 < int(m.group(1)) < 65536:
            cur.rtcp_port = int(m.group(1))
    elif line.startswith("a=content:"):
        cur.content = line[len("a=content:") :].strip().lower()[:40]
    elif line.startswith("b="):
        m = _BW.match(line)
        if m is not None:
            kbps = int(m.group(2)) if m.group(1) == "AS" else int(m.group(2)) // 1000
            cur.bandwidth = kbps if cur.bandwidth is None else min(cur.bandwidth, kbps)


def _finish(d: _Draft, session_host: str | None, session_dir: str) -> MediaSection:
    formats = []
    for pt in d.pts:
        if pt in d.rtpmap:
            codec, clock = d.rtpmap[pt]
        elif pt in _STATIC_VIDEO and d.kind == "video":
            codec, clock = _STATIC_VIDEO[pt]
        else:
            continue  # a dynamic type without rtpmap: unusable
        fb = tuple(d.fb.get(pt, []) + d.fb.get(None, []))
        formats.append(RtpFormat(pt, codec, clock, _fmtp_pairs(d.fmtp.get(pt, "")), fb))
    port = d.port if 0 <= d.port < 65536 else 0
    rtcp = d.rtcp_port if d.rtcp_port is not None else (port + 1 if port else 0)
    return MediaSection(
        d.index,
        d.kind,
        port,
        d.proto,
        tuple(formats),
        d.host or session_host,
        rtcp,
        d.direction or session_dir,
        d.bandwidth,
        d.content,
    )


def main_video(message: SdpMessage) -> MediaSection | None:
    """The main camera stream: the first ``m=video`` that is not ``a=content:slides``."""
    videos = [s for s in message.sections if s.kind == "video"]
    for section in videos:
        if section.content in (None, "main", "alt"):
            return section
    return None
