"""Zoom's Conference Room Connector management API (``/crc/...``), as Zoom publishes it.

- ``/crc/managed_rooms``: items keyed ``device_id``; create answers 201 with ``device_id``,
  ``server_address``, ``auth_username`` and ``reminder``; update and delete answer 204.
- ``/crc/room_templates``: the list is under ``templates``, items keyed ``template_id``; create
  needs ``name`` and ``device_type`` and answers 201 ``{template_id}``.
- ``/crc/api_connectors``: items keyed ``id``; create answers 201 ``{connector_id}``; the
  private key is read and rotated at ``/crc/api_connectors/{id}/private_key``.
- ``/crc/managed_rooms/account_setting``: the account's provisioning defaults (PATCH is
  ``multipart/form-data``).

Answers keep enum fields (``manage_type``, ``device_type``, statuses) as plain strings, so a value
Zoom adds later never fails a page; requests check them against the values Zoom documents.
"""

from __future__ import annotations

import ipaddress
from typing import Literal, get_args

from pydantic import AliasChoices, ConfigDict, Field, IPvAnyAddress, field_validator

from api_client.models._base import ApiModel, RequestModel, Secret
from api_client.models._page import ZoomPage

__all__ = [
    "API_CONNECTOR_LOG_LEVELS",
    "ApiConnector",
    "ApiConnectorCreate",
    "ApiConnectorCreated",
    "ApiConnectorPage",
    "ApiConnectorPrivateKey",
    "ApiConnectorUpdate",
    "CrcAccountSetting",
    "CrcAccountSettingUpdate",
    "DEVICE_TYPES",
    "MANAGE_TYPES",
    "ManagedRoom",
    "ManagedRoomCreate",
    "ManagedRoomCreated",
    "ManagedRoomPage",
    "ManagedRoomUpdate",
    "RoomTemplate",
    "RoomTemplateCreate",
    "RoomTemplateCreated",
    "RoomTemplatePage",
    "RoomTemplateUpdate",
]

ManageType = Literal["Full Management", "SIP Proxy"]
DeviceType = Literal[
    "Cisco Series",
    "Polycom Group Series",
    "Polycom Trio",
    "Polycom HDX",
    "Polycom Debut",
    "Lifesize Icon",
    "Dolby",
]
LogLevel = Literal["OFF", "ERROR", "WARN", "INFO", "DEBUG"]
CallRate = Literal[-1, 192, 256, 384, 512, 768, 1024, 1472, 1920, 2048, 3072, 3840, 4096, 6144]
MANAGE_TYPES: tuple[str, ...] = get_args(ManageType)
DEVICE_TYPES: tuple[str, ...] = get_args(DeviceType)
API_CONNECTOR_LOG_LEVELS: tuple[str, ...] = get_args(LogLevel)


class ManagedRoom(ApiModel):
    """``GET /crc/managed_rooms`` item and ``GET /crc/managed_rooms/{deviceId}``.

    The detail's ~60 provisioning switches are kept as extra fields."""

    device_id: str = Field(min_length=1, validation_alias=AliasChoices("device_id", "id"))
    name: str | None = None
    device_management: bool | None = None
    manage_type: str | None = None
    device_type: str | None = None
    serial_number: str | None = None
    ip_address: str | None = None
    template_id: str | None = None
    connector_id: str | None = None
    create_time: str | None = None
    dynamic_ip_address: str | None = None
    firmware_version: str | None = None
    hardware_version: str | None = None
    connection_status: str | None = None
    provisioning_status: str | None = None
    sip_status: str | None = None
    call_status: str | None = None
    personal_meeting_id: str | int | None = None
    call_rate: int | None = None
    device_username: str | None = None
    device_password: Secret | None = None
    auth_password: Secret | None = None

    @property
    def id(self) -> str:
        """The ``device_id`` (the path parameter of get, update and delete)."""
        return self.device_id


class ManagedRoomPage(ZoomPage):
    managed_rooms: list[ManagedRoom] = Field(default_factory=list)


class ManagedRoomCreated(ApiModel):
    """``POST /crc/managed_rooms`` 201: SIP Proxy rooms register at ``server_address`` as
    ``auth_username``."""

    device_id: str = Field(min_length=1)
    server_address: str | None = None
    auth_username: str | None = None
    reminder: str | None = None

    @property
    def id(self) -> str:
        return self.device_id


