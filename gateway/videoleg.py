"""One call's video: a :class:`media.video.VideoStream` driven by the SIP engine's events.

The engine negotiates (``signaling/pjsua/_video.py``) and reports :class:`VideoNegotiated`
and :class:`KeyframeRequested`; a :class:`VideoLeg` turns them into stream actions:

- the first accepted negotiation builds the stream on the negotiated local port, with the
  codec, size, rate and bitrate the far end allows, and starts it towards the far end;
- later ones (re-INVITE, hold, resume) ``update`` it: address, codec, direction (then it
  sends a keyframe and asks for one); a declined one makes it ``inactive``;
- a keyframe the stream needs (loss, after a re-INVITE) is asked for by RTCP (the stream) and
  by SIP INFO ``picture_fast_update`` (``engine.request_keyframe``), at most once a second;
- a keyframe the far end asks for by SIP INFO is sent (``force_keyframe``).

For a call we place, :meth:`VideoLeg.reserve` holds the RTP/RTCP port pair until the answer
(the stream binds it then). For calls we answer, :class:`VideoLegs` makes a leg per call from
the first negotiation (the engine picked the port).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Protocol

from media.video import FrameSource, TestPatternSource, VideoCodec, VideoStats, VideoStream
from signaling.sip.events import (
    CallStateChanged,
    EngineEvent,
    KeyframeRequested,
    VideoNegotiated,
)
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase

__all__ = ["DEFAULT_VIDEO", "SourceFactory", "VideoLeg", "VideoLegs", "codec_of"]

logger = logging.getLogger("gateway.video")

DEFAULT_VIDEO = VideoSettings(width=640, height=360, framerate=15, bitrate_kbps=512)
"""What ``crcgw dial`` and ``test-dial`` offer unless told otherwise (a room system's 360p)."""

SourceFactory = Callable[[int, int], FrameSource]
"""Makes the picture to send at the negotiated width and height."""
_INFO_GAP_S = 1.0


class KeyframeAsker(Protocol):
    async def request_keyframe(self, call_id: str) -> None: ...


def codec_of(event: VideoNegotiated) -> VideoCodec:
    """The stream codec of a negotiation (name, payload type, the far end's fmtp/feedback)."""
    fmtp = dict(item.split("=", 1) for item in event.fmtp.split(";") if "=" in item)
    if event.codec == "H264":
        fmtp.setdefault("packetization-mode", "1")
    return VideoCodec(
        str(event.codec), int(event.payload_type or 96), 90000, fmtp, frozenset(event.rtcp_fb)
    )


class VideoLeg:
    """The video of one call (see the module)."""

    def __init__(
        self,
        engine: KeyframeAsker,
        settings: VideoSettings,
        host: str,
        source: SourceFactory = TestPatternSource,
        call_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.host = host
        self.source = source
        self.call_id = call_id
        self.stream: VideoStream | None = None
        self.negotiations: list[VideoNegotiated] = []
        self.keyframe_requests_received = 0
        self.infos_sent = 0
        self.problems: list[str] = []
        self._held: list[socket.socket] = []
        self._last_info = -1e9
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[EngineEvent] = []

    def reserve(self, port: int = 0) -> VideoSettings:
        """Bind an even RTP port (``port``, else a free one) and the next one, kept until the
        answer; the settings to offer (with that port and our address)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        wanted = [port] if port else []
        for attempt in range(50):
            rtp = socket.socket(family, socket.SOCK_DGRAM)
            rtcp = socket.socket(family, socket.SOCK_DGRAM)
            try:
                rtp.bind((self.host, wanted[attempt] if attempt < len(wanted) else 0))
                port = int(rtp.getsockname()[1])
                if port % 2 or port >= 65534:
                    raise OSError("odd port")
                rtcp.bind((self.host, port + 1))
            except OSError:
                rtp.close()
                rtcp.close()
                continue
            self._held = [rtp, rtcp]
            self.settings = replace(self.settings, port=port, host=self.host)
            return self.settings
        raise OSError(f"no free even UDP port pair on {self.host} for video")

    # -- events -------------------------------------------------------------------------------

    def attach(self, call_id: str) -> None:
        """Follow call ``call_id`` (events that came before are applied now)."""
        self.call_id = call_id
        early, self._early = self._early, []
        for event in early:
            self.on_event(event)

    def on_event(self, event: EngineEvent) -> None:
        """An engine listener (event loop thread)."""
        if self.call_id is None:
            if isinstance(event, VideoNegotiated | KeyframeRequested) and len(self._early) < 64:
                self._early.append(event)  # the dial has not told us its call id yet
            return
        if getattr(event, "call_id", None) != self.call_id:
            return
        if isinstance(event, VideoNegotiated):
            self.apply(event)
        elif isinstance(event, KeyframeRequested):
            self.keyframe_requests_received += 1
            if self.stream is not None:
                self.stream.force_keyframe()
        elif isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
            self.stop()

    def apply(self, event: VideoNegotiated) -> None:
        self.negotiations.append(event)
        if not event.accepted:
            if self.stream is not None:
                self.stream.update(direction="inactive")
            self.problems.append(event.reason)
            return
        remote = (event.remote_host or "0.0.0.0", event.remote_port)
        rtcp = (event.remote_host or "0.0.0.0", event.remote_rtcp_port)
        if self.stream is None:
            self._start(event, remote, rtcp)
        else:
            self.stream.update(remote, rtcp, codec_of(event), event.direction)

    def _start(
        self, event: VideoNegotiated, remote: tuple[str, int], rtcp: tuple[str, int]
    ) -> None:
        for sock in self._held:
            sock.close()
        self._held = []
        width, height = event.width or self.settings.width, event.height or self.settings.height
        fps = event.framerate or self.settings.framerate
        kbps = max(32, event.bitrate_kbps or self.settings.bitrate_kbps)
        stream = VideoStream(
            self.host,
            event.local_port,
            codec_of(event),
            self.source(width, height),
            width,
            height,
            fps,
            kbps,
            event.direction,
        )
        with contextlib.suppress(RuntimeError):
            self._loop = asyncio.get_running_loop()
        stream.on_keyframe_needed(self._keyframe_needed)
        stream.start(remote, rtcp)
        self.stream = stream

    def _keyframe_needed(self) -> None:
        """From a stream thread: also ask by SIP INFO, at most once a second."""
        loop = self._loop
        now = time.monotonic()
        if loop is None or loop.is_closed() or now - self._last_info < _INFO_GAP_S:
            return
        self._last_info = now
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._send_info)

    def _send_info(self) -> None:
        if self.call_id is None:
            return
        self.infos_sent += 1
        task = asyncio.ensure_future(self.engine.request_keyframe(self.call_id))
        task.add_done_callback(_log_failure)

    # -- results ------------------------------------------------------------------------------

    @property
    def last(self) -> VideoNegotiated | None:
        return self.negotiations[-1] if self.negotiations else None

    def stats(self) -> VideoStats | None:
        return self.stream.stats() if self.stream is not None else None

    def summary(self, snapshot: Path | None = None) -> dict[str, Any]:
        """What ``crcgw dial --json`` prints: the last negotiation, the stream's figures and
        the snapshot written (``None`` when nothing was decoded)."""
        last = self.last
        stats = self.stats()
        saved = None
        if snapshot is not None and self.stream is not None and self.stream.save_snapshot(snapshot):
            saved = str(snapshot)
        negotiated = None
        if last is not None:
            negotiated = {k: v for k, v in asdict(last).items() if k not in ("at", "call_id")}
        return {
            "negotiated": negotiated,
            "stats": asdict(stats) if stats is not None else None,
            "keyframe_requests_received": self.keyframe_requests_received,
            "infos_sent": self.infos_sent,
            "snapshot": saved,
        }

    def stop(self) -> None:
        for sock in self._held:
            sock.close()
        self._held = []
        if self.stream is not None:
            self.stream.stop()


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.info("SIP INFO picture_fast_update not sent: %s", task.exception())


class VideoLegs:
    """Video legs of the calls an engine answers: one per call, made on its first
    negotiation, stopped when it ends. Add :meth:`on_event` as an engine listener."""

    def __init__(
        self,
        engine: KeyframeAsker,
        settings: VideoSettings,
        host: str,
        source_for: Callable[[str], SourceFactory] = lambda call_id: TestPatternSource,
    ) -> None:
        self.engine, self.settings, self.host = engine, settings, host
        self.source_for = source_for
        self.legs: dict[str, VideoLeg] = {}

    def on_event(self, event: EngineEvent) -> None:
        call_id = getattr(event, "call_id", None)
        if call_id is None:
            return
        leg = self.legs.get(call_id)
        if leg is None and isinstance(event, VideoNegotiated) and event.accepted and event.answered:
            leg = VideoLeg(self.engine, self.settings, self.host, self.source_for(call_id), call_id)
            self.legs[call_id] = leg
        if leg is None:
            return
        try:
            leg.on_event(event)
        except (OSError, ValueError) as exc:  # a port taken meanwhile, an unusable codec
            logger.warning("%s: video not started: %s", call_id, exc)
            leg.problems.append(str(exc))
        if isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
            self.legs.pop(call_id, None)

    def stop(self) -> None:
        for leg in self.legs.values():
            leg.stop()
        self.legs.clear()
