"""Operator routes of the emulator at Zoom's paths: ``GET /meetings/{id}``, the live dashboard
(``/metrics/meetings?type=live`` and its participants), room-system call-out
(``PATCH /live_meetings/{id}/events``) and Zoom Rooms (``/rooms``).

Every well-formed meeting id exists; its passcodes are :func:`meeting_passcode`. The emulated
calls (``/v2/_emulator/calls``) are the meetings' room-system participants (``device``
``H.323/SIP``). A call-out takes a CRC port as an emulated call to ``device_ip``, posts the
``room_system_callout_ringing``/``_accepted`` (or ``_failed`` when no port is free) webhooks and
the participant's join, and waits at ``/v2/_emulator/callouts`` (emulator-only) for a dialer:
the stand-in connector places SIP call-outs and reports ``answered``, ``failed`` or ``ended``
(the last two free the port). The emulator places no SIP or H.323 call itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from api_client.emulator._collections import zoom_page, zoom_page_body
from api_client.emulator._core import Ctx, Emulator, ZoomFault, validate
from api_client.emulator._store import new_id
from api_client.emulator._webhooks import DEFAULT_MEETING, notify, notify_participant
from api_client.emulator._zoom_routes import CRC_DOMAIN, meeting_id_of, meeting_passcode
from api_client.models.emulator import EmulatorCalloutUpdate
from api_client.models.live import ROOM_SYSTEM_DEVICE, RoomSystemCallout

__all__ = ["meeting_routes"]

ZOOM_ROOMS = [
    {"id": "zr-boardroom", "room_id": "zr-boardroom", "name": "Boardroom", "status": "Available",
     "location_id": "loc-hq", "tag_ids": []},
    {"id": "zr-huddle", "room_id": "zr-huddle", "name": "Huddle 2", "status": "Offline",
     "location_id": "loc-hq", "tag_ids": ["t-small"]},
]


def _calls_by_meeting(ctx: Ctx) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for call in ctx.store.calls():
        grouped.setdefault(str(call.get("meeting_id") or DEFAULT_MEETING), []).append(call)
    return grouped


async def get_meeting(ctx: Ctx) -> Response:
    meeting_id = meeting_id_of(ctx)
    code = meeting_passcode(meeting_id)
    live = meeting_id in _calls_by_meeting(ctx)
    return JSONResponse({
        "id": int(meeting_id),
        "uuid": f"emulator-{meeting_id}==",
        "topic": "Emulated meeting",
        "type": 2,
        "status": "started" if live else "waiting",
        "host_id": "emulator-host",
        "start_time": "2026-01-01T09:00:00Z",
        "join_url": f"https://zoom.example/j/{meeting_id}",
        "password": code,
        "h323_password": code,
        "pstn_password": code,
        "encrypted_password": hashlib.sha256(code.encode()).hexdigest()[:32],
        "settings": {"audio": "both", "global_dial_in_countries": ["US"],
                     "global_dial_in_numbers": [{"country": "US", "country_name": "US",
                                                 "city": "San Jose", "number": "+1 555 0100",
                                                 "type": "toll"}]},
    })


def _dates(ctx: Ctx) -> tuple[str, str]:
    start, end = ctx.query("from"), ctx.query("to")
    try:
        first = dt.date.fromisoformat((start or "")[:10])
        last = dt.date.fromisoformat((end or "")[:10])
    except ValueError:
        raise ZoomFault(400, 300, "from and to are required (yyyy-MM-dd).") from None
    if last < first:
        raise ZoomFault(400, 300, "The to date must not be before the from date.")
    return first.isoformat(), last.isoformat()


def _live_only(ctx: Ctx) -> None:
    kind = ctx.query("type", "live")
    if kind not in ("live", "past", "pastOne"):
        raise ZoomFault(400, 300, "type must be live, past or pastOne.")
    if kind != "live":
        raise ZoomFault(400, 12702, "The emulator keeps live meetings only.")


async def live_meetings(ctx: Ctx) -> Response:
    _live_only(ctx)
    start, end = _dates(ctx)
    meetings = [
        {"uuid": f"emulator-{meeting}==", "id": int(meeting), "topic": "Emulated meeting",
         "host": "Emulator Host", "email": "host@example.com",
         "start_time": min(c["started_at"] for c in calls), "duration": "00:00:00",
         "participants": len(calls), "has_sip": True, "has_pstn": False}
        for meeting, calls in sorted(_calls_by_meeting(ctx).items())
    ]
    return JSONResponse({"from": start, "to": end, **zoom_page_body(ctx, "meetings", meetings)})


def participant(call: dict[str, Any]) -> dict[str, Any]:
    person = {
        "id": call["id"], "user_id": call["id"], "participant_uuid": call["id"],
        "user_name": call.get("device_id") or "Room system", "device": ROOM_SYSTEM_DEVICE,
        "ip_address": "192.0.2.1", "join_time": call["started_at"], "status": "in_meeting",
        "role": "attendee", "audio_call": [],
    }
    if (call.get("protocol") or "SIP").upper() == "SIP":
        person["sip_uri"] = f"sip:{call.get('device_id') or 'room'}@{CRC_DOMAIN}"
    return person


async def live_participants(ctx: Ctx) -> Response:
    _live_only(ctx)
    meeting_id = ctx.param("meeting_id")
    calls = _calls_by_meeting(ctx).get(meeting_id)
    if not calls:
        raise ZoomFault(404, 3001, "Meeting does not exist or is not live: " + meeting_id[:20])
    return zoom_page(ctx, "participants", [participant(call) for call in calls])


async def live_meeting_events(ctx: Ctx) -> Response:
    """Only ``participant.invite.room_system_callout`` is emulated."""
    meeting_id = meeting_id_of(ctx)
    body = await ctx.json()
    if body.get("method") != "participant.invite.room_system_callout":
        raise ZoomFault(400, 300, "The emulator supports participant.invite.room_system_callout.")
    callout = validate(RoomSystemCallout, body)
    params = callout.params
    obj: dict[str, Any] = {
        "id": int(meeting_id), "uuid": f"emulator-{meeting_id}==", "host_id": "emulator-host",
        "message_id": new_id("msg_"), "inviter_name": "Emulator Host",
        "participant": {"call_type": params.call_type, "device_ip": params.device_ip},
    }
    prefix = "meeting.participant_room_system_callout_"
    await notify(ctx.emulator, prefix + "ringing", obj)
    capacity = int(ctx.emulator.live("ports_allocated"))
    protocol = "SIP" if params.call_type == "sip" else "H.323"
    call = ctx.store.start_call(params.device_ip[:128], meeting_id, protocol, capacity)
    if call is None:
        await notify(ctx.emulator, prefix + "failed", {**obj, "reason_type": 1})
    else:
        await notify(ctx.emulator, prefix + "accepted", obj)
        await notify_participant(ctx.emulator, call, joined=True)
        callout = {"id": new_id("co_"), "meeting_id": meeting_id, "call_type": params.call_type,
                   "device_ip": params.device_ip, "status": "pending", "call_id": call["id"]}
        ctx.store.insert("callout", callout["id"], callout)
    return Response(status_code=202)


async def list_callouts(ctx: Ctx) -> Response:
    """Emulator-only: the call-outs, for a dialer (``?status=pending``)."""
    status = ctx.query("status")
    found = [c for c in ctx.store.all("callout") if status in (None, "", c["status"])]
    return JSONResponse({"callouts": found})


async def update_callout(ctx: Ctx) -> Response:
    """Emulator-only: the dialer's outcome; ``failed``/``ended`` free the call-out's port."""
    update = validate(EmulatorCalloutUpdate, await ctx.json())
    callout = ctx.store.get("callout", ctx.param("callout_id"))
    if callout is None:
        raise ZoomFault(404, 1001, "No such call-out.")
    callout["status"] = update.status
    ctx.store.replace("callout", callout["id"], callout)
    if update.status in ("failed", "ended"):
        call = next((c for c in ctx.store.calls() if c["id"] == callout.get("call_id")), None)
        if call is not None and ctx.store.end_call(call["id"]):
            await notify_participant(ctx.emulator, call, joined=False)
    return Response(status_code=204)


def _room(ctx: Ctx) -> dict[str, Any]:
    room_id = ctx.param("room_id")
    for room in ZOOM_ROOMS:
        if room["id"] == room_id:
            return room
    raise ZoomFault(404, 1012, "Room not found.")


async def list_rooms(ctx: Ctx) -> Response:
    status = ctx.query("status")
    rooms = [room for room in ZOOM_ROOMS if status in (None, "", room["status"])]
    return zoom_page(ctx, "rooms", rooms)


async def get_room(ctx: Ctx) -> Response:
    return JSONResponse({**_room(ctx), "activation_code": "0000-1111-2222"})


async def room_devices(ctx: Ctx) -> Response:
    room = _room(ctx)
    return JSONResponse({"devices": [
        {"id": room["id"] + "-pc", "room_name": room["name"], "device_type": "Zoom Rooms Computer",
         "status": "Online" if room["status"] != "Offline" else "Offline",
         "app_version": "6.2.0", "device_system": "Linux", "ip_address": "192.0.2.30",
         "device_mac_addresses": ["02:00:00:00:00:01"]},
        {"id": room["id"] + "-ctl", "room_name": room["name"], "device_type": "Controller",
         "status": "Online", "app_version": "6.2.0"},
    ]})


def meeting_routes(emulator: Emulator) -> list[Route]:
    z = emulator.zoom_route
    return [
        z("/meetings/{meeting_id}", get_meeting, ["GET"]),
        z("/metrics/meetings", live_meetings, ["GET"], "resource_intensive"),
        z("/metrics/meetings/{meeting_id}/participants", live_participants, ["GET"], "heavy"),
        z("/live_meetings/{meeting_id}/events", live_meeting_events, ["PATCH"], "medium"),
        z("/_emulator/callouts", list_callouts, ["GET"], None),
        z("/_emulator/callouts/{callout_id}", update_callout, ["PATCH"], None),
        z("/rooms", list_rooms, ["GET"], "medium"),
        z("/rooms/{room_id}", get_room, ["GET"], "medium"),
        z("/rooms/{room_id}/devices", room_devices, ["GET"], "medium"),
    ]
