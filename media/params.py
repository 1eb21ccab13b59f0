"""Validated media parameters of a conference room (PortSIP room bounds and defaults).

Video: width and height 144..1920 (default 1280x720), bitrate 128..10240 kbps (default 1024),
framerate 5..30 (default 15), layout LAYOUT0..LAYOUT9 (default LAYOUT0), capacity 1..200 (default
9). Audio: 8, 16 or 48 kHz, 20 ms frames. Built by hand, from a PortSIP conference-room object
(:meth:`MediaParams.from_portsip_room`) or from Zoom CRC room settings
(:meth:`MediaParams.from_zoom_crc`). Plain mappings in, so this module needs no API client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from media._checks import check_choice, check_range
from media.layouts import Layout
from media.mixer import FRAME_MS, SAMPLE_RATES

__all__ = ["ZOOM_CALL_RATES", "MediaParams"]

# Zoom CRC account setting ``call_rate`` (kbps; -1 = manual).
ZOOM_CALL_RATES = (-1, 192, 256, 384, 512, 768, 1024, 1472, 1920, 2048, 3072, 3840, 4096, 6144)
_ZOOM_LAYOUTS = {
    "Gallery": Layout.LAYOUT0,
    "Full Screen": Layout.LAYOUT1,
    "Active - Bottom": Layout.LAYOUT6,
    "Active - Top": Layout.LAYOUT6,
}
_BOUNDS = {
    "width": (144, 1920),
    "height": (144, 1920),
    "bitrate_kbps": (128, 10240),
    "framerate": (5, 30),
    "capacity": (1, 200),
}


@dataclass(frozen=True)
class MediaParams:
    """The media parameters of one room; out-of-range values raise ``ValueError``."""

    width: int = 1280
    height: int = 720
    bitrate_kbps: int = 1024
    framerate: int = 15
    layout: Layout = Layout.LAYOUT0
    capacity: int = 9
    mode: str = "VIDEO"
    sample_rate: int = 48000
    frame_ms: int = FRAME_MS

    def __post_init__(self) -> None:
        for name, (low, high) in _BOUNDS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name}: expected an integer in {low}..{high}, got {value!r}")
            check_range(name, value, low, high)
        for name in ("width", "height"):
            if getattr(self, name) % 2:
                raise ValueError(
                    f"{name}: expected an even number (4:2:0 video), got {getattr(self, name)}"
                )
        object.__setattr__(self, "layout", Layout.parse(self.layout))
        check_choice("mode", self.mode, ("AUDIO", "VIDEO"))
        check_choice("sample_rate", self.sample_rate, SAMPLE_RATES)
        check_choice("frame_ms", self.frame_ms, (FRAME_MS,))

    @property
    def samples_per_frame(self) -> int:
        return self.sample_rate * self.frame_ms // 1000

    def with_(self, **changes: Any) -> MediaParams:
        """A copy with ``changes`` applied (and validated)."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["layout"] = self.layout.value
        return data

    def to_portsip_room(self) -> dict[str, Any]:
        """The VIDEO-mode fields of a PortSIP conference room with these parameters."""
        return {
            "mode": self.mode,
            "width": self.width,
            "height": self.height,
            "bitrate": self.bitrate_kbps,
            "framerate": self.framerate,
            "layout": self.layout.value,
            "capacity": self.capacity,
        }

    @classmethod
    def from_portsip_room(cls, room: Mapping[str, Any], **overrides: Any) -> MediaParams:
        """From a PortSIP conference-room object (missing fields take the PortSIP defaults)."""
        if not isinstance(room, Mapping):
            raise ValueError(f"room: expected a mapping, got {type(room).__name__}")
        fields: dict[str, Any] = {}
        for key, name in (
            ("width", "width"),
            ("height", "height"),
            ("bitrate", "bitrate_kbps"),
            ("framerate", "framerate"),
            ("layout", "layout"),
            ("capacity", "capacity"),
            ("mode", "mode"),
        ):
            if room.get(key) is not None:
                fields[name] = room[key]
        fields.update(overrides)
        return cls(**fields)

    @classmethod
    def from_zoom_crc(cls, settings: Mapping[str, Any], **overrides: Any) -> MediaParams:
        """From Zoom CRC room settings: ``enable_1080p``/``force_720p``, ``call_rate`` (kbps),
        ``default_video_layout`` (Gallery, Full Screen, Active - Bottom, Active - Top)."""
        if not isinstance(settings, Mapping):
            raise ValueError(f"settings: expected a mapping, got {type(settings).__name__}")
        fields: dict[str, Any] = {"framerate": 30}
        hd = bool(settings.get("enable_1080p")) and not bool(settings.get("force_720p"))
        fields["width"], fields["height"] = (1920, 1080) if hd else (1280, 720)
        rate = settings.get("call_rate")
        if rate is not None:
            check_choice("call_rate", rate, ZOOM_CALL_RATES)
            if rate != -1:
                fields["bitrate_kbps"] = rate
        layout = settings.get("default_video_layout")
        if layout is not None:
            check_choice("default_video_layout", layout, tuple(_ZOOM_LAYOUTS))
            fields["layout"] = _ZOOM_LAYOUTS[layout]
        fields.update(overrides)
        return cls(**fields)
