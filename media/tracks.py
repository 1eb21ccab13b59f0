"""aiortc tracks: a composed video track and a mixed audio track.

- :class:`CompositeVideoTrack` reads any number of input video tracks, keeps the newest frame of
  each (dropping or repeating by the room clock) and emits one composed frame per room frame
  interval through :class:`media.compositor.Compositor`.
- :class:`MixedAudioTrack` reads input audio tracks, brings each to mono int16 at the mixer rate
  (:class:`media.resampler.Resampler` for 8/16/48 kHz s16 mono, PyAV's resampler otherwise) and
  emits 20 ms frames of the full mix or of one participant's mix-minus; its active speaker
  (:class:`media.speaker.ActiveSpeakerDetector`) can drive the video track's layout.

Both are ordinary aiortc ``MediaStreamTrack`` objects: add them to an ``RTCPeerConnection`` or a
``MediaRecorder``. The wall clock is read only here (``clock``, default ``time.monotonic``); the
pacing and mixing logic below them takes explicit times.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import time
from collections.abc import Callable, Sequence
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

from media.compositor import Compositor
from media.layouts import Layout
from media.mixer import Mixer
from media.pacing import FramePacer, LatestFrame
from media.resampler import RATES, Resampler
from media.speaker import ActiveSpeakerDetector

__all__ = ["CompositeVideoTrack", "MixedAudioTrack"]

VIDEO_CLOCK_RATE = 90000
MAX_BACKLOG_S = 0.2
Clock = Callable[[], float]


async def _read_into(track: MediaStreamTrack, sink: Callable[[Any], None]) -> None:
    """Feed every frame of ``track`` to ``sink`` until the track ends."""
    with contextlib.suppress(MediaStreamError):
        while True:
            sink(await track.recv())


class CompositeVideoTrack(MediaStreamTrack):
    """Compose input video tracks at ``framerate`` into ``width`` x ``height`` yuv420p frames."""

    kind = "video"

    def __init__(
        self,
        inputs: Sequence[MediaStreamTrack],
        *,
        layout: Layout | str = Layout.LAYOUT0,
        width: int = 1280,
        height: int = 720,
        framerate: int = 15,
        speaker: Callable[[], int | None] | None = None,
        clock: Clock = time.monotonic,
        **compositor_options: Any,
    ) -> None:
        super().__init__()
        self.inputs = list(inputs)
        self.compositor = Compositor(layout, width, height, "yuv420p", **compositor_options)
        self.framerate = framerate
        self.slots: list[LatestFrame[Any]] = [LatestFrame() for _ in self.inputs]
        self._ended = [False] * len(self.inputs)
        self._speaker = speaker
        self._clock = clock
        self._pacer: FramePacer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._arrays: list[tuple[Any, npt.NDArray[np.uint8]] | None] = [None] * len(self.inputs)

    def _start(self) -> None:
        for i, track in enumerate(self.inputs):

            def put(frame: Any, i: int = i) -> None:
                self.slots[i].put(frame, self._clock())

            def ended(_task: asyncio.Task[None], i: int = i) -> None:
                self._ended[i] = True

            task = asyncio.ensure_future(_read_into(track, put))
            task.add_done_callback(ended)
            self._tasks.append(task)
        self._pacer = FramePacer(self.framerate, self._clock())

    def _visible(self) -> tuple[list[Any], int | None]:
        """Frames of the visible participants (tile order) and the speaker's index among them."""
        frames: list[Any] = []
        for i, slot in enumerate(self.slots):
            av_frame = None if self._ended[i] else slot.take()
            if av_frame is None:
                frames.append(None)
                continue
            cached = self._arrays[i]
            if cached is None or cached[0] is not av_frame:
                cached = (av_frame, av_frame.to_ndarray(format="yuv420p"))
                self._arrays[i] = cached
            frames.append(cached[1])
        speaker = self._speaker() if self._speaker is not None else None
        if speaker is not None and not (0 <= speaker < len(frames) and frames[speaker] is not None):
            speaker = None
        limit = self.compositor.layout.tiles or 9
        if self.compositor.layout is Layout.LAYOUT0:
            present = [i for i, f in enumerate(frames) if f is not None]
            chosen = present[:limit]
        else:
            chosen = list(range(min(limit, len(frames))))
        if speaker is not None and speaker not in chosen and chosen:
            chosen[-1] = speaker  # the speaker is always on screen
        visible = [frames[i] for i in chosen]
        return visible, (chosen.index(speaker) if speaker in chosen else None)

    async def recv(self) -> av.VideoFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._pacer is None:
            self._start()
        assert self._pacer is not None
        wait = self._pacer.next_due - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        index = self._pacer.emit(self._clock())
        if index is None:  # pragma: no cover - the sleep above reaches the deadline
            index = self._pacer.emit(self._pacer.next_due)
            assert index is not None
        frames, speaker = self._visible()
        image = self.compositor.compose(frames, speaker=speaker)
        frame = av.VideoFrame.from_ndarray(image, format="yuv420p")
        frame.pts = index * VIDEO_CLOCK_RATE // self.framerate
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        return frame

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        super().stop()


