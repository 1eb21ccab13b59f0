"""The I/O edge of an H.323 call's H.264 video: a :class:`media.video.VideoStream` per call.

The stream is bound and started receive-only before H.245 runs (its RTP port goes into our
OpenLogicalChannelAck); when our own channel is acknowledged it sends a test pattern to the
address the far end gave. The stream runs its own threads; starting and stopping happen off the
event loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

from media.video import TestPatternSource, VideoCodec, VideoStream
from signaling.h323.rtp import split_address
from signaling.h323.video import PAYLOAD_TYPE

__all__ = ["CallVideo"]

WIDTH, HEIGHT, FPS, KBPS = 320, 240, 10, 256  # light: tests share two cores with much else


class CallVideo:
    """One call's video: :meth:`open`, :meth:`send_to` on ``video-channel``, :meth:`close`."""

    def __init__(self, host: str, port: int = 0, rtcp_interval: float = 1.0) -> None:
        self.host = host
        self.requested_port = port
        self.rtcp_interval = rtcp_interval
        self.stream: VideoStream | None = None
        self.remote: tuple[str, int] | None = None
        self.remote_rtcp: tuple[str, int] | None = None
        self._stats: dict[str, Any] | None = None

    @property
    def port(self) -> int:
        if self.stream is None:
            raise RuntimeError("the video stream is not open")
        return self.stream.local_port

    async def open(self) -> CallVideo:
        codec = VideoCodec.h264(PAYLOAD_TYPE, WIDTH, HEIGHT, FPS, KBPS)

        def make() -> VideoStream:
            stream = VideoStream(
                self.host,
                self.requested_port,
                codec,
                TestPatternSource(WIDTH, HEIGHT),
                WIDTH,
                HEIGHT,
                FPS,
                KBPS,
                rtcp_interval_s=self.rtcp_interval,
                keyframe_interval_s=2.0,
            )
            stream.start(None)  # receive at once; send when our channel is acknowledged
            return stream

        self.stream = await asyncio.to_thread(make)
        return self

    def send_to(self, detail: str, rtcp: str) -> None:
        """Our channel was acknowledged: send video RTP to ``detail`` (``host:port``)."""
        remote = split_address(detail)
        if self.stream is None or remote is None or self.remote is not None:
            return
        self.remote, self.remote_rtcp = remote, split_address(rtcp) or (remote[0], remote[1] + 1)
        self.stream.update(remote_rtp=self.remote, remote_rtcp=self.remote_rtcp)

    async def close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is None:
            return
        stats = stream.stats().as_dict()
        await asyncio.to_thread(stream.stop)
        self._stats = stats | {
            "local_rtp": f"{self.host}:{stream.local_port}",
            "remote_rtp": f"{self.remote[0]}:{self.remote[1]}" if self.remote else None,
            "payload_type": PAYLOAD_TYPE,
        }

    def report(self) -> dict[str, Any] | None:
        """What the stream sent and decoded (``VideoStats`` fields), after :meth:`close`."""
        return self._stats
