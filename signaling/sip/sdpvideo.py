"""SDP video sections: what crcgw offers, how it answers, and what it reads from the far end.

Pure functions over text, no I/O. The pjsua2 wheel has no video, so crcgw writes the video
``m=`` section itself beside pjsua's audio (``signaling/pjsua/_video.py``):

- :func:`offer_section` writes our offer: H.264 (packetization-mode 1, ``profile-level-id``,
  ``max-fs``/``max-mbps`` from :func:`media.negotiation.h264_fmtp` for the room's size, rate
  and bitrate) and VP8 (``max-fr``/``max-fs``, RFC 7741), ``rtcp-fb`` nack / nack pli / ccm fir
  (RFC 4585, 5104), ``b=AS``/``b=TIAS`` and the direction. About 450 bytes.
- :func:`parse_sdp` (from :mod:`signaling.sip.sdpmedia`) reads every ``m=`` section of an
  offer or answer, tolerating what room systems send (H.263/H.261 static payload types, BFCP,
  a second ``content:slides`` video) and hostile text (a bad line is skipped, never raised).
- :func:`answer_offer` picks the codec from a remote offer (H.264 profile and level matched
  per RFC 6184 8.2.2, VP8), answers the direction per RFC 3264 6.1 and writes our answer.
- :func:`read_answer` reads the far end's answer to our offer.
- :func:`replace_section` puts a section in place of another one (by ``m=`` index).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from media.negotiation import H264_LEVELS, frame_macroblocks, h264_fmtp, h264_level
from media.params import MediaParams
from signaling.sip.sdpmedia import (
    DIRECTIONS,
    MediaSection,
    RtpFormat,
    SdpMessage,
    main_video,
    parse_sdp,
)

__all__ = [
    "DIRECTIONS",
    "MediaSection",
    "RtpFormat",
    "SdpMessage",
    "VideoNegotiation",
    "VideoSettings",
    "answer_direction",
    "answer_offer",
    "main_video",
    "offer_section",
    "parse_sdp",
    "read_answer",
    "rejected_section",
    "replace_section",
    "section_kinds",
]

CODECS = ("H264", "VP8")
_OFFER_PT = {"H264": 96, "VP8": 97}
_FEEDBACK = ("nack", "nack pli", "ccm fir")


@dataclass(frozen=True)
class VideoSettings:
    """What crcgw offers or accepts for video on one call.

    ``port`` is the local RTP port (RTCP on ``port + 1``); 0 lets the engine pick one when it
    answers. ``host`` is the address written in ``c=`` (``None``: the audio's).
    """

    width: int = 640
    height: int = 360
    framerate: int = 15
    bitrate_kbps: int = 512
    codecs: tuple[str, ...] = CODECS
    direction: str = "sendrecv"
    port: int = 0
    host: str | None = None
    max_level: str | None = None
    """Cap of the H.264 level offered; above it ``max-fs``/``max-mbps`` say the rest."""

    def __post_init__(self) -> None:
        for name, low, high in (
            ("width", 16, 4096),
            ("height", 16, 4096),
            ("framerate", 1, 60),
            ("bitrate_kbps", 16, 100000),
            ("port", 0, 65534),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(
                    f"video.{name}: expected an integer in {low}..{high}, got {value!r}"
                )
        bad = [c for c in self.codecs if c not in CODECS]
        if bad or not self.codecs:
            raise ValueError(
                f"video.codecs: expected some of {', '.join(CODECS)}, got {bad or '()'}"
            )
        if self.direction not in DIRECTIONS:
            raise ValueError(
                f"video.direction: expected one of {DIRECTIONS}, got {self.direction!r}"
            )
        if self.max_level is not None and self.max_level not in {lv.name for lv in H264_LEVELS}:
            raise ValueError(f"video.max_level: expected an H.264 level, got {self.max_level!r}")
        h264_level(self.width, self.height, self.framerate, self.bitrate_kbps)  # raises if none

    @classmethod
    def from_media_params(cls, params: MediaParams, **changes: Any) -> VideoSettings:
        """The settings of a room's media parameters (PortSIP room or Zoom CRC settings:
        size, framerate, bitrate), so that the offer's level, ``max-fs`` and ``max-mbps``
        follow the room."""
        fields: dict[str, Any] = {
            "width": params.width,
            "height": params.height,
            "framerate": params.framerate,
            "bitrate_kbps": params.bitrate_kbps,
        }
        fields.update(changes)
        return cls(**fields)


@dataclass(frozen=True)
class VideoNegotiation:
    """The outcome for the main video stream of one offer/answer, from our side.

    ``direction`` is what *we* do (``sendonly``: we send, the far end does not).
    """

    accepted: bool
    index: int
    reason: str = ""
    codec: str | None = None
    payload_type: int | None = None
    fmtp: str = ""
    remote_host: str | None = None
    remote_port: int = 0
    remote_rtcp_port: int = 0
    direction: str = "inactive"
    width: int = 0
    height: int = 0
    framerate: int = 0
    bitrate_kbps: int = 0
    rtcp_fb: tuple[str, ...] = field(default=())

    @property
    def sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")


# -- writing -----------------------------------------------------------------------------------


def _c_line(host: str) -> str:
    return f"c=IN IP6 {host}" if ":" in host else f"c=IN IP4 {host}"


def _vp8_fmtp(pt: int, width: int, height: int, framerate: int) -> str:
    return f"a=fmtp:{pt} max-fr={framerate};max-fs={frame_macroblocks(width, height)}"


def offer_section(settings: VideoSettings, host: str, port: int | None = None) -> str:
    """Our ``m=video`` offer (``\\r\\n`` line ends, ending with one)."""
    port = settings.port if port is None else port
    s = settings
    pts = [_OFFER_PT[c] for c in s.codecs]
    lines = [
        f"m=video {port} RTP/AVP {' '.join(map(str, pts))}",
        _c_line(s.host or host),
        f"b=AS:{s.bitrate_kbps}",
        f"b=TIAS:{s.bitrate_kbps * 1000}",
    ]
    for codec in s.codecs:
        pt = _OFFER_PT[codec]
        lines.append(f"a=rtpmap:{pt} {codec}/90000")
        if codec == "H264":
            lines.append(
                h264_fmtp(
                    s.width,
                    s.height,
                    s.framerate,
                    s.bitrate_kbps,
                    payload_type=pt,
                    max_level=s.max_level,
                )
            )
        else:
            lines.append(_vp8_fmtp(pt, s.width, s.height, s.framerate))
    lines += [f"a=rtcp-fb:* {fb}" for fb in _FEEDBACK]
    lines += [f"a=framerate:{s.framerate}", "a=content:main", f"a={s.direction}"]
    return "\r\n".join(lines) + "\r\n"


def rejected_section(kind: str = "video", proto: str = "RTP/AVP", pt: int = 96) -> str:
    """A declined stream (port 0, RFC 3264 6)."""
    return f"m={kind} 0 {proto} {pt}\r\n"


def answer_direction(offered: str, ours: str) -> str:
    """RFC 3264 6.1: we send only if we want to and the offerer receives, and likewise."""
    send = ours in ("sendrecv", "sendonly") and offered in ("sendrecv", "recvonly")
    recv = ours in ("sendrecv", "recvonly") and offered in ("sendrecv", "sendonly")
    return _direction(send, recv)


def _direction(send: bool, recv: bool) -> str:
    return {
        (True, True): "sendrecv",
        (True, False): "sendonly",
        (False, True): "recvonly",
        (False, False): "inactive",
    }[(send, recv)]


def _reverse(direction: str) -> str:
    return {"sendonly": "recvonly", "recvonly": "sendonly"}.get(direction, direction)


def _h264_usable(fmt: RtpFormat) -> bool:
    """Packetization mode 1 (we fragment with FU-A) and a readable profile-level-id."""
    if fmt.param("packetization-mode") != "1":
        return False
    plid = fmt.param("profile-level-id") or "42000a"  # RFC 6184 default: Baseline level 1
    return re.fullmatch(r"[0-9A-Fa-f]{6}", plid) is not None


def _pick(section: MediaSection, codecs: tuple[str, ...]) -> RtpFormat | None:
    for fmt in section.formats:  # the offerer's order of preference
        if fmt.codec not in codecs or fmt.clock_rate != 90000:
            continue
        if fmt.codec == "H264" and not _h264_usable(fmt):
            continue
        return fmt
    return None


def _send_limits(
    settings: VideoSettings, section: MediaSection, fmt: RtpFormat
) -> tuple[int, int, int, int]:
    """Width, height, framerate and kbps within the far end's limits (its level, max-fs,
    max-mbps, max-fr, bandwidth)."""
    width, height, fps = settings.width, settings.height, settings.framerate
    kbps = settings.bitrate_kbps
    if section.bandwidth_kbps:
        kbps = max(16, min(kbps, section.bandwidth_kbps))
    max_fs = max_mbps = None
    if fmt.codec == "H264":
        idc = int((fmt.param("profile-level-id") or "42000a")[4:6], 16)
        level = next((lv for lv in H264_LEVELS if lv.level_idc == idc and lv.name != "1b"), None)
        if level is not None:
            max_fs = max(level.max_fs, _int(fmt.param("max-fs")))
            max_mbps = max(level.max_mbps, _int(fmt.param("max-mbps")))
    else:
        max_fs = _int(fmt.param("max-fs")) or None
        max_fr = _int(fmt.param("max-fr"))
        if max_fr:
            fps = min(fps, max_fr)
    if max_fs is not None:
        while frame_macroblocks(width, height) > max_fs and width > 16 and height > 16:
            width, height = max(16, (width * 3 // 4) & ~1), max(16, (height * 3 // 4) & ~1)
    if max_mbps:
        fps = max(1, min(fps, max_mbps // max(1, frame_macroblocks(width, height))))
    return width, height, fps, kbps


def _int(text: str | None) -> int:
    return int(text) if text is not None and text.isdigit() and len(text) < 10 else 0


def _answer_fmtp(fmt: RtpFormat, settings: VideoSettings) -> str:
    if fmt.codec == "VP8":
        return _vp8_fmtp(fmt.payload_type, settings.width, settings.height, settings.framerate)
    offered = (fmt.param("profile-level-id") or "42000a").lower()
    ours = h264_level(settings.width, settings.height, settings.framerate, settings.bitrate_kbps)
    offered_idc = int(offered[4:6], 16)
    # RFC 6184 8.2.2: same profile as offered; without level-asymmetry-allowed the level is
    # symmetric and the answer's may not exceed the offer's; with it, ours says what we receive.
    asym = fmt.param("level-asymmetry-allowed") == "1"
    idc = ours.level_idc if asym else min(offered_idc, ours.level_idc)
    parts = [f"profile-level-id={offered[:4]}{idc:02x}", "packetization-mode=1"]
    if asym:
        parts.append("level-asymmetry-allowed=1")
    return f"a=fmtp:{fmt.payload_type} " + ";".join(parts)


def answer_offer(
    offer: SdpMessage | str, settings: VideoSettings, host: str, port: int | None = None
) -> tuple[VideoNegotiation, str] | None:
    """Our answer to the main video of ``offer``: the negotiation and the section to put at
    its index. ``None`` when the offer has no main video (nothing to answer)."""
    message = parse_sdp(offer) if isinstance(offer, str) else offer
    section = main_video(message)
    if section is None:
        return None
    port = settings.port if port is None else port
    proto = section.proto if section.proto in ("RTP/AVP", "RTP/AVPF") else "RTP/AVP"
    decline = section.formats[0].payload_type if section.formats else 96
    if section.rejected:
        return VideoNegotiation(False, section.index, "the offer's video port is 0"), (
            rejected_section(proto=proto, pt=decline)
        )
    if section.proto not in ("RTP/AVP", "RTP/AVPF"):
        reason = f"video over {section.proto} is not supported (SRTP video is not done)"
        return VideoNegotiation(False, section.index, reason), rejected_section(
            proto=section.proto, pt=decline
        )
    fmt = _pick(section, settings.codecs)
    if fmt is None:
        offered = ", ".join(f.codec for f in section.formats) or "none"
        reason = f"no common video codec (offered {offered}; ours {', '.join(settings.codecs)})"
        return VideoNegotiation(False, section.index, reason), rejected_section(pt=decline)
    remote_dir = "inactive" if section.on_hold_address else section.direction
    # old-style hold (c=0.0.0.0) still sends to us: only our sending stops
    if section.on_hold_address and section.direction in ("sendrecv", "sendonly"):
        remote_dir = "sendonly"
    direction = answer_direction(remote_dir, settings.direction)
    # pjmedia's negotiator (no H.264 fmtp matcher in a wheel without video) renames the
    # answer's payload type to the offer's first of the same encoding name (measured with
    # baresip: offer 96 mode 0, 97 mode 1; answer 97 left as 96). The answer says so, so
    # both sides use that number; the parameters stay those of the format we matched.
    first = next(f.payload_type for f in section.formats if f.codec == fmt.codec)
    fmt = replace(fmt, payload_type=first)
    fmtp_line = _answer_fmtp(fmt, settings)
    lines = [
        f"m=video {port} {proto} {fmt.payload_type}",
        _c_line(settings.host or host),
        f"b=AS:{settings.bitrate_kbps}",
        f"b=TIAS:{settings.bitrate_kbps * 1000}",
        f"a=rtpmap:{fmt.payload_type} {fmt.codec}/90000",
        fmtp_line,
    ]
    fb = [f for f in _FEEDBACK if f in fmt.rtcp_fb]
    lines += [f"a=rtcp-fb:{fmt.payload_type} {f}" for f in fb]
    lines += [f"a=framerate:{settings.framerate}"]
    if section.content is not None:
        lines.append(f"a=content:{section.content}")
    lines.append(f"a={direction}")
    negotiation = _accepted(section, fmt, settings, direction)
    return negotiation, "\r\n".join(lines) + "\r\n"


def read_answer(answer: SdpMessage | str, settings: VideoSettings, index: int) -> VideoNegotiation:
    """The far end's answer to our video offer, which sat at ``m=`` ``index``."""
    message = parse_sdp(answer) if isinstance(answer, str) else answer
    if index >= len(message.sections):
        return VideoNegotiation(False, index, "the answer has no video section")
    section = message.sections[index]
    if section.kind != "video":
        return VideoNegotiation(False, index, f"the answer has m={section.kind} for our video")
    if section.rejected:
        return VideoNegotiation(False, index, "the far end declined video (port 0)")
    fmt = _pick(section, settings.codecs)
    if fmt is None:
        got = ", ".join(f"{f.payload_type} {f.codec}" for f in section.formats) or "none"
        return VideoNegotiation(False, index, f"no video codec of ours in the answer ({got})")
    remote_dir = section.direction
    if section.on_hold_address and remote_dir in ("sendrecv", "recvonly"):
        remote_dir = "sendonly" if remote_dir == "sendrecv" else "inactive"
    ours = settings.direction
    send = ours in ("sendrecv", "sendonly") and remote_dir in ("sendrecv", "recvonly")
    recv = ours in ("sendrecv", "recvonly") and remote_dir in ("sendrecv", "sendonly")
    return _accepted(section, fmt, settings, _direction(send, recv))


