"""Zoom routes of the emulator: OAuth, CRC, devices, meetings, SIP trunk and the emulator's own
control API (``/v2/_emulator/…``, emulator-only)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._collections import Collection, zoom_routes
from api_client.emulator._core import Ctx, Emulator, ZoomFault, validate
from api_client.emulator._crc_routes import CRC_COLLECTIONS, crc_management_routes
from api_client.emulator._forms import FormError, form_or_json, read_form
from api_client.emulator._webhooks import notify_participant
from api_client.models.crc import CrcSettingsUpdate
from api_client.models.devices import (
    H323DeviceCreate,
    H323DeviceUpdate,
    SipPhoneCreate,
    SipPhoneUpdate,
    SipPhoneV2Create,
    SipPhoneV2Update,
)
from api_client.models.emulator import EmulatorConfigUpdate, StartCall
from api_client.models.meetings import MeetingSipUriRequest
from api_client.models.trunk import SipTrunkSettings

__all__ = [
    "CRC_DOMAIN",
    "CRC_H323_ADDRESSES",
    "meeting_id_of",
    "meeting_passcode",
    "zoom_app_routes",
]

#: Zoom CRC H.323 addresses the emulator hands out (from Zoom's published list).
CRC_H323_ADDRESSES = ["162.255.37.11", "162.255.36.11", "221.122.88.195", "115.114.131.7"]
CRC_DOMAIN = "zoomcrc.com"


def meeting_passcode(meeting_id: str) -> str:
    """The emulator's passcode for a meeting: six digits derived from its id (stable)."""
    digest = hashlib.sha256(f"crcgw-emulator:{meeting_id}".encode()).hexdigest()
    return str(int(digest[:12], 16) % 1_000_000).zfill(6)


def meeting_id_of(ctx: Ctx) -> str:
    meeting_id = ctx.param("meeting_id")
    if not meeting_id.isdigit() or not 9 <= len(meeting_id) <= 11:
        raise ZoomFault(404, 3001, "Meeting does not exist: " + meeting_id[:20] + ".")
    return meeting_id


def _account(ctx: Ctx) -> str:
    """The path's account: ``me`` or the token's account; others are not this master's (2001)."""
    account = ctx.param("account_id")
    if account not in ("me", ctx.subject):
        raise ZoomFault(
            404, 2001, "This account does not exist or does not belong to this master account."
        )
    return ctx.subject


def _oauth_error(status: int, error: str, reason: str) -> Response:
    return JSONResponse({"reason": reason, "error": error}, status)


async def _token_params(request: Request) -> dict[str, str] | None:
    """``grant_type``/``account_id`` from the query string (Zoom's documented form) and a form
    body (what SDKs send); ``None`` when the body is neither empty nor a readable form."""
    params = dict(request.query_params)
    if not await request.body():
        return params
    try:
        form = await read_form(request)
    except (FormError, ValueError):
        return None
    return {**params, **form}


def _basic_client(request: Request) -> tuple[str, str]:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except ValueError:
        return "", ""
    return client_id, secret


async def token(request: Request, emulator: Emulator) -> Response:
    """``POST /oauth/token``: ``grant_type=account_credentials`` and ``account_id`` in the query
    string or an ``application/x-www-form-urlencoded`` body, HTTP Basic client credentials.
    Malformed requests get Zoom's OAuth error body (``{"reason", "error"}``), never a 500."""
    params = await _token_params(request)
    if params is None:
        return _oauth_error(400, "invalid_request", "The request body must be a form")
    client_id, secret = _basic_client(request)
    settings = emulator.settings
    if not client_id or (
        not settings.accept_any_credentials
        and (client_id != settings.client_id or secret != settings.client_secret)
    ):
        return _oauth_error(401, "invalid_client", "Invalid client_id or client_secret")
    if params.get("grant_type") != "account_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant type")
    account = str(params.get("account_id") or "")
    if not account:
        return _oauth_error(400, "invalid_request", "Missing account_id")
    ttl = int(emulator.live("token_ttl"))
    access, _ = emulator.store.issue_token("zoom", account, ttl, time.time())
    return JSONResponse(
        {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": ttl,
            "scope": "crc:master",
            "api_url": str(request.base_url).rstrip("/"),
        }
    )


