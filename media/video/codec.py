"""Video codecs for RTP: what was negotiated (:class:`VideoCodec`), PyAV encoders and decoders,
and the RTP payload formats of aiortc (H.264 RFC 6184 STAP-A/FU-A, VP8 RFC 7741).

aiortc's packetizers are used without its RTCPeerConnection: ``H264Encoder.pack`` and
``Vp8Encoder.pack`` cut an encoded ``av.Packet`` into payloads, ``h264_depayload`` and
``vp8_depayload`` turn one payload back into bitstream bytes (Annex B for H.264).
The encoders are our own PyAV contexts, so preset, threads and keyframe interval are ours.
"""

from __future__ import annotations

import fractions
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.codecs.h264 import H264Encoder, H264PayloadDescriptor
from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor

from media.negotiation import PROFILE_CONSTRAINED_BASELINE, frame_macroblocks, h264_level

__all__ = [
    "CODEC_NAMES",
    "Depayloaded",
    "VideoCodec",
    "VideoDecoder",
    "VideoEncoder",
    "depayload",
    "is_keyframe",
]

CODEC_NAMES = ("H264", "VP8")
CLOCK_RATE = 90000
U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class VideoCodec:
    """One negotiated video payload type.

    ``fmtp`` holds the ``a=fmtp`` parameters (``packetization-mode``, ``profile-level-id``,
    ``max-fs``, ``max-mbps``, ...); ``rtcp_fb`` the peer's ``a=rtcp-fb`` values
    (``"nack"``, ``"nack pli"``, ``"ccm fir"``, ``"goog-remb"``). An empty ``rtcp_fb`` means
    "not said": PLI and NACK are still sent, as most room systems act on them.
    """

    name: str = "H264"
    payload_type: int = 96
    clock_rate: int = CLOCK_RATE
    fmtp: dict[str, str] = field(default_factory=dict, hash=False)
    rtcp_fb: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        name = str(self.name).upper()
        if name not in CODEC_NAMES:
            raise ValueError(f"codec: expected one of {', '.join(CODEC_NAMES)}, got {self.name!r}")
        object.__setattr__(self, "name", name)
        if not isinstance(self.payload_type, int) or not 0 <= self.payload_type <= 127:
            raise ValueError(f"payload_type: expected 0..127, got {self.payload_type!r}")
        if name == "H264" and self.fmtp.get("packetization-mode", "1") != "1":
            raise ValueError(
                "packetization-mode: expected 1 (STAP-A/FU-A), "
                f"got {self.fmtp.get('packetization-mode')!r}"
            )

    @classmethod
    def h264(
        cls,
        payload_type: int = 96,
        width: int = 1280,
        height: int = 720,
        fps: float = 30,
        bitrate_kbps: int = 1024,
        rtcp_fb: frozenset[str] = frozenset({"nack", "nack pli", "ccm fir"}),
    ) -> VideoCodec:
        """H.264 Constrained Baseline, packetization-mode 1, level from size/rate/bitrate."""
        level = h264_level(width, height, fps, bitrate_kbps)
        fmtp = {
            "profile-level-id": f"{PROFILE_CONSTRAINED_BASELINE}{level.level_idc:02x}",
            "packetization-mode": "1",
        }
        fs = frame_macroblocks(width, height)
        fmtp["max-fs"] = str(max(fs, level.max_fs))
        fmtp["max-mbps"] = str(max(int(fs * fps + 0.999), level.max_mbps))
        return cls("H264", payload_type, CLOCK_RATE, fmtp, rtcp_fb)

    @classmethod
    def vp8(
        cls,
        payload_type: int = 97,
        rtcp_fb: frozenset[str] = frozenset({"nack", "nack pli", "ccm fir"}),
    ) -> VideoCodec:
        return cls("VP8", payload_type, CLOCK_RATE, {}, rtcp_fb)

    @property
    def wants_fir(self) -> bool:
        return "ccm fir" in self.rtcp_fb

    @property
    def wants_pli(self) -> bool:
        return not self.rtcp_fb or "nack pli" in self.rtcp_fb

    def fmtp_line(self) -> str:
        """The ``a=fmtp`` value (without ``a=fmtp:PT``), empty when there are no parameters."""
        return ";".join(f"{k}={v}" for k, v in self.fmtp.items())


@dataclass
class Depayloaded:
    data: bytes
    frame_start: bool


