"""Video send parameters against a remote SDP, and the SDP attributes that express them.

- :func:`h264_level` picks the lowest H.264 level (ITU-T H.264 Table A-1) that carries a frame
  size, macroblock rate and bitrate; :func:`h264_fmtp` writes ``profile-level-id`` and, when the
  stream exceeds a capped level, ``max-fs`` / ``max-mbps`` (RFC 6184 section 8.1).
- :func:`negotiate` takes local :class:`~media.params.MediaParams` and the remote video section
  (``b=AS``, ``b=TIAS``, ``a=framerate``, ``a=imageattr`` recv, H.264 ``profile-level-id``,
  ``max-fs``, ``max-mbps``, ``max-br``) and returns the lower of both.
- :func:`sdp_video_lines` writes ``b=AS``, ``b=TIAS`` (RFC 3890), ``a=framerate`` (RFC 4566),
  ``a=imageattr`` (RFC 6236) and the H.264 ``a=fmtp`` line.
- :func:`tile_bitrates` splits a bitrate between tiles by their area.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from media.layouts import Rect
from media.params import MediaParams

__all__ = [
    "H264_LEVELS",
    "H264Level",
    "RemoteVideo",
    "SendParameters",
    "h264_fmtp",
    "h264_level",
    "negotiate",
    "parse_remote_video",
    "sdp_video_lines",
    "tile_bitrates",
]


@dataclass(frozen=True)
class H264Level:
    name: str
    level_idc: int
    max_mbps: int
    """Macroblocks per second."""
    max_fs: int
    """Frame size in macroblocks."""
    max_br: int
    """Video bitrate, kbit/s (Baseline/Main/Extended)."""


H264_LEVELS = (
    H264Level("1", 10, 1485, 99, 64),
    H264Level("1b", 11, 1485, 99, 128),  # signalled with constraint_set3 in Baseline
    H264Level("1.1", 11, 3000, 396, 192),
    H264Level("1.2", 12, 6000, 396, 384),
    H264Level("1.3", 13, 11880, 396, 768),
    H264Level("2", 20, 11880, 396, 2000),
    H264Level("2.1", 21, 19800, 792, 4000),
    H264Level("2.2", 22, 20250, 1620, 4000),
    H264Level("3", 30, 40500, 1620, 10000),
    H264Level("3.1", 31, 108000, 3600, 14000),
    H264Level("3.2", 32, 216000, 5120, 20000),
    H264Level("4", 40, 245760, 8192, 20000),
    H264Level("4.1", 41, 245760, 8192, 50000),
    H264Level("4.2", 42, 522240, 8704, 50000),
    H264Level("5", 50, 589824, 22080, 135000),
    H264Level("5.1", 51, 983040, 36864, 240000),
    H264Level("5.2", 52, 2073600, 36864, 240000),
)
_BY_IDC = {lv.level_idc: lv for lv in H264_LEVELS if lv.name != "1b"}
PROFILE_CONSTRAINED_BASELINE = "42e0"


def frame_macroblocks(width: int, height: int) -> int:
    return math.ceil(width / 16) * math.ceil(height / 16)


def h264_level(width: int, height: int, framerate: float, bitrate_kbps: int) -> H264Level:
    """The lowest level whose frame size, macroblock rate and bitrate limits all hold."""
    fs = frame_macroblocks(width, height)
    side = max(math.ceil(width / 16), math.ceil(height / 16))
    for level in H264_LEVELS:
        if level.name == "1b":
            continue
        if (
            fs <= level.max_fs
            and side <= math.isqrt(8 * level.max_fs)  # Annex A: no side beyond sqrt(8*MaxFS)
            and fs * framerate <= level.max_mbps
            and bitrate_kbps <= level.max_br
        ):
            return level
    raise ValueError(
        f"video: expected at most level 5.2 limits, "
        f"got {width}x{height}@{framerate} {bitrate_kbps} kbps"
    )


def h264_fmtp(
    width: int,
    height: int,
    framerate: float,
    bitrate_kbps: int,
    *,
    payload_type: int = 96,
    max_level: str | None = None,
) -> str:
    """The ``a=fmtp`` line for H.264 (packetization-mode 1).

    With ``max_level`` the level is capped and the parts of the stream above it are signalled
    with ``max-fs`` and ``max-mbps`` (RFC 6184: only when above the level's own limits).
    """
    level = h264_level(width, height, framerate, bitrate_kbps)
    params = ["packetization-mode=1"]
    if max_level is not None:
        cap = next((lv for lv in H264_LEVELS if lv.name == max_level), None)
        if cap is None:
            names = ", ".join(lv.name for lv in H264_LEVELS)
            raise ValueError(f"max_level: expected one of {names}, got {max_level!r}")
        if cap.level_idc < level.level_idc:
            level = cap
    fs = frame_macroblocks(width, height)
    mbps = math.ceil(fs * framerate)
    params.insert(0, f"profile-level-id={PROFILE_CONSTRAINED_BASELINE}{level.level_idc:02x}")
    if fs > level.max_fs:
        params.append(f"max-fs={fs}")
    if mbps > level.max_mbps:
        params.append(f"max-mbps={mbps}")
    if bitrate_kbps > level.max_br:
        params.append(f"max-br={bitrate_kbps}")
    return f"a=fmtp:{payload_type} " + ";".join(params)


@dataclass(frozen=True)
class SendParameters:
    """What to send after negotiation."""

    width: int
    height: int
    framerate: int
    bitrate_kbps: int
    level: H264Level

    @property
    def profile_level_id(self) -> str:
        return f"{PROFILE_CONSTRAINED_BASELINE}{self.level.level_idc:02x}"


@dataclass(frozen=True)
class RemoteVideo:
    """The limits found in the remote SDP's video section (``None`` = not given)."""

    bitrate_kbps: int | None = None
    framerate: float | None = None
    max_width: int | None = None
    max_height: int | None = None
    max_fs: int | None = None
    max_mbps: int | None = None


_AS = re.compile(r"^b=AS:(\d+)\s*$", re.M)
_TIAS = re.compile(r"^b=TIAS:(\d+)\s*$", re.M)
_FRAMERATE = re.compile(r"^a=framerate:\s*([0-9.]+)\s*$", re.M)
_IMAGEATTR = re.compile(r"^a=imageattr:\S+\s.*?recv\s+\[x=(\d+),y=(\d+)", re.M)
_FMTP = re.compile(r"^a=fmtp:\d+\s+(.*)$", re.M)


def _video_section(sdp: str) -> str:
    text = sdp.replace("\r\n", "\n")
    start = text.find("\nm=video")
    if start < 0:
        raise ValueError("sdp: expected an m=video section, got none")
    end = text.find("\nm=", start + 1)
    return text[start : end if end > 0 else len(text)]


def parse_remote_video(sdp: str) -> RemoteVideo:
    """Read the video limits of a remote SDP (session-level ``b=`` lines are ignored)."""
    section = _video_section(sdp)
    rates = [int(m) for m in _AS.findall(section)]
    rates += [int(m) // 1000 for m in _TIAS.findall(section)]
    fps = [float(m) for m in _FRAMERATE.findall(section)]
    size = _IMAGEATTR.search(section)
    max_fs = max_mbps = None
    for fmtp in _FMTP.findall(section):
        values = dict(item.strip().split("=", 1) for item in fmtp.split(";") if "=" in item)
        if "profile-level-id" not in values:
            continue
        plid = values["profile-level-id"]
        if not re.fullmatch(r"[0-9A-Fa-f]{6}", plid):
            raise ValueError(f"profile-level-id: expected 6 hex digits, got {plid!r}")
        idc = int(plid[4:6], 16)
        level = _BY_IDC.get(idc)
        if level is None:
            raise ValueError(
                f"profile-level-id: expected a known H.264 level, got {values['profile-level-id']}"
            )
        max_fs = max(level.max_fs, int(values.get("max-fs", 0)))
        max_mbps = max(level.max_mbps, int(values.get("max-mbps", 0)))
        br = int(values["max-br"]) if "max-br" in values else level.max_br
        rates.append(br)
        break
    return RemoteVideo(
        bitrate_kbps=min(rates) if rates else None,
        framerate=min(fps) if fps else None,
        max_width=int(size.group(1)) if size else None,
        max_height=int(size.group(2)) if size else None,
        max_fs=max_fs,
        max_mbps=max_mbps,
    )


def _scaled(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(16, int(width * scale) & ~1), max(16, int(height * scale) & ~1)


def negotiate(local: MediaParams, remote_sdp: str) -> SendParameters:
    """The effective send parameters: the lower of the local ones and the remote limits."""
    remote = parse_remote_video(remote_sdp)
    width, height = local.width, local.height
    scale = 1.0
    if remote.max_width and remote.max_height:
        scale = min(scale, remote.max_width / width, remote.max_height / height)
    if remote.max_fs is not None and frame_macroblocks(width, height) > remote.max_fs:
        scale = min(scale, math.sqrt(remote.max_fs * 256 / (width * height)))
    if scale < 1.0:
        width, height = _scaled(local.width, local.height, scale)
        while remote.max_fs is not None and frame_macroblocks(width, height) > remote.max_fs:
            scale *= 0.99
            width, height = _scaled(local.width, local.height, scale)
    framerate = float(local.framerate)
    if remote.framerate:
        framerate = min(framerate, remote.framerate)
    if remote.max_mbps:
        framerate = min(framerate, remote.max_mbps / frame_macroblocks(width, height))
    bitrate = (
        local.bitrate_kbps
        if remote.bitrate_kbps is None
        else min(local.bitrate_kbps, remote.bitrate_kbps)
    )
    fps = max(1, int(framerate))
    return SendParameters(width, height, fps, bitrate, h264_level(width, height, fps, bitrate))


def sdp_video_lines(params: SendParameters | MediaParams, payload_type: int = 96) -> list[str]:
    """``b=AS``, ``b=TIAS``, ``a=framerate``, ``a=imageattr`` and the H.264 ``a=fmtp`` line."""
    kbps = params.bitrate_kbps
    w, h, fps = params.width, params.height, params.framerate
    return [
        f"b=AS:{kbps}",
        f"b=TIAS:{kbps * 1000}",
        f"a=framerate:{fps}",
        f"a=imageattr:{payload_type} send [x={w},y={h}] recv [x={w},y={h}]",
        h264_fmtp(w, h, fps, kbps, payload_type=payload_type),
    ]


def tile_bitrates(total_kbps: int, tiles: Sequence[Rect]) -> list[int]:
    """Split ``total_kbps`` between ``tiles`` in proportion to their area (sums to the total)."""
    if total_kbps < 0:
        raise ValueError(f"total_kbps: expected >= 0, got {total_kbps}")
    areas = [t.area for t in tiles]
    whole = sum(areas)
    if not tiles or whole == 0:
        raise ValueError(f"tiles: expected at least one tile with an area, got {len(tiles)} tiles")
    exact = [total_kbps * a / whole for a in areas]
    shares = [int(e) for e in exact]
    # largest remainders get the kbps that rounding down left over
    order = sorted(range(len(tiles)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total_kbps - sum(shares)]:
        shares[i] += 1
    return shares
