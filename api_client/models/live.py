"""Zoom's operator calls: the meeting itself, live dashboard metrics, in-meeting events
(room-system call-out) and Zoom Rooms.

- ``GET /meetings/{meetingId}`` (Light): passcodes for room systems (``h323_password``) and
  phones (``pstn_password``), dial-in numbers;
- ``GET /metrics/meetings?type=live`` (Resource-intensive) and
  ``GET /metrics/meetings/{meetingId}/participants?type=live`` (Heavy): participants whose
  ``device`` is ``H.323/SIP`` hold CRC ports;
- ``PATCH /live_meetings/{meetingId}/events`` (Medium), ``participant.invite.room_system_callout``:
  the meeting calls a room by SIP or H.323 (202, no body);
- ``GET /rooms``, ``/rooms/{roomId}``, ``/rooms/{roomId}/devices`` (Medium).

Enum-like answer fields are plain strings.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, model_validator

from api_client.models._base import ApiModel, RequestModel, Secret
from api_client.models._page import ZoomPage

__all__ = [
    "DialInNumber",
    "LiveMeeting",
    "LiveMeetingPage",
    "Meeting",
    "MeetingParticipant",
    "MeetingParticipantPage",
    "MeetingSettings",
    "ROOM_SYSTEM_DEVICE",
    "RoomSystemCallout",
    "SipHeader",
    "ZoomRoom",
    "ZoomRoomDevice",
    "ZoomRoomDevices",
    "ZoomRoomPage",
]

#: The dashboard's ``device`` of a room system (one CRC port).
ROOM_SYSTEM_DEVICE = "H.323/SIP"


class DialInNumber(ApiModel):
    city: str | None = None
    country: str | None = None
    country_name: str | None = None
    number: str | None = None
    type: str | None = None


class MeetingSettings(ApiModel):
    audio: str | None = None
    global_dial_in_numbers: list[DialInNumber] = Field(default_factory=list)
    global_dial_in_countries: list[str] = Field(default_factory=list)


class Meeting(ApiModel):
    """``GET /meetings/{meetingId}``: passcodes are secrets (masked unless asked for)."""

    id: int
    uuid: str | None = None
    topic: str | None = None
    type: int | None = None
    status: str | None = None
    start_time: str | None = None
    host_id: str | None = None
    join_url: str | None = None
    start_url: Secret | None = None  # carries the host's start token
    password: Secret | None = None
    h323_password: Secret | None = None
    pstn_password: Secret | None = None
    encrypted_password: Secret | None = None
    settings: MeetingSettings | None = None


class LiveMeeting(ApiModel):
    """``GET /metrics/meetings`` item."""

    uuid: str | None = None
    id: int
    topic: str | None = None
    host: str | None = None
    email: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    duration: str | None = None
    participants: int | None = None
    has_sip: bool | None = None
    has_pstn: bool | None = None


class LiveMeetingPage(ZoomPage):
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    meetings: list[LiveMeeting] = Field(default_factory=list)


class MeetingParticipant(ApiModel):
    """``GET /metrics/meetings/{meetingId}/participants`` item."""

    id: str | None = None
    user_id: str | None = None
    user_name: str | None = None
    participant_uuid: str | None = None
    device: str | None = None
    ip_address: str | None = None
    join_time: str | None = None
    leave_time: str | None = None
    leave_reason: str | None = None
    status: str | None = None
    role: str | None = None
    sip_uri: str | None = None
    from_sip_uri: str | None = None
    audio_call: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def is_room_system(self) -> bool:
        """An H.323/SIP room system (one CRC port while in the meeting)."""
        return (self.device or "").strip().lower() == ROOM_SYSTEM_DEVICE.lower()


class MeetingParticipantPage(ZoomPage):
    meeting_number: int | str | None = None
    participants: list[MeetingParticipant] = Field(default_factory=list)


Display = Annotated[str, Field(max_length=64)]


class SipHeader(RequestModel):
    key: str = Field(min_length=1, max_length=32)
    value: str = Field(max_length=256)


class H323Headers(RequestModel):
    from_display_name: Display | None = None
    to_display_name: Display | None = None


class SipHeaders(RequestModel):
    from_display_name: Display | None = None
    to_display_name: Display | None = None
    from_uri: str | None = Field(default=None, max_length=256, pattern=r"^sips?:")
    additional_headers: list[SipHeader] | None = Field(default=None, min_length=1, max_length=10)


class _CalloutParams(RequestModel):
    call_type: Literal["h323", "sip"]
    device_ip: str = Field(min_length=1, max_length=256)
    h323_headers: H323Headers | None = None
    sip_headers: SipHeaders | None = None

    @model_validator(mode="after")
    def _headers_match(self) -> _CalloutParams:
        if self.call_type == "sip" and self.h323_headers is not None:
            raise ValueError("h323_headers go with call_type h323")
        if self.call_type == "h323" and self.sip_headers is not None:
            raise ValueError("sip_headers go with call_type sip")
        return self


class RoomSystemCallout(RequestModel):
    """``PATCH /live_meetings/{meetingId}/events`` body: the meeting calls a room system at
    ``params.device_ip`` (an IP address or a SIP/H.323 URI)."""

    method: Literal["participant.invite.room_system_callout"] = (
        "participant.invite.room_system_callout"
    )
    params: _CalloutParams

    @classmethod
    def to(
        cls,
        device: str,
        call_type: Literal["h323", "sip"] = "sip",
        *,
        from_display_name: str | None = None,
        to_display_name: str | None = None,
    ) -> RoomSystemCallout:
        headers = {"from_display_name": from_display_name, "to_display_name": to_display_name}
        named = {k: v for k, v in headers.items() if v is not None}
        params: dict[str, Any] = {"call_type": call_type, "device_ip": device}
        if named:
            params["sip_headers" if call_type == "sip" else "h323_headers"] = named
        return cls.model_validate({"params": params})


class ZoomRoom(ApiModel):
    """``GET /rooms`` item and ``GET /rooms/{roomId}`` (the profile keeps its extra fields)."""

    id: str = Field(validation_alias=AliasChoices("id", "room_id"))
    room_id: str | None = None
    name: str | None = None
    activation_code: Secret | None = None
    status: str | None = None
    location_id: str | None = None
    tag_ids: list[str] = Field(default_factory=list)


class ZoomRoomPage(ZoomPage):
    rooms: list[ZoomRoom] = Field(default_factory=list)


class ZoomRoomDevice(ApiModel):
    id: str | None = None
    room_name: str | None = None
    device_type: str | None = None
    status: str | None = None
    app_version: str | None = None
    device_system: str | None = None
    device_mac_addresses: list[str] = Field(default_factory=list)
    device_hostname: str | None = None
    device_manufacturer: str | None = None
    device_model: str | None = None
    device_firmware: str | None = None
    ip_address: str | None = None
    serial_number: str | None = None


class ZoomRoomDevices(ApiModel):
    devices: list[ZoomRoomDevice] = Field(default_factory=list)
