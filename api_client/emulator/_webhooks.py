"""The emulator's webhooks: when an emulated participant (a call reported through
``/v2/_emulator/calls``) joins or leaves, ``meeting.participant_joined``/``_left`` is posted,
signed as Zoom signs (:func:`api_client.webhooks.sign`), to the live ``webhook_url`` setting.

The body follows Zoom's payload types (``payload.object`` with the meeting's ``id``, ``uuid``,
``host_id``, ``topic``, ``type``, ``start_time``, ``duration`` and a ``participant``), plus the
participant's ``device`` (``H.323/SIP``, the value Zoom's dashboard uses for room systems), which
Zoom's published payload does not list. One attempt, 3 s; a failure is logged, never raised.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import httpx

from api_client.emulator._core import Emulator
from api_client.webhooks import sign

__all__ = ["DEFAULT_MEETING", "notify", "notify_participant"]

log = logging.getLogger(__name__)

#: The meeting of emulated calls that name none.
DEFAULT_MEETING = "85746065432"
TIMEOUT = httpx.Timeout(3.0)


def participant_event(
    emulator: Emulator, call: dict[str, Any], joined: bool, now: float
) -> dict[str, Any]:
    meeting = str(call.get("meeting_id") or DEFAULT_MEETING)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    person: dict[str, Any] = {
        "user_id": call["id"],
        "user_name": call.get("device_id") or "Room system",
        "id": call["id"],
        "participant_uuid": call["id"],
        "email": "",
        "device": "H.323/SIP",
        ("join_time" if joined else "leave_time"): stamp,
    }
    if not joined:
        person["leave_reason"] = "left the meeting"
    return {
        "event": "meeting.participant_joined" if joined else "meeting.participant_left",
        "event_ts": int(now * 1000),
        "payload": {
            "account_id": emulator.settings.account_id,
            "object": {
                "id": meeting,
                "uuid": f"emulator-{meeting}==",
                "host_id": "emulator-host",
                "topic": "Emulated meeting",
                "type": 2,
                "start_time": stamp,
                "timezone": "UTC",
                "duration": 60,
                "participant": person,
            },
        },
    }


async def notify_participant(emulator: Emulator, call: dict[str, Any], *, joined: bool) -> None:
    """Post the join or leave of ``call`` when a webhook URL is configured."""
    await _post(emulator, participant_event(emulator, call, joined, time.time()))


async def notify(emulator: Emulator, event: str, obj: dict[str, Any]) -> None:
    """Post ``event`` with ``payload.object`` = ``obj`` when a webhook URL is configured."""
    now = time.time()
    await _post(emulator, {
        "event": event,
        "event_ts": int(now * 1000),
        "payload": {"account_id": emulator.settings.account_id, "object": obj},
    })


async def _post(emulator: Emulator, notification: dict[str, Any]) -> None:
    url = emulator.live("webhook_url")
    secret = emulator.live("webhook_secret")
    if not url or not secret:
        return
    body = json.dumps(notification).encode()
    timestamp = str(int(time.time()))
    headers = {
        "content-type": "application/json",
        "user-agent": "Zoom Marketplace/1.0a",
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": sign(secret, timestamp, body),
        "x-zm-request-id": secrets.token_hex(12),
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.post(url, content=body, headers=headers)
        if answer.status_code >= 300:
            log.warning("webhook to %s answered %d", url, answer.status_code)
    except httpx.HTTPError as exc:
        log.warning("webhook to %s failed: %s", url, type(exc).__name__)