def _crc_settings(ctx: Ctx) -> dict[str, Any]:
    stored = ctx.store.setting("crc", {}) or {}
    allocated = int(ctx.emulator.live("ports_allocated"))
    in_use = ctx.store.ports_in_use()
    return {
        "enabled": stored.get("enabled", True),
        "sip_uri": stored.get("sip_uri", f"meeting_id@{CRC_DOMAIN}"),
        "h323_ip_addresses": stored.get("h323_ip_addresses", CRC_H323_ADDRESSES[:2]),
        "ports_allocated": allocated,
        "ports_in_use": in_use,
        "ports_available": max(0, allocated - in_use),
    }


async def get_crc(ctx: Ctx) -> Response:
    _account(ctx)
    return JSONResponse(_crc_settings(ctx))


async def patch_crc(ctx: Ctx) -> Response:
    _account(ctx)
    update = validate(CrcSettingsUpdate, await ctx.json())
    changes = update.model_dump(mode="json", exclude_none=True)
    allocated = changes.pop("ports_allocated", None)
    if allocated is not None:
        ctx.store.set_setting("ports_allocated", allocated)
    stored = ctx.store.setting("crc", {}) or {}
    stored.update(changes)
    ctx.store.set_setting("crc", stored)
    return Response(status_code=204)


async def get_ports(ctx: Ctx) -> Response:
    _account(ctx)
    settings = _crc_settings(ctx)
    return JSONResponse(
        {key: settings[key] for key in ("ports_allocated", "ports_in_use", "ports_available")}
    )


def _hourly_usage(
    calls: list[dict[str, Any]], start: dt.date, end: dt.date
) -> list[dict[str, Any]]:
    """Per day and hour: the peak of concurrent calls and the number of calls that overlapped."""
    now = dt.datetime.now(dt.UTC)
    spans = [
        (
            dt.datetime.fromisoformat(c["started_at"]),
            dt.datetime.fromisoformat(c["ended_at"]) if c["ended_at"] else now,
        )
        for c in calls
    ]
    days = []
    day = start
    while day <= end:
        hours = []
        for hour in range(24):
            lo = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
            hi = lo + dt.timedelta(hours=1)
            inside = [(max(s, lo), min(e, hi)) for s, e in spans if s < hi and e >= lo]
            if not inside:
                continue
            events = sorted(
                [(s, 1) for s, _ in inside] + [(e, -1) for _, e in inside],
                key=lambda x: (x[0], -x[1]),
            )
            level = peak = 0
            for _, step in events:
                level += step
                peak = max(peak, level)
            hours.append({"hour": hour, "max_usage": peak, "total_usage": len(inside)})
        days.append({"date_time": day.isoformat(), "crc_ports_hour_usage": hours})
        day += dt.timedelta(days=1)
    return days


async def metrics_crc(ctx: Ctx) -> Response:
    """Zoom ``GET /metrics/crc?from=&to=`` computed from the calls devices reported."""
    try:
        start = dt.date.fromisoformat(ctx.query("from") or "")
        end = dt.date.fromisoformat(ctx.query("to") or "")
    except ValueError:
        raise ZoomFault(400, 300, "from and to must be dates (yyyy-mm-dd).") from None
    if end < start:
        raise ZoomFault(400, 300, "The to date must not be before the from date.")
    start = max(start, end - dt.timedelta(days=31))
    usage = _hourly_usage(ctx.store.calls(active_only=False), start, end)
    return JSONResponse(
        {"from": start.isoformat(), "to": end.isoformat(), "crc_ports_usage": usage}
    )