def _split(sdp: str) -> tuple[str, list[str]]:
    """Session part and ``m=`` sections of an SDP body, each with its ``\\r\\n`` line ends."""
    text = sdp.replace("\r\n", "\n").replace("\n", "\r\n")
    parts = re.split(r"(?m)^(?=m=)", text)
    return parts[0], parts[1:]


def replace_section(
    sdp: str, index: int, section: str, *, drop_session_bandwidth: bool = True
) -> str:
    """``sdp`` with ``m=`` section ``index`` replaced by ``section``.

    The session-level ``b=AS`` pjsua writes counts audio only; with video beside it that cap
    would be wrong, so it is dropped (each section carries its own ``b=``).
    """
    session, sections = _split(sdp)
    if not 0 <= index < len(sections):
        raise ValueError(f"sdp: expected an m= section at index {index}, got {len(sections)}")
    if drop_session_bandwidth:
        session = "".join(
            line for line in session.splitlines(keepends=True) if not line.startswith("b=")
        )
    body = section if section.endswith("\r\n") else section + "\r\n"
    sections[index] = body
    return session + "".join(sections)


def section_kinds(sdp: str) -> list[tuple[str, int]]:
    """``(kind, port)`` of each ``m=`` line of a (well-formed, local) SDP."""
    _, sections = _split(sdp)
    out = []
    for text in sections:
        head = text.split("\r\n", 1)[0].split() + ["", ""]
        port = head[1].split("/")[0]
        out.append((head[0][2:], int(port) if port.isdigit() else 0))
    return out


def _accepted(
    section: MediaSection, fmt: RtpFormat, settings: VideoSettings, direction: str
) -> VideoNegotiation:
    width, height, fps, kbps = _send_limits(settings, section, fmt)
    return VideoNegotiation(
        True,
        section.index,
        "",
        fmt.codec,
        fmt.payload_type,
        fmt.fmtp_text(),
        section.host,
        section.port,
        section.rtcp_port,
        direction,
        width,
        height,
        fps,
        kbps,
        tuple(f for f in _FEEDBACK if f in fmt.rtcp_fb),
    )
