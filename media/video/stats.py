"""What a video stream measured (:class:`VideoStats`) and the receive meter behind it.

The meter takes explicit times (seconds on a monotonic clock) so it is tested without sleeping.
fps and bitrate are over the last ``window_s`` seconds; a freeze is a gap between two decoded
frames longer than ``freeze_ms`` (or the time since the last decoded frame, while it lasts).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["ReceiveMeter", "VideoStats"]


@dataclass(frozen=True)
class VideoStats:
    codec: str
    profile: str
    width: int
    height: int
    fps: float
    bitrate_kbps: float
    packets: int
    lost: int
    nacks_sent: int
    nacks_received: int
    freezes: int
    freeze_ms: float
    max_gap_ms: float
    first_frame_ms: float | None
    keyframe_rtt_ms: float | None
    decoded_frames: int
    decode_errors: int
    dropped_frames: int
    bad_packets: int
    resolution_changes: int
    keyframes_received: int
    jitter_ms: float
    rtt_ms: float | None
    rtcp_received: int
    # sending side
    frames_sent: int
    packets_sent: int
    bytes_sent: int
    keyframes_sent: int
    plis_received: int
    firs_received: int
    plis_sent: int
    firs_sent: int
    retransmitted: int
    remb_kbps: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ReceiveMeter:
    def __init__(self, freeze_ms: float = 500.0, window_s: float = 2.0) -> None:
        self.freeze_ms, self.window_s = freeze_ms, window_s
        self.started: float | None = None
        self.first_frame_at: float | None = None
        self.last_frame_at: float | None = None
        self.decoded = 0
        self.freezes = 0
        self.freeze_total_ms = 0.0
        self.max_gap_ms = 0.0
        self.width = self.height = 0
        self.resolution_changes = 0
        self.paused = False
        self._frames: deque[float] = deque(maxlen=512)
        self._bytes: deque[tuple[float, int]] = deque(maxlen=8192)

    def start(self, now: float) -> None:
        if self.started is None:
            self.started = now

    def on_bytes(self, now: float, size: int) -> None:
        self._bytes.append((now, size))

    def pause(self) -> None:
        """Not receiving on purpose (hold, sendonly, inactive): the gap is no freeze."""
        self.paused = True

    def on_frame(self, now: float, width: int, height: int) -> None:
        if self.last_frame_at is None:
            self.first_frame_at = now
        elif self.paused:
            self.paused = False
        else:
            gap_ms = (now - self.last_frame_at) * 1000
            self.max_gap_ms = max(self.max_gap_ms, gap_ms)
            if gap_ms > self.freeze_ms:
                self.freezes += 1
                self.freeze_total_ms += gap_ms
        if self.decoded and (width, height) != (self.width, self.height):
            self.resolution_changes += 1
        self.width, self.height = width, height
        self.last_frame_at = now
        self.decoded += 1
        self._frames.append(now)

    def first_frame_ms(self) -> float | None:
        if self.first_frame_at is None or self.started is None:
            return None
        return (self.first_frame_at - self.started) * 1000

    def fps(self, now: float) -> float:
        recent = [t for t in self._frames if now - t <= self.window_s]
        if len(recent) < 2:
            return 0.0
        if now - recent[-1] > self.freeze_ms / 1000:  # stalled: frames per window
            return len(recent) / self.window_s
        return (len(recent) - 1) / max(recent[-1] - recent[0], 1e-3)

    def bitrate_kbps(self, now: float) -> float:
        total = sum(size for t, size in self._bytes if now - t <= self.window_s)
        return total * 8 / self.window_s / 1000

    def ongoing_freeze_ms(self, now: float) -> float:
        """How long the picture has stood still now, if longer than the freeze threshold."""
        if self.last_frame_at is None or self.paused:
            return 0.0
        gap = (now - self.last_frame_at) * 1000
        return gap if gap > self.freeze_ms else 0.0
