"""Video of the daemon's calls: rooms with ``video: true`` offer it when they dial and answer
it when a meeting calls them; each call's stream sends the test pattern
(:class:`gateway.videoleg.VideoLeg`) and measures what arrives.

One engine listener (:meth:`RoomVideo.on_event`) routes the engine's video events: to the leg
of a call this daemon placed (:meth:`prepare` before the dial, :meth:`attach` after it), else
to a leg made for an answered call (:class:`gateway.videoleg.VideoLegs`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from gateway.videoleg import DEFAULT_VIDEO, KeyframeAsker, VideoLeg, VideoLegs
from signaling.sip.events import CallStateChanged, EngineEvent, KeyframeRequested, VideoNegotiated
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase

__all__ = ["RoomVideo"]

_MAX_EARLY = 256


class RoomVideo:
    def __init__(
        self,
        engine: KeyframeAsker,
        rooms: Collection[str],
        host: str,
        settings: VideoSettings = DEFAULT_VIDEO,
    ) -> None:
        self.engine, self.rooms, self.host, self.settings = engine, set(rooms), host, settings
        self.outgoing: dict[str, VideoLeg] = {}
        self.answered = VideoLegs(engine, settings, host)
        self._early: dict[str, list[EngineEvent]] = {}

    def endpoint_video(self, room: str) -> VideoSettings | None:
        """What the room's endpoint answers video offers with (``None``: declines)."""
        return self.settings if room in self.rooms else None

    def prepare(self, room: str) -> VideoLeg | None:
        """A leg for a call ``room`` is about to place (its port held), or ``None``."""
        if room not in self.rooms:
            return None
        leg = VideoLeg(self.engine, self.settings, self.host)
        leg.reserve()
        return leg

    def attach(self, leg: VideoLeg, call_id: str) -> None:
        self.outgoing[call_id] = leg
        leg.attach(call_id)
        for event in self._early.pop(call_id, []):
            leg.on_event(event)

    def on_event(self, event: EngineEvent) -> None:
        call_id: Any = getattr(event, "call_id", None)
        if call_id is None:
            return
        if call_id in self.answered.legs:
            self.answered.on_event(event)
            return
        leg = self.outgoing.get(call_id)
        if leg is not None:
            leg.on_event(event)
            if isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
                del self.outgoing[call_id]
            return
        ours = isinstance(event, VideoNegotiated | KeyframeRequested) and not getattr(
            event, "answered", False
        )
        if ours and len(self._early) < _MAX_EARLY:  # the dial has not returned its id yet
            self._early.setdefault(call_id, []).append(event)
            return
        if isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
            self._early.pop(call_id, None)
        self.answered.on_event(event)

    def figures(self, call_id: str) -> dict[str, Any] | None:
        """The video summary of a live or just-ended call (``None``: no video)."""
        leg = self.outgoing.get(call_id) or self.answered.legs.get(call_id)
        return leg.summary() if leg is not None else None

    def stop(self) -> None:
        for leg in self.outgoing.values():
            leg.stop()
        self.outgoing.clear()
        self.answered.stop()
