"""What an H.323 dial tells: :class:`DialResult` (how the call went, for people and JSON) and
its story of :class:`DialEvent` lines, and how the call machine's events fill it in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from signaling.h323.call import CallEvent
from signaling.h323.cause import explain
from signaling.h323.h225 import CallMessage
from signaling.h323.h245 import summarize

__all__ = ["DialEvent", "DialResult", "apply_event", "describe", "h245_name"]


@dataclass(frozen=True, slots=True)
class DialEvent:
    """One line of the call's story: seconds since the dial started, direction and message."""

    at: float
    direction: Literal["sent", "received", "info"]
    message: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 4),
            "direction": self.direction,
            "message": self.message,
            "detail": self.detail,
        }


@dataclass(slots=True)
class DialResult:
    """What happened: ``connected`` is true only when the far end sent Connect."""

    target: str
    remote: str
    connected: bool = False
    h245_ready: bool = False
    h245_separate: bool = False  # H.245 ran on its own TCP connection (no tunnelling)
    call_reference: int | None = None
    # fastStart accepted: codec, where RTP went, and what was sent/received (rtp.RtpAudio.report)
    media: dict[str, Any] | None = None
    video: dict[str, Any] | None = None  # H.264 both ways (media.video.VideoStats fields)
    cause: int | None = None
    reason: str | None = None
    error: str | None = None
    events: list[DialEvent] = field(default_factory=list)
    duration: float = 0.0

    @property
    def cause_text(self) -> str | None:
        return None if self.cause is None else explain(self.cause)

    @property
    def outcome(self) -> str:
        """One line for people: ``connected``, ``released: 17 user busy``, or the error."""
        if self.connected:
            text = "connected" + (" (H.245 complete)" if self.h245_ready else "")
            if self.cause is not None:  # set only when the far end released
                text += f"; cleared by the far end: cause {self.cause} {self.cause_text}"
            return text
        if self.cause is not None:
            reason = f", reason {self.reason}" if self.reason else ""
            return f"released by the far end: cause {self.cause} {self.cause_text}{reason}"
        if self.reason is not None:
            return f"released by the far end: reason {self.reason}"
        return self.error or "not connected"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "remote": self.remote,
            "connected": self.connected,
            "h245_ready": self.h245_ready,
            "h245_separate": self.h245_separate,
            "call_reference": self.call_reference,
            "media": self.media,
            "video": self.video,
            "cause": self.cause,
            "cause_text": self.cause_text,
            "reason": self.reason,
            "error": self.error,
            "outcome": self.outcome,
            "duration": round(self.duration, 4),
            "events": [event.as_dict() for event in self.events],
        }


def describe(message: CallMessage) -> str:
    parts: list[str] = []
    if message.q931.cause is not None:
        value = message.q931.cause.value
        parts.append(f"cause {value} {explain(value)}")
    uu = message.uu
    if uu is not None:
        if uu.release_reason:
            parts.append(f"reason {uu.release_reason}")
        if uu.h245_control:
            parts.append("H.245 " + ", ".join(h245_name(data) for data in uu.h245_control))
    return ", ".join(parts)


def h245_name(data: bytes) -> str:
    try:
        return summarize(data).name
    except ValueError:
        return "undecodable"



def apply_event(event: CallEvent, result: DialResult) -> None:
    if event.kind == "connected":
        result.connected = True
    elif event.kind == "h245-ready":
        result.h245_ready = True
    elif event.kind == "released":
        result.cause = event.cause
        result.reason = event.reason
    elif event.kind in ("fast-start", "h245-channel"):
        opened_by = "fastStart" if event.kind == "fast-start" else "OpenLogicalChannel"
        result.media = {
            "codec": event.reason or "",
            "remote_rtp": event.detail,
            "opened_by": opened_by,
        }