async def participant_code(ctx: Ctx) -> Response:
    expires_in = ctx.int_query("expires_in", 43200, 30, 10**7)
    digest = hashlib.sha256(f"{ctx.subject}:{time.time_ns()}".encode()).hexdigest()
    code = str(int(digest[:10], 16) % 10**9).zfill(9)
    return JSONResponse(
        {
            "participant_identifier_code": code,
            "expire_in": expires_in,
            "paid_crc_plan_participant": True,
        }
    )


async def seed_sip_dialing(ctx: Ctx) -> Response:
    meeting_id = meeting_id_of(ctx)
    return JSONResponse(
        {
            "sip_dialing": {
                "uri": f"{meeting_id}@{CRC_DOMAIN}",
                "password": meeting_passcode(meeting_id),
                "ip_addresses": CRC_H323_ADDRESSES[:2],
            }
        }
    )


async def create_sip_uri(ctx: Ctx) -> Response:
    meeting_id = meeting_id_of(ctx)
    request = validate(MeetingSipUriRequest, await ctx.json())
    user = meeting_id
    if request.passcode is not None:  # an opaque token, never the passcode itself
        token = hashlib.sha256(f"sip:{meeting_id}:{request.passcode.get_secret_value()}".encode())
        user += "." + str(int(token.hexdigest()[:12], 16) % 10**10).zfill(10)
    return JSONResponse(
        {
            "sip_dialing": f"{user}@{CRC_DOMAIN}",
            "paid_crc_plan_participant": True,
            "participant_identifier_code": meeting_passcode("pic:" + meeting_id),
            "expire_in": 7200,
        },
        status_code=201,
    )


async def h323_dialing(ctx: Ctx) -> Response:
    meeting_id = meeting_id_of(ctx)
    return JSONResponse(
        {
            "meeting_id": meeting_id,
            "password": meeting_passcode(meeting_id),
            "ip_addresses": CRC_H323_ADDRESSES,
        }
    )


async def invitation(ctx: Ctx) -> Response:
    meeting_id = meeting_id_of(ctx)
    spaced = f"{meeting_id[:3]} {meeting_id[3:7]} {meeting_id[7:]}"
    text = (
        "Emulator User is inviting you to a scheduled Zoom meeting.\n\n"
        f"Meeting ID: {spaced}\nPasscode: {meeting_passcode(meeting_id)}\n\n"
        f"Join by SIP\n{meeting_id}@{CRC_DOMAIN}\n\n"
        "Join by H.323\n"
        + "".join(
            f"{ip} ({where})\n"
            for ip, where in zip(
                CRC_H323_ADDRESSES, ("US West", "US East", "China", "India Mumbai"), strict=True
            )
        )
        + f"Meeting ID: {spaced}\nPasscode: {meeting_passcode(meeting_id)}\n"
    )
    return JSONResponse({"invitation": text})


async def sip_trunk(ctx: Ctx) -> Response:
    """``PATCH /accounts/{accountId}/sip_trunk/settings``: multipart form or JSON; 204."""
    _account(ctx)
    settings = validate(SipTrunkSettings, await form_or_json(ctx, 300))
    if not ctx.emulator.live("sip_trunk_plan"):
        raise ZoomFault(400, 2100, "This sub account has no sip trunk plan.")
    if settings.enable is not None:
        ctx.store.set_setting("sip_trunk", settings.model_dump(mode="json", exclude_none=True))
    return Response(status_code=204)


async def start_call(ctx: Ctx) -> Response:
    request = validate(StartCall, await ctx.json())
    capacity = int(ctx.emulator.live("ports_allocated"))
    call = ctx.store.start_call(request.device_id, request.meeting_id, request.protocol, capacity)
    if call is None:
        raise ZoomFault(409, 3000, f"All {capacity} CRC ports are in use.")
    await notify_participant(ctx.emulator, call, joined=True)
    return JSONResponse(call, status_code=201)