def depayload(codec_name: str, payload: bytes) -> Depayloaded:
    """Bitstream bytes of one RTP payload; ``ValueError`` for a malformed or unsupported one."""
    if codec_name == "H264":
        hdesc, data = H264PayloadDescriptor.parse(payload)
        return Depayloaded(data, bool(hdesc.first_fragment))
    vdesc, data = VpxPayloadDescriptor.parse(payload)
    if vdesc.partition_start and vdesc.partition_id == 0 and not data:
        raise ValueError("VP8 payload is empty")
    return Depayloaded(data, bool(vdesc.partition_start and vdesc.partition_id == 0))


def is_keyframe(codec_name: str, bitstream: bytes) -> bool:
    """An IDR (or SPS) in an Annex B H.264 access unit; the P bit of a VP8 frame header clear."""
    if codec_name == "VP8":
        return bool(bitstream) and not bitstream[0] & 1
    pos = bitstream.find(b"\x00\x00\x01")
    while pos >= 0 and pos + 3 < len(bitstream):
        if bitstream[pos + 3] & 0x1F in (5, 7):
            return True
        pos = bitstream.find(b"\x00\x00\x01", pos + 3)
    return False


class VideoEncoder:
    """A PyAV encoder for I420 frames, and aiortc's packetizer for its output.

    H.264: libx264, Constrained Baseline, ``tune=zerolatency``, ``preset`` (default
    ``ultrafast``), one thread by default. VP8: libvpx realtime, ``cpu-used`` 8 (fastest).
    A keyframe every ``keyframe_interval_s`` and on :meth:`encode` ``(keyframe=True)``.
    """

    def __init__(
        self,
        codec: VideoCodec,
        width: int,
        height: int,
        fps: float,
        bitrate_kbps: int,
        *,
        preset: str = "ultrafast",
        threads: int = 1,
        keyframe_interval_s: float = 10.0,
    ) -> None:
        if width < 16 or height < 16 or width % 2 or height % 2:
            raise ValueError(f"size: expected even sizes >= 16, got {width}x{height}")
        self.codec, self.width, self.height = codec, width, height
        self.fps = fps
        rate = fractions.Fraction(fps).limit_denominator(1001)
        gop = max(1, round(fps * keyframe_interval_s))
        ctx: Any
        if codec.name == "H264":
            ctx = av.CodecContext.create("libx264", "w")
            ctx.options = {
                "preset": preset,
                "tune": "zerolatency",
                "profile": "baseline",
                "forced-idr": "1",
                "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1",
            }
            self._packer: Any = H264Encoder()
        else:
            ctx = av.CodecContext.create("libvpx", "w")
            ctx.options = {
                "deadline": "realtime",
                "cpu-used": "8",
                "lag-in-frames": "0",
                "error-resilient": "1",
                "auto-alt-ref": "0",
            }
            ctx.gop_size = gop
            ctx.qmin, ctx.qmax = 4, 56
            self._packer = Vp8Encoder()
        ctx.width, ctx.height = width, height
        ctx.pix_fmt = "yuv420p"
        ctx.framerate = rate
        ctx.time_base = 1 / rate
        ctx.bit_rate = bitrate_kbps * 1000
        ctx.thread_count = threads
        ctx.open()
        self._ctx = ctx
        self._pts = 0

    def encode(self, i420: U8, keyframe: bool = False) -> tuple[list[bytes], bool]:
        """RTP payloads for one I420 frame ``(h * 3 // 2, w)``, and whether it is a keyframe."""
        frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
        frame.pts = self._pts
        frame.time_base = self._ctx.time_base
        self._pts += 1
        kinds = av.video.frame.PictureType
        frame.pict_type = kinds.I if keyframe else kinds.NONE
        payloads: list[bytes] = []
        key = False
        for packet in self._ctx.encode(frame):
            key = key or bool(packet.is_keyframe)
            chunks, _ = self._packer.pack(packet)
            payloads.extend(chunks)
        return payloads, key

    def close(self) -> None:
        self._ctx = None


class VideoDecoder:
    """A PyAV decoder (FFmpeg's native ``h264`` or ``vp8``), one thread."""

    def __init__(self, codec_name: str, threads: int = 1) -> None:
        self.codec_name = codec_name
        ctx: Any = av.CodecContext.create("h264" if codec_name == "H264" else "vp8", "r")
        ctx.thread_count = threads
        self._ctx = ctx

    def decode(self, bitstream: bytes) -> list[Any]:
        """Decoded ``av.VideoFrame`` objects; raises ``av.FFmpegError`` on a broken stream."""
        return list(self._ctx.decode(av.Packet(bitstream)))

    @property
    def profile(self) -> str:
        profile = getattr(self._ctx, "profile", None)
        return str(profile) if profile else ""
