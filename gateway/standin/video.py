"""The stand-in meeting's video: it answers video offers and sends a composed picture.

Each caller gets the project's compositor's picture of synthetic participants
(:class:`media.video.ComposedSource`) in the layout the dial string's layout field asks for
(``MEETING.PASSCODE.LAYOUT`` or ``MEETING..LAYOUT``: ``11`` speaker, ``308`` dual screen
(speaker and gallery side by side in one stream), ``505``/``608``/none gallery), at the
stand-in's room resolution, framerate and bitrate (:data:`STANDIN_VIDEO`). It reports the
negotiation and, at the end, what it received, as JSON events for its parent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.videoleg import KeyframeAsker, SourceFactory, VideoLegs
from media.video import ComposedSource, layout_for
from signaling.dialstring import DialStringError, parse
from signaling.sip.events import CallStateChanged, EngineEvent, IncomingCall, VideoNegotiated
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase

__all__ = ["PARTICIPANTS", "STANDIN_VIDEO", "StandinVideo", "layout_of", "warm_pictures"]

STANDIN_VIDEO = VideoSettings(width=640, height=360, framerate=15, bitrate_kbps=512)
PARTICIPANTS = 6
"""Synthetic participants in the stand-in meeting's picture."""

Emit = Callable[..., None]


def layout_of(dialled_user: str) -> str:
    """The layout code of a dialled user part (``""``: gallery, the default)."""
    try:
        layout = parse(f"sip:{dialled_user}@standin.invalid").layout or ""
        layout_for(layout, PARTICIPANTS)
    except (DialStringError, ValueError):
        return ""
    return layout


# the sizes rooms ask for, beside the stand-in's own (what a negotiated leg may compose at)
_ROOM_SIZES = ((640, 360), (1280, 720), (1920, 1080))


def warm_pictures(settings: VideoSettings = STANDIN_VIDEO) -> None:
    """Compose one picture of every layout at every size a call may ask for, so that the
    compositor's compiled kernels are compiled (on a fresh machine, seconds with the
    interpreter's lock held) or loaded from their cache before the first call, not in it."""
    sizes = {(settings.width, settings.height), *_ROOM_SIZES}
    for layout in ("", "11", "308"):
        for width, height in sorted(sizes):
            ComposedSource(layout, PARTICIPANTS, width, height).frame(0, 0.0)


class StandinVideo:
    """An engine listener: a video leg per answered call (see the module)."""

    def __init__(
        self,
        engine: KeyframeAsker,
        host: str,
        emit: Emit,
        dialled_user: Callable[[str], str],
        settings: VideoSettings = STANDIN_VIDEO,
    ) -> None:
        self.settings = settings
        self._emit = emit
        self._dialled_user = dialled_user
        self._layouts: dict[str, str] = {}
        self.legs = VideoLegs(engine, settings, host, self._source_for)

    def _source_for(self, call_id: str) -> SourceFactory:
        layout = self._layouts.get(call_id, "")

        def make(width: int, height: int) -> ComposedSource:
            return ComposedSource(layout, PARTICIPANTS, width, height)

        return make

    def on_event(self, event: EngineEvent) -> None:
        if isinstance(event, IncomingCall):
            self._layouts[event.call_id] = layout_of(self._dialled_user(event.local_uri))
        ended = isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED
        if isinstance(event, CallStateChanged) and ended and event.call_id in self.legs.legs:
            leg = self.legs.legs[event.call_id]
            stats = leg.stats()
            if stats is not None:
                self._emit("video_ended", event.call_id, received_frames=stats.decoded_frames,
                           width=stats.width, height=stats.height, fps=stats.fps,
                           sent_frames=stats.frames_sent, lost=stats.lost,
                           keyframes_sent=stats.keyframes_sent,
                           rtcp_keyframe_requests=stats.plis_received + stats.firs_received,
                           info_keyframe_requests=leg.keyframe_requests_received)
        self.legs.on_event(event)
        if isinstance(event, VideoNegotiated):
            layout = self._layouts.get(event.call_id, "")
            data: dict[str, Any] = {"accepted": event.accepted, "codec": event.codec,
                                    "direction": event.direction, "reason": event.reason,
                                    "layout": layout_for(layout, PARTICIPANTS).value}
            self._emit("video", event.call_id, **data)
        if isinstance(event, CallStateChanged) and ended:
            self._layouts.pop(event.call_id, None)

    def stop(self) -> None:
        self.legs.stop()