async def end_call(ctx: Ctx) -> Response:
    call_id = ctx.param("call_id")
    call = next((c for c in ctx.store.calls() if c["id"] == call_id), None)
    if call is None or not ctx.store.end_call(call_id):
        raise ZoomFault(404, 1001, "No call in progress with this id.")
    await notify_participant(ctx.emulator, call, joined=False)
    return Response(status_code=204)


async def list_calls(ctx: Ctx) -> Response:
    return JSONResponse({"calls": ctx.store.calls()})


async def get_config(ctx: Ctx) -> Response:
    return JSONResponse(ctx.emulator.config())


async def patch_config(ctx: Ctx) -> Response:
    update = validate(EmulatorConfigUpdate, await ctx.json())
    for key, value in update.to_wire().items():  # to_wire: the webhook secret itself
        ctx.store.set_setting(key, value)
    return JSONResponse(ctx.emulator.config())


COLLECTIONS = [
    Collection(
        "sip_phone_v2",
        "/sip_phones/phones",
        "phones",
        SipPhoneV2Create,
        SipPhoneV2Update,
        id_field="phone_id",
        hidden=frozenset({"password"}),
    ),
    Collection(
        "sip_phone",
        "/sip_phones",
        "phones",
        SipPhoneCreate,
        SipPhoneUpdate,
        hidden=frozenset({"password"}),
        unique=("authorization_name",),
    ),
    Collection(
        "h323_device",
        "/h323/devices",
        "devices",
        H323DeviceCreate,
        H323DeviceUpdate,
        list_label="medium",
    ),
    *CRC_COLLECTIONS,
    Collection(
        "room_connector",
        "/rooms/connectors",
        "connectors",
        None,
        None,
        read_only=True,
        list_label="medium",
    ),
]


def seed_connectors(emulator: Emulator) -> None:
    """The emulator's one room connector (seed ``/rooms/connectors``)."""
    if emulator.store.get("room_connector", "crc-emulator") is None:
        emulator.store.insert(
            "room_connector",
            "crc-emulator",
            {
                "id": "crc-emulator",
                "name": "Cloud Room Connector (emulator)",
                "status": "online",
                "ip_address": CRC_H323_ADDRESSES[0],
                "ports_allocated": int(emulator.live("ports_allocated")),
            },
        )


def zoom_app_routes(emulator: Emulator) -> list[Route]:
    async def token_endpoint(request: Request) -> Response:
        return await token(request, emulator)

    seed_connectors(emulator)
    z = emulator.zoom_route
    routes = [
        Route("/oauth/token", token_endpoint, methods=["POST"]),
        z("/accounts/{account_id}/crc", get_crc, ["GET"]),
        z("/accounts/{account_id}/crc", patch_crc, ["PATCH"]),
        z("/accounts/{account_id}/crc/ports", get_ports, ["GET"]),
        z("/accounts/{account_id}/sip_trunk/settings", sip_trunk, ["PATCH"]),
        z("/metrics/crc", metrics_crc, ["GET"], "heavy"),
        z("/crc/participant_identifier_code", participant_code, ["GET"]),
        *crc_management_routes(emulator),
        z("/meetings/{meeting_id}/sip_dialing", seed_sip_dialing, ["GET"], "medium"),
        z("/meetings/{meeting_id}/sip_dialing", create_sip_uri, ["POST"], "medium"),
        z("/meetings/{meeting_id}/h323_dialing", h323_dialing, ["GET"], "medium"),
        z("/meetings/{meeting_id}/invitation", invitation, ["GET"]),
        z("/_emulator/calls", start_call, ["POST"], None),
        z("/_emulator/calls", list_calls, ["GET"], None),
        z("/_emulator/calls/{call_id}", end_call, ["DELETE"], None),
        z("/_emulator/config", get_config, ["GET"], None),
        z("/_emulator/config", patch_config, ["PATCH"], None),
    ]
    for collection in COLLECTIONS:
        routes += zoom_routes(emulator, collection)
    return routes
