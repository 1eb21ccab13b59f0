"""Builders for the operator calls: the meeting, live dashboard metrics, room-system call-out
and Zoom Rooms (all Zoom; labels as Zoom prints them, ``GET /rooms/{roomId}``'s not confirmed)."""

from __future__ import annotations

import datetime as dt

from api_client._call import Call, empty, model, op
from api_client.endpoints._common import page_size
from api_client.models.live import (
    LiveMeetingPage,
    Meeting,
    MeetingParticipantPage,
    RoomSystemCallout,
    ZoomRoom,
    ZoomRoomDevices,
    ZoomRoomPage,
)
from api_client.ratelimit import RateLabel

__all__ = [
    "get_meeting",
    "live_meetings",
    "live_participants",
    "room_devices",
    "room_system_callout",
    "zoom_room",
    "zoom_rooms",
]


def _meeting_id(meeting_id: str | int) -> str:
    text = str(meeting_id).replace(" ", "").replace("-", "")
    if not text.isdigit():
        raise ValueError(f"a meeting id is digits (got {meeting_id!r})")
    return text


def get_meeting(meeting_id: str | int, occurrence_id: str | None = None) -> Call[Meeting]:
    """``GET /meetings/{meetingId}`` (Light)."""
    return op(
        "GET",
        "/meetings/{meetingId}",
        model(Meeting),
        ids={"meetingId": _meeting_id(meeting_id)},
        params={"occurrence_id": occurrence_id},
        label=RateLabel.LIGHT,
    )


def live_meetings(
    start: dt.date, end: dt.date, size: int | None = None
) -> Call[LiveMeetingPage]:
    """``GET /metrics/meetings?type=live&from=&to=`` (Resource-intensive; from/to required,
    at most one month)."""
    if end < start:
        raise ValueError(f"to ({end}) is before from ({start})")
    if (end - start).days > 31:
        raise ValueError("Zoom answers at most one month of meetings")
    return op(
        "GET",
        "/metrics/meetings",
        model(LiveMeetingPage),
        params={
            "type": "live",
            "from": start.isoformat(),
            "to": end.isoformat(),
            "page_size": page_size(size),
        },
        label=RateLabel.RESOURCE_INTENSIVE,
    )


def live_participants(
    meeting_id: str | int, size: int | None = None
) -> Call[MeetingParticipantPage]:
    """``GET /metrics/meetings/{meetingId}/participants?type=live`` (Heavy)."""
    return op(
        "GET",
        "/metrics/meetings/{meetingId}/participants",
        model(MeetingParticipantPage),
        ids={"meetingId": str(meeting_id)},
        params={"type": "live", "page_size": page_size(size)},
        label=RateLabel.HEAVY,
    )


def room_system_callout(meeting_id: str | int, body: RoomSystemCallout) -> Call[None]:
    """``PATCH /live_meetings/{meetingId}/events`` (Medium): 202, no body."""
    if not isinstance(body, RoomSystemCallout):
        raise TypeError(f"expected RoomSystemCallout, got {type(body).__name__}")
    return op(
        "PATCH",
        "/live_meetings/{meetingId}/events",
        empty,
        ids={"meetingId": _meeting_id(meeting_id)},
        json=body.to_wire(),
        label=RateLabel.MEDIUM,
    )


def zoom_rooms(
    size: int | None = None, *, status: str | None = None, room_type: str | None = None,
    query_name: str | None = None, location_id: str | None = None,
) -> Call[ZoomRoomPage]:
    """``GET /rooms`` (Medium)."""
    return op(
        "GET",
        "/rooms",
        model(ZoomRoomPage),
        params={"page_size": page_size(size), "status": status, "type": room_type,
                "query_name": query_name, "location_id": location_id},
        label=RateLabel.MEDIUM,
    )


def zoom_room(room_id: str) -> Call[ZoomRoom]:
    """``GET /rooms/{roomId}`` (label not confirmed: Medium)."""
    return op("GET", "/rooms/{roomId}", model(ZoomRoom), ids={"roomId": room_id},
              label=RateLabel.MEDIUM)


def room_devices(room_id: str) -> Call[ZoomRoomDevices]:
    """``GET /rooms/{roomId}/devices`` (Medium)."""
    return op("GET", "/rooms/{roomId}/devices", model(ZoomRoomDevices), ids={"roomId": room_id},
              label=RateLabel.MEDIUM)