class ManagedRoomCreate(RequestModel):
    """``POST /crc/managed_rooms`` body (Zoom marks no field required)."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    manage_type: ManageType | None = None
    device_type: DeviceType | None = None
    template_id: str | None = None
    serial_number: str | None = Field(default=None, max_length=128)
    ip_address: IPvAnyAddress | None = None
    device_username: str | None = Field(default=None, max_length=128)
    device_password: Secret | None = None
    #: The SIP password of a SIP Proxy room: 8 to 32 characters.
    auth_password: Secret | None = Field(default=None, min_length=8, max_length=32)


class ManagedRoomUpdate(RequestModel):
    """``PATCH /crc/managed_rooms/{deviceId}`` body (204)."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    template_id: str | None = None
    ip_address: IPvAnyAddress | None = None
    device_username: str | None = Field(default=None, max_length=128)
    device_password: Secret | None = None
    auth_password: Secret | None = Field(default=None, min_length=8, max_length=32)


class RoomTemplate(ApiModel):
    """``/crc/room_templates`` item (``template_id``, ``name``, ``device_type``); the detail's
    settings are kept as extra fields."""

    template_id: str = Field(min_length=1, validation_alias=AliasChoices("template_id", "id"))
    name: str | None = None
    device_type: str | None = None
    call_rate: int | None = None

    @property
    def id(self) -> str:
        return self.template_id


class RoomTemplatePage(ZoomPage):
    templates: list[RoomTemplate] = Field(
        default_factory=list, validation_alias=AliasChoices("templates", "room_templates")
    )


class RoomTemplateCreated(ApiModel):
    template_id: str = Field(min_length=1)

    @property
    def id(self) -> str:
        return self.template_id


class RoomTemplateCreate(RequestModel):
    """``POST /crc/room_templates`` body: ``name`` and ``device_type`` are required."""

    name: str = Field(min_length=1, max_length=128)
    device_type: DeviceType
    call_rate: CallRate | None = None
    enable_1080p: bool | None = None
    force_720p: bool | None = None
    out_of_band_dtmf: bool | None = None


class RoomTemplateUpdate(RequestModel):
    """``PATCH /crc/room_templates/{templateId}`` body (204)."""

    name: str | None = Field(default=None, min_length=1, max_length=128)
    call_rate: CallRate | None = None
    enable_1080p: bool | None = None
    force_720p: bool | None = None
    out_of_band_dtmf: bool | None = None


class ApiConnector(ApiModel):
    """``/crc/api_connectors`` item; the detail adds ``log_level`` and ``managed_rooms``."""

    id: str = Field(min_length=1, validation_alias=AliasChoices("id", "connector_id"))
    description: str | None = None
    status: str | None = None
    networks: str | None = None
    enable_automatic_update: bool | None = None
    version: str | None = None
    log_level: str | None = None
    managed_rooms: list[dict[str, object]] = Field(default_factory=list, max_length=1000)


class ApiConnectorPage(ZoomPage):
    api_connectors: list[ApiConnector] = Field(default_factory=list)


class ApiConnectorCreated(ApiModel):
    connector_id: str = Field(min_length=1)

    @property
    def id(self) -> str:
        return self.connector_id


def _networks(value: str | None) -> str | None:
    """Comma-separated CIDRs, each checked."""
    if value is None:
        return None
    for part in value.split(","):
        try:
            ipaddress.ip_network(part.strip(), strict=False)
        except ValueError:
            raise ValueError(f"not a network (CIDR): {part.strip()!r}") from None
    return value


class ApiConnectorCreate(RequestModel):
    """``POST /crc/api_connectors`` body (201 ``{connector_id}``)."""

    description: str | None = Field(default=None, max_length=256)
    networks: str | None = None
    log_level: LogLevel | None = None
    enable_automatic_update: bool | None = None

    _check_networks = field_validator("networks")(_networks)


class ApiConnectorUpdate(ApiConnectorCreate):
    """``PATCH /crc/api_connectors/{connectorId}`` body (204)."""


class ApiConnectorPrivateKey(ApiModel):
    """``GET /crc/api_connectors/{connectorId}/private_key`` (and the PATCH that rotates it)."""

    private_key: Secret


class CrcAccountSetting(ApiModel):
    """``GET /crc/managed_rooms/account_setting``; the provisioning switches are extra fields."""

    account_id: str | None = None
    device_management: bool | None = None
    manage_type: str | None = None


class CrcAccountSettingUpdate(RequestModel):
    """``PATCH /crc/managed_rooms/account_setting`` (sent as ``multipart/form-data``, 204).

    Besides the named fields, any provisioning switch Zoom documents may be given by name
    (booleans, numbers or text only)."""

    model_config = ConfigDict(extra="allow")

    device_management: bool | None = None
    manage_type: ManageType | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _scalar(cls, value: object) -> object:
        if value is not None and not isinstance(value, bool | int | str):
            raise ValueError("account settings are booleans, numbers or text")
        return value

    def to_form(self) -> dict[str, str]:
        """The multipart text fields (booleans as ``true``/``false``)."""
        form: dict[str, str] = {}
        for key, value in self.to_wire().items():
            if not isinstance(value, bool | int | str):
                raise ValueError(f"{key}: account settings are booleans, numbers or text")
            form[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return form
