"""CRC management routes of the emulator at Zoom's real paths: ``/crc/managed_rooms`` (keyed
``device_id``), ``/crc/room_templates`` (listed under ``templates``, keyed ``template_id``),
``/crc/api_connectors`` (with their private keys) and ``/crc/managed_rooms/account_setting``.
Creates answer Zoom's 201 bodies; unknown ids answer Zoom's CRC error codes."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._collections import Collection
from api_client.emulator._core import Ctx, Emulator, ZoomFault, validate
from api_client.emulator._forms import form_or_json
from api_client.emulator._store import new_id
from api_client.models.crc_rooms import (
    ApiConnectorCreate,
    ApiConnectorUpdate,
    CrcAccountSettingUpdate,
    ManagedRoomCreate,
    ManagedRoomUpdate,
    RoomTemplateCreate,
    RoomTemplateUpdate,
)

__all__ = ["CRC_COLLECTIONS", "CRC_SIP_SERVER", "crc_management_routes"]

#: Where the emulator tells SIP Proxy rooms to register.
CRC_SIP_SERVER = "sip.zoomcrc.com"


def _managed_room_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """What Zoom fills in: management, statuses, and SIP Proxy registration details."""
    doc.setdefault("manage_type", "SIP Proxy")
    doc["device_management"] = doc["manage_type"] == "Full Management"
    doc["device_id"] = new_id()
    doc["connection_status"] = "none"
    doc["sip_status"] = "unregistered"
    doc["call_status"] = "None"
    doc["server_address"] = CRC_SIP_SERVER
    doc["auth_username"] = f"{doc['device_id']}@generic-device"
    return doc


def _managed_room_created(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "device_id": doc["device_id"],
        "server_address": doc["server_address"],
        "auth_username": doc["auth_username"],
        "reminder": "Register the room at server_address with auth_username and auth_password.",
    }


def _connector_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    doc.update(status="offline", version="1.0.0", managed_rooms=[])
    doc.setdefault("log_level", "INFO")
    doc["private_key"] = _pem_like(new_id())
    return doc


def _pem_like(seed: str) -> str:
    body = base64.b64encode(hashlib.sha256(seed.encode()).digest() * 4).decode()
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def _connector(ctx: Ctx) -> dict[str, Any]:
    doc = ctx.store.get("api_connector", ctx.param("connector_id"))
    if doc is None:
        raise ZoomFault(404, 60071008, "The API connector does not exist.")
    return doc


async def get_private_key(ctx: Ctx) -> Response:
    return JSONResponse({"private_key": _connector(ctx)["private_key"]})


async def rotate_private_key(ctx: Ctx) -> Response:
    doc = _connector(ctx)
    doc["private_key"] = _pem_like(new_id())
    ctx.store.replace("api_connector", doc["id"], doc)
    return JSONResponse({"private_key": doc["private_key"]})


async def get_account_setting(ctx: Ctx) -> Response:
    stored = ctx.store.setting("crc_account_setting", {}) or {}
    body = {"account_id": ctx.subject, "device_management": False, "manage_type": "SIP Proxy"}
    return JSONResponse({**body, **stored})


async def patch_account_setting(ctx: Ctx) -> Response:
    """``PATCH /crc/managed_rooms/account_setting``: ``multipart/form-data`` (Zoom's) or JSON."""
    update = validate(CrcAccountSettingUpdate, await form_or_json(ctx, 60071011))
    stored = ctx.store.setting("crc_account_setting", {}) or {}
    stored.update(update.model_dump(mode="json", exclude_none=True))
    ctx.store.set_setting("crc_account_setting", stored)
    return Response(status_code=204)


CRC_COLLECTIONS = [
    Collection(
        "managed_room",
        "/crc/managed_rooms",
        "managed_rooms",
        ManagedRoomCreate,
        ManagedRoomUpdate,
        id_field="device_id",
        hidden=frozenset({"device_password", "auth_password"}),
        defaults=_managed_room_defaults,
        created_view=_managed_room_created,
        not_found_code=60061003,
    ),
    Collection(
        "room_template",
        "/crc/room_templates",
        "templates",
        RoomTemplateCreate,
        RoomTemplateUpdate,
        id_field="template_id",
        created_view=lambda doc: {"template_id": doc["template_id"]},
        not_found_code=60061043,
    ),
    Collection(
        "api_connector",
        "/crc/api_connectors",
        "api_connectors",
        ApiConnectorCreate,
        ApiConnectorUpdate,
        label="medium",
        list_label="medium",
        hidden=frozenset({"private_key"}),
        defaults=_connector_defaults,
        created_view=lambda doc: {"connector_id": doc["id"]},
        not_found_code=60071008,
    ),
]


def crc_management_routes(emulator: Emulator) -> list[Route]:
    """The routes beside the collections (registered before them: ``account_setting`` is not a
    ``deviceId``)."""
    z = emulator.zoom_route
    key = "/crc/api_connectors/{connector_id}/private_key"
    return [
        z("/crc/managed_rooms/account_setting", get_account_setting, ["GET"]),
        z("/crc/managed_rooms/account_setting", patch_account_setting, ["PATCH"]),
        z(key, get_private_key, ["GET"]),
        z(key, rotate_private_key, ["PATCH"], "medium"),
    ]
