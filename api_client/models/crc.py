"""Cloud Room Connector models.

Two families:

- **seed (non-Zoom)**: ``/accounts/{accountId}/crc`` settings and
  ``/accounts/{accountId}/crc/ports`` port usage with ``ports_allocated``/``ports_in_use``, and
  ``/rooms/connectors``. These paths are in the user's document but not in Zoom's published
  API; the crcgw emulator and compatible services serve them.
- **Zoom**: ``GET /metrics/crc`` (hourly port usage, Dashboard API),
  ``/crc/participant_identifier_code``; managed rooms, room templates, API connectors and the
  account setting are in :mod:`api_client.models.crc_rooms` (re-exported here).
"""

from __future__ import annotations

import datetime as dt

from pydantic import Field, IPvAnyAddress, model_validator

from api_client.models._base import ApiModel, RequestModel
from api_client.models._page import ZoomPage
from api_client.models.crc_rooms import (
    DEVICE_TYPES,
    ManagedRoom,
    ManagedRoomCreate,
    ManagedRoomCreated,
    ManagedRoomPage,
    ManagedRoomUpdate,
    RoomTemplate,
    RoomTemplateCreate,
    RoomTemplateCreated,
    RoomTemplatePage,
    RoomTemplateUpdate,
)

__all__ = [
    "CrcDayUsage",
    "CrcHourUsage",
    "CrcPortMetrics",
    "CrcPortUsage",
    "CrcSettings",
    "CrcSettingsUpdate",
    "DEVICE_TYPES",
    "ManagedRoom",
    "ManagedRoomCreate",
    "ManagedRoomCreated",
    "ManagedRoomPage",
    "ManagedRoomUpdate",
    "ParticipantIdentifierCode",
    "RoomConnector",
    "RoomConnectorPage",
    "RoomTemplate",
    "RoomTemplateCreate",
    "RoomTemplateCreated",
    "RoomTemplatePage",
    "RoomTemplateUpdate",
]


class CrcSettings(ApiModel):
    """Seed (non-Zoom) ``GET /accounts/{accountId}/crc``."""

    enabled: bool
    sip_uri: str | None = None
    h323_ip_addresses: list[IPvAnyAddress] = Field(default_factory=list)
    ports_allocated: int = Field(ge=0)
    ports_in_use: int = Field(ge=0)
    ports_available: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _available(self) -> CrcSettings:
        if self.ports_available is None:
            self.ports_available = max(0, self.ports_allocated - self.ports_in_use)
        return self


class CrcSettingsUpdate(RequestModel):
    """Seed (non-Zoom) ``PATCH /accounts/{accountId}/crc`` body. Zoom has no API that sets the
    port allocation; the emulator takes ``ports_allocated`` to stand in for a subscription change.
    """

    enabled: bool | None = None
    sip_uri: str | None = Field(default=None, min_length=3, max_length=255)
    h323_ip_addresses: list[IPvAnyAddress] | None = None
    ports_allocated: int | None = Field(default=None, ge=0, le=10000)


class CrcPortUsage(ApiModel):
    """Seed (non-Zoom) ``GET /accounts/{accountId}/crc/ports``: the live port figures."""

    ports_allocated: int = Field(ge=0)
    ports_in_use: int = Field(ge=0)
    ports_available: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _available(self) -> CrcPortUsage:
        if self.ports_available is None:
            self.ports_available = max(0, self.ports_allocated - self.ports_in_use)
        return self


class CrcHourUsage(ApiModel):
    hour: int = Field(ge=0, le=23)
    max_usage: int = Field(ge=0)
    total_usage: int = Field(ge=0)


class CrcDayUsage(ApiModel):
    date_time: dt.date | dt.datetime
    crc_ports_hour_usage: list[CrcHourUsage] = Field(default_factory=list)


class CrcPortMetrics(ApiModel):
    """Zoom ``GET /metrics/crc?from=&to=`` (Dashboard API, at most one month): hourly usage."""

    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None
    crc_ports_usage: list[CrcDayUsage] = Field(default_factory=list)

    def peak(self) -> int:
        """The highest ``max_usage`` of any hour in the range."""
        return max(
            (hour.max_usage for day in self.crc_ports_usage for hour in day.crc_ports_hour_usage),
            default=0,
        )


class ParticipantIdentifierCode(ApiModel):
    """Zoom ``GET /crc/participant_identifier_code``."""

    participant_identifier_code: str
    expire_in: int | None = None
    paid_crc_plan_participant: bool | None = None


class RoomConnector(ApiModel):
    """Seed (non-Zoom) ``/rooms/connectors`` item."""

    id: str
    name: str | None = None
    status: str | None = None
    ip_address: str | None = None
    ports_allocated: int | None = Field(default=None, ge=0)


class RoomConnectorPage(ZoomPage):
    connectors: list[RoomConnector] = Field(default_factory=list)
