"""Builders for CRC settings and port usage, dial-in, managed rooms, templates, API connectors and
the CRC account setting."""

from __future__ import annotations

import datetime as dt

from api_client._call import Call, empty, model, op, seed_only
from api_client.endpoints._common import Crud
from api_client.models._base import RequestModel
from api_client.models.crc import (
    CrcPortMetrics,
    CrcPortUsage,
    CrcSettings,
    CrcSettingsUpdate,
    ParticipantIdentifierCode,
    RoomConnector,
    RoomConnectorPage,
)
from api_client.models.crc_rooms import (
    ApiConnector,
    ApiConnectorCreate,
    ApiConnectorCreated,
    ApiConnectorPage,
    ApiConnectorPrivateKey,
    ApiConnectorUpdate,
    CrcAccountSetting,
    CrcAccountSettingUpdate,
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
from api_client.models.meetings import (
    H323Dialing,
    MeetingInvitation,
    MeetingSipUri,
    MeetingSipUriRequest,
    SeedSipDialing,
)
from api_client.ratelimit import RateLabel

LIGHT, MEDIUM = RateLabel.LIGHT, RateLabel.MEDIUM

#: Zoom: ``/crc/managed_rooms`` (GET/POST) and ``/crc/managed_rooms/{deviceId}`` (GET/PATCH/DELETE);
#: Light, except the detail (Medium).
MANAGED_ROOMS = Crud(
    "/crc/managed_rooms",
    "deviceId",
    "managed_rooms",
    ManagedRoom,
    ManagedRoomPage,
    ManagedRoomCreated,
    ManagedRoomCreate,
    ManagedRoomUpdate,
    get_label=MEDIUM,
)
#: Zoom: ``/crc/room_templates`` and ``/crc/room_templates/{templateId}`` (Light).
ROOM_TEMPLATES = Crud(
    "/crc/room_templates",
    "templateId",
    "templates",
    RoomTemplate,
    RoomTemplatePage,
    RoomTemplateCreated,
    RoomTemplateCreate,
    RoomTemplateUpdate,
)
#: Zoom: ``/crc/api_connectors`` and ``/crc/api_connectors/{connectorId}`` (Medium).
API_CONNECTORS = Crud(
    "/crc/api_connectors",
    "connectorId",
    "api_connectors",
    ApiConnector,
    ApiConnectorPage,
    ApiConnectorCreated,
    ApiConnectorCreate,
    ApiConnectorUpdate,
    label=MEDIUM,
    list_label=MEDIUM,
)
_USE_API_CONNECTORS = "use /crc/api_connectors (client.api_connectors)"
#: Seed (non-Zoom): ``/rooms/connectors`` and ``/rooms/connectors/{connectorId}`` (read only).
ROOM_CONNECTORS = Crud(
    "/rooms/connectors",
    "connectorId",
    "connectors",
    RoomConnector,
    RoomConnectorPage,
    RoomConnector,
    RequestModel,
    RequestModel,
    list_label=MEDIUM,
    not_at_zoom={"list": _USE_API_CONNECTORS, "get": _USE_API_CONNECTORS},
)


def api_connector_private_key(connector_id: str) -> Call[ApiConnectorPrivateKey]:
    """Zoom: ``GET /crc/api_connectors/{connectorId}/private_key`` (Light)."""
    return op(
        "GET",
        "/crc/api_connectors/{connectorId}/private_key",
        model(ApiConnectorPrivateKey),
        ids={"connectorId": connector_id},
        label=LIGHT,
    )


def rotate_api_connector_private_key(connector_id: str) -> Call[ApiConnectorPrivateKey]:
    """Zoom: ``PATCH /crc/api_connectors/{connectorId}/private_key`` (Medium): a new key."""
    return op(
        "PATCH",
        "/crc/api_connectors/{connectorId}/private_key",
        model(ApiConnectorPrivateKey),
        ids={"connectorId": connector_id},
        label=MEDIUM,
    )


def crc_account_setting() -> Call[CrcAccountSetting]:
    """Zoom: ``GET /crc/managed_rooms/account_setting`` (Light)."""
    return op(
        "GET", "/crc/managed_rooms/account_setting", model(CrcAccountSetting), label=LIGHT
    )


def update_crc_account_setting(update: CrcAccountSettingUpdate) -> Call[None]:
    """Zoom: ``PATCH /crc/managed_rooms/account_setting`` as ``multipart/form-data`` (204)."""
    return op(
        "PATCH",
        "/crc/managed_rooms/account_setting",
        empty,
        multipart=update.to_form(),
        label=LIGHT,
    )


_CRC_SETTINGS_ALTERNATIVE = (
    "use GET/PATCH /crc/managed_rooms/account_setting (client.crc.account_setting) and, for "
    "port usage, GET /metrics/meetings?type=live or GET /metrics/crc"
)


def crc_settings(account_id: str) -> Call[CrcSettings]:
    """Seed (non-Zoom): ``GET /accounts/{accountId}/crc``."""
    return op(
        "GET",
        "/accounts/{accountId}/crc",
        model(CrcSettings),
        ids={"accountId": account_id},
        label=LIGHT,
        not_at_zoom=seed_only(_CRC_SETTINGS_ALTERNATIVE),
    )


def update_crc_settings(account_id: str, update: CrcSettingsUpdate) -> Call[None]:
    """Seed (non-Zoom): ``PATCH /accounts/{accountId}/crc``."""
    return op(
        "PATCH",
        "/accounts/{accountId}/crc",
        empty,
        ids={"accountId": account_id},
        json=update.to_wire(),
        label=LIGHT,
        not_at_zoom=seed_only(_CRC_SETTINGS_ALTERNATIVE),
    )


def crc_ports(account_id: str) -> Call[CrcPortUsage]:
    """Seed (non-Zoom): ``GET /accounts/{accountId}/crc/ports``."""
    return op(
        "GET",
        "/accounts/{accountId}/crc/ports",
        model(CrcPortUsage),
        ids={"accountId": account_id},
        label=LIGHT,
        not_at_zoom=seed_only(
            "use GET /metrics/meetings/{meetingId}/participants?type=live (live) or "
            "GET /metrics/crc (hourly)"
        ),
    )


def crc_port_metrics(start: dt.date, end: dt.date) -> Call[CrcPortMetrics]:
    """Zoom: ``GET /metrics/crc?from=&to=`` (Dashboard; at most one month)."""
    if end < start:
        raise ValueError(f"to ({end}) is before from ({start})")
    if (end - start).days > 31:
        raise ValueError("Zoom answers at most one month of CRC port usage")
    return op(
        "GET",
        "/metrics/crc",
        model(CrcPortMetrics),
        params={"from": start.isoformat(), "to": end.isoformat()},
        label=RateLabel.HEAVY,
    )


def participant_identifier_code(expires_in: int | None = None) -> Call[ParticipantIdentifierCode]:
    """Zoom: ``GET /crc/participant_identifier_code`` (``expires_in`` >= 30, default 43200)."""
    if expires_in is not None and expires_in < 30:
        raise ValueError(f"expires_in must be >= 30 seconds (got {expires_in})")
    return op(
        "GET",
        "/crc/participant_identifier_code",
        model(ParticipantIdentifierCode),
        params={"expires_in": expires_in},
        label=LIGHT,
    )


def seed_sip_dialing(meeting_id: str) -> Call[SeedSipDialing]:
    """Seed (non-Zoom): ``GET /meetings/{meetingId}/sip_dialing``."""
    return op(
        "GET",
        "/meetings/{meetingId}/sip_dialing",
        model(SeedSipDialing),
        ids={"meetingId": meeting_id},
        label=MEDIUM,
        not_at_zoom=seed_only(
            "use POST /meetings/{meetingId}/sip_dialing (client.meetings.create_sip_uri)"
        ),
    )


def create_sip_uri(meeting_id: str, request: MeetingSipUriRequest) -> Call[MeetingSipUri]:
    """Zoom: ``POST /meetings/{meetingId}/sip_dialing``."""
    return op(
        "POST",
        "/meetings/{meetingId}/sip_dialing",
        model(MeetingSipUri),
        ids={"meetingId": meeting_id},
        json=request.to_wire(),
        label=MEDIUM,
    )


def seed_h323_dialing(meeting_id: str) -> Call[H323Dialing]:
    """Seed (non-Zoom): ``GET /meetings/{meetingId}/h323_dialing``."""
    return op(
        "GET",
        "/meetings/{meetingId}/h323_dialing",
        model(H323Dialing),
        ids={"meetingId": meeting_id},
        label=MEDIUM,
        not_at_zoom=seed_only(
            "use GET /meetings/{meetingId} (h323_password) and GET "
            "/meetings/{meetingId}/invitation (the H.323 addresses)"
        ),
    )


def meeting_invitation(meeting_id: str) -> Call[MeetingInvitation]:
    """Zoom: ``GET /meetings/{meetingId}/invitation`` (its text lists the H.323 addresses)."""
    return op(
        "GET",
        "/meetings/{meetingId}/invitation",
        model(MeetingInvitation),
        ids={"meetingId": meeting_id},
        label=LIGHT,
    )
