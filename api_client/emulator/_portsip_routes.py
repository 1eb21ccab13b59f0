"""PortSIP routes of the emulator: password-grant OAuth and conference rooms under ``/api``."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._collections import Collection, portsip_routes
from api_client.emulator._core import Ctx, Emulator
from api_client.emulator._forms import FormError, read_form
from api_client.models.rooms import ConferenceRoomCreate, ConferenceRoomUpdate

__all__ = ["portsip_app_routes"]

_VIDEO_DEFAULTS = {
    "width": 1280,
    "height": 720,
    "bitrate": 1024,
    "framerate": 15,
    "layout": "LAYOUT0",
}


def _room_defaults(ctx: Ctx, doc: dict[str, Any]) -> dict[str, Any]:
    """PortSIP's documented defaults (video settings only in VIDEO mode)."""
    doc.setdefault("control", "FREE")
    doc.setdefault("enable_recording", False)
    doc.setdefault("enable_prompt", True)
    if doc["mode"] == "VIDEO":
        for key, value in _VIDEO_DEFAULTS.items():
            doc.setdefault(key, value)
    return doc


ROOMS = Collection(
    "conference_room",
    "/conference_rooms",
    "items",
    ConferenceRoomCreate,
    ConferenceRoomUpdate,
    unique=("extension_number",),
    defaults=_room_defaults,
)


def _refused(message: str, status: int = 401) -> Response:
    return JSONResponse({"errors": [{"code": "UNAUTHORIZED", "message": message}]}, status)


async def token(request: Request, emulator: Emulator) -> Response:
    """``POST /api/login/oauth/token``: ``grant_type=password`` or ``refresh_token``; a body
    that is not a form gets PortSIP's 400 error body."""
    try:
        form = await read_form(request)
    except (FormError, ValueError):
        return JSONResponse(
            {"errors": [{"code": "INVALID_ARGUMENT", "message": "The body must be a form."}]}, 400
        )
    grant = form.get("grant_type")
    if grant == "password":
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        expected = emulator.settings.portsip_users.get(username)
        if expected is None or password != expected:
            return _refused("Invalid username or password.")
        subject = username
    elif grant == "refresh_token":
        redeemed = emulator.store.redeem_refresh("portsip", str(form.get("refresh_token") or ""))
        if redeemed is None:
            return _refused("Invalid or expired refresh token.")
        subject = redeemed
    else:
        return JSONResponse(
            {"errors": [{"code": "INVALID_ARGUMENT", "message": "Unsupported grant_type."}]}, 400
        )
    ttl = emulator.settings.portsip_token_ttl
    access, refresh = emulator.store.issue_token("portsip", subject, ttl, time.time())
    return JSONResponse(
        {
            "access_token": access,
            "expires_in": ttl,
            "refresh_token": refresh,
            "token_type": "Bearer",
        }
    )


def portsip_app_routes(emulator: Emulator) -> list[Route]:
    async def token_endpoint(request: Request) -> Response:
        return await token(request, emulator)

    return [
        Route("/api/login/oauth/token", token_endpoint, methods=["POST"]),
        *portsip_routes(emulator, ROOMS),
    ]
