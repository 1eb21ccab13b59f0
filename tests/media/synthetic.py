"""Synthetic aiortc tracks for the track tests: flat colours and tones, paced by asyncio."""

from __future__ import annotations

import asyncio
import fractions

import av
import numpy as np
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack


class ColourTrack(MediaStreamTrack):
    """Flat-colour rgb24 frames at ``fps``; ends after ``frames`` frames when given."""

    kind = "video"

    def __init__(
        self,
        rgb: tuple[int, int, int],
        fps: float = 30,
        size: tuple[int, int] = (320, 180),
        frames: int | None = None,
    ) -> None:
        super().__init__()
        self.rgb, self.fps, self.size, self.limit = rgb, fps, size, frames
        self.count = 0

    async def recv(self) -> av.VideoFrame:
        if self.limit is not None and self.count >= self.limit:
            self.stop()
            raise MediaStreamError
        await asyncio.sleep(1 / self.fps)
        img = np.empty((self.size[1], self.size[0], 3), np.uint8)
        img[:] = self.rgb
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = self.count
        frame.time_base = fractions.Fraction(1, int(self.fps))
        self.count += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone as 20 ms mono s16 frames at ``rate``."""

    kind = "audio"

    def __init__(self, frequency: float, rate: int, amplitude: int = 8000) -> None:
        super().__init__()
        self.frequency, self.rate, self.amplitude = frequency, rate, amplitude
        self.t = 0

    async def recv(self) -> av.AudioFrame:
        await asyncio.sleep(0.02)
        n = self.rate // 50
        phase = 2 * np.pi * self.frequency * (self.t + np.arange(n)) / self.rate
        pcm = (self.amplitude * np.sin(phase)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = self.rate
        frame.pts = self.t
        frame.time_base = fractions.Fraction(1, self.rate)
        self.t += n
        return frame