class _AudioInput:
    """One input's FIFO of mono int16 samples at the mixer rate."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.chunks: list[npt.NDArray[np.int16]] = []
        self.size = 0
        self._ours: Resampler | None = None
        self._theirs: Any = None

    def _mono(self, frame: Any) -> npt.NDArray[np.int16] | None:
        name = frame.format.name
        channels = len(frame.layout.channels)
        if name == "s16" and channels == 1 and frame.sample_rate in RATES:
            pcm: npt.NDArray[np.int16] = frame.to_ndarray().reshape(-1).astype(np.int16)
            if frame.sample_rate == self.rate:
                return pcm
            if self._ours is None or self._ours.rate_in != frame.sample_rate:
                self._ours = Resampler(frame.sample_rate, self.rate)
            out: npt.NDArray[np.int16] = self._ours.process(pcm)
            return out
        if self._theirs is None:
            self._theirs = av.AudioResampler(format="s16", layout="mono", rate=self.rate)
        parts = [f.to_ndarray().reshape(-1) for f in self._theirs.resample(frame)]
        if not parts:
            return None
        joined: npt.NDArray[np.int16] = np.concatenate(parts).astype(np.int16)
        return joined

    def put(self, frame: Any) -> None:
        pcm = self._mono(frame)
        if pcm is None or pcm.size == 0:
            return
        self.chunks.append(pcm)
        self.size += pcm.size
        limit = int(self.rate * MAX_BACKLOG_S)
        while self.size - self.chunks[0].size >= limit:  # bound the latency: drop the oldest
            self.size -= self.chunks.pop(0).size

    def take(self, out: npt.NDArray[np.int16]) -> None:
        """Fill ``out`` from the FIFO (zeros where it runs short)."""
        filled = 0
        while filled < out.size and self.chunks:
            chunk = self.chunks[0]
            n = min(chunk.size, out.size - filled)
            out[filled : filled + n] = chunk[:n]
            filled += n
            if n == chunk.size:
                self.chunks.pop(0)
            else:
                self.chunks[0] = chunk[n:]
        self.size -= filled
        out[filled:] = 0


class MixedAudioTrack(MediaStreamTrack):
    """Mix input audio tracks into 20 ms mono s16 frames (full mix, or mix-minus ``exclude``)."""

    kind = "audio"

    def __init__(
        self,
        inputs: Sequence[MediaStreamTrack],
        *,
        sample_rate: int = 48000,
        exclude: int | None = None,
        detector: ActiveSpeakerDetector | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        super().__init__()
        if not inputs:
            raise ValueError("inputs: expected at least one audio track, got none")
        if exclude is not None and not 0 <= exclude < len(inputs):
            raise ValueError(f"exclude: expected an index in 0..{len(inputs) - 1}, got {exclude}")
        self.inputs = list(inputs)
        self.mixer = Mixer(sample_rate, capacity=len(self.inputs))
        self.exclude = exclude
        self.detector = detector if detector is not None else ActiveSpeakerDetector()
        self._clock = clock
        self._fifos = [_AudioInput(sample_rate) for _ in self.inputs]
        self._block = np.zeros((len(self.inputs), self.mixer.samples), np.int16)
        self._tasks: list[asyncio.Task[None]] = []
        self._start: float | None = None
        self._pts = 0

    @property
    def active_speaker(self) -> int | None:
        """Index of the input that speaks (for :class:`CompositeVideoTrack`'s ``speaker``)."""
        return self.detector.speaker

    async def recv(self) -> av.AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        rate, samples = self.mixer.sample_rate, self.mixer.samples
        if self._start is None:
            self._start = self._clock()
            for fifo, track in zip(self._fifos, self.inputs, strict=True):
                self._tasks.append(asyncio.ensure_future(_read_into(track, fifo.put)))
        else:
            self._pts += samples
        wait = self._start + (self._pts + samples) / rate - self._clock()
        if wait > 0:
            await asyncio.sleep(wait)
        for row, fifo in zip(self._block, self._fifos, strict=True):
            fifo.take(row)
        result = self.mixer.mix(self._block)
        self.detector.update(self.mixer.levels_dbfs(), self._clock())
        pcm = result.full if self.exclude is None else result.minus[self.exclude]
        frame = av.AudioFrame.from_ndarray(pcm[None, :].copy(), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, rate)
        return frame

    def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        super().stop()
