"""PortSIP PBX conference rooms (REST API 22.0, seed ``003_…``).

Every bound of the seed: ``extension_number`` ``[0-9]{3,64}``, ``mode`` AUDIO/VIDEO, ``control``
FREE/MASTER, ``width``/``height`` 144..1920, ``bitrate`` 128..10240 kbps, ``framerate`` 5..30,
``layout`` LAYOUT0/1/2/3/4/6/9, ``capacity`` 1..200, numeric PINs of 3..6 digits, RFC 3339 times,
IANA time zones, BCP 47 languages, ``numbers`` up to 128 characters, ``subject`` 1..64.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field

from api_client.models._base import (
    ApiModel,
    Bcp47Language,
    IanaTimeZone,
    JsonText,
    NumericPin,
    RequestModel,
    Rfc3339,
    Secret,
)

__all__ = [
    "CONTROLS",
    "ConferenceRoom",
    "ConferenceRoomCreate",
    "ConferenceRoomCreated",
    "ConferenceRoomPage",
    "ConferenceRoomUpdate",
    "LAYOUTS",
    "MODES",
    "OutboundCallerId",
]

Mode = Literal["AUDIO", "VIDEO"]
Control = Literal["FREE", "MASTER"]
Layout = Literal["LAYOUT0", "LAYOUT1", "LAYOUT2", "LAYOUT3", "LAYOUT4", "LAYOUT6", "LAYOUT9"]
MODES: tuple[str, ...] = get_args(Mode)
CONTROLS: tuple[str, ...] = get_args(Control)
LAYOUTS: tuple[str, ...] = get_args(Layout)

Extension = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[0-9]{3,64}$")]
Dimension = Annotated[int, Field(ge=144, le=1920)]
Bitrate = Annotated[int, Field(ge=128, le=10240)]
Framerate = Annotated[int, Field(ge=5, le=30)]
Capacity = Annotated[int, Field(ge=1, le=200)]
Subject = Annotated[str, Field(min_length=1, max_length=64)]
Numbers = Annotated[str, Field(max_length=128)]


class OutboundCallerId(RequestModel):
    """One ``outbound_caller_ids`` entry of a PortSIP conference room."""

    provider_id: str = Field(min_length=1, max_length=64)
    caller_id: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=1024)


class _RoomSettings(RequestModel):
    """Fields that both create and update may carry."""

    control: Control | None = None
    width: Dimension | None = None
    height: Dimension | None = None
    bitrate: Bitrate | None = None
    framerate: Framerate | None = None
    layout: Layout | None = None
    language: Bcp47Language | None = None
    admin_pin: NumericPin | None = None
    room_pin: NumericPin | None = None
    enable_prompt: bool | None = None
    timezone: IanaTimeZone | None = None
    scheduled_start_at: Rfc3339 | None = None
    scheduled_end_at: Rfc3339 | None = None
    numbers: Numbers | None = None
    external_invitees: str | None = None
    #: Extension numbers (or ids) of the PBX's users invited to the room.
    internal_invitees: list[str] | None = None
    outbound_caller_ids: list[OutboundCallerId] | None = None
    custom_options: JsonText | None = None


class ConferenceRoomCreate(_RoomSettings):
    """``POST /conference_rooms`` body (201 -> ``{"id": …}``)."""

    extension_number: Extension
    mode: Mode
    subject: Subject
    capacity: Capacity = 9
    enable_recording: bool | None = None


class ConferenceRoomUpdate(_RoomSettings):
    """``POST /conference_rooms/{id}`` body (PortSIP updates with POST; 200, no content)."""

    subject: Subject | None = None
    capacity: Capacity | None = None


class ConferenceRoomCreated(ApiModel):
    id: str = Field(min_length=1)


class ConferenceRoom(ApiModel):
    """``GET /conference_rooms/{id}``; the same bounds apply to what the PBX answers."""

    id: str = Field(min_length=1)
    extension_number: Extension | None = None
    mode: str | None = None  # MODES; answers keep any value as a string
    control: str | None = None  # CONTROLS
    width: Dimension | None = None
    height: Dimension | None = None
    bitrate: Bitrate | None = None
    framerate: Framerate | None = None
    layout: str | None = None  # LAYOUTS
    subject: Subject | None = None
    language: Bcp47Language | None = None
    capacity: Capacity | None = None
    admin_pin: NumericPin | None = None
    room_pin: NumericPin | None = None
    enable_recording: bool | None = None
    enable_prompt: bool | None = None
    timezone: IanaTimeZone | None = None
    created_at: Rfc3339 | None = None
    scheduled_start_at: Rfc3339 | None = None
    scheduled_end_at: Rfc3339 | None = None
    numbers: Numbers | None = None
    external_invitees: str | None = None
    internal_invitees: list[str | dict[str, object]] = Field(default_factory=list)
    outbound_caller_ids: list[dict[str, object]] = Field(default_factory=list)
    domain: str | None = Field(default=None, min_length=1, max_length=280)
    sbc_host: str | None = None
    sbc_port: int | None = Field(default=None, ge=0, le=65535)
    token: Secret | None = None
    custom_options: str | None = None


class ConferenceRoomPage(ApiModel):
    """``GET /conference_rooms``: ``count`` is the total, ``items`` this page."""

    count: int | None = Field(default=None, ge=0)
    items: list[ConferenceRoom] = Field(default_factory=list)
