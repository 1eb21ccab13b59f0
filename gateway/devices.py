"""Register the gateway's rooms with Zoom as devices: ``/sip_phones`` and ``/h323/devices``.

Idempotent: a room whose SIP phone (matched by ``user_name`` and ``register_server``) or H.323
device (matched by ``name``) already exists is updated, otherwise created. Zoom counts
``registration_expire_time`` in minutes, SIP in seconds: rounded up here, never to 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from api_client import AsyncZoomClient
from api_client.models.devices import (
    H323DeviceCreate,
    H323DeviceUpdate,
    SipPhoneCreate,
    SipPhoneUpdate,
)
from gateway.config import RoomConfig, parse_host_port

__all__ = ["DeviceSync", "expire_minutes", "sync_devices"]


@dataclass(frozen=True)
class DeviceSync:
    room: str
    kind: str  # "sip_phone" or "h323_device"
    action: str  # "created" or "updated"
    device_id: str


def expire_minutes(seconds: int) -> int:
    """SIP ``Expires`` seconds as Zoom's ``registration_expire_time`` minutes (Zoom: 1..127)."""
    return max(1, min(127, math.ceil(seconds / 60)))


async def sync_devices(
    client: AsyncZoomClient, rooms: Sequence[RoomConfig], passwords: Mapping[str, str]
) -> list[DeviceSync]:
    phones = [phone async for phone in client.sip_phones.list()]
    devices = [device async for device in client.h323_devices.list()]
    done: list[DeviceSync] = []
    for room in rooms:
        host, port = parse_host_port(room.registrar)
        register_server = host if port is None else f"{host}:{port}"
        fields = {
            "authorization_name": room.auth_user or room.user,
            "domain": host,
            "user_name": room.user,
            "password": passwords[room.name],
            "registration_expire_time": expire_minutes(room.expires),
            "register_server": register_server,
            "proxy_server": room.outbound_proxy or register_server,
            "transport_protocol": room.transport.upper(),
        }
        existing = next(
            (p for p in phones
             if p.user_name == room.user and (p.register_server or "") == register_server),
            None,
        )
        if existing is None:
            created = await client.sip_phones.create(
                SipPhoneCreate.model_validate({**fields, "voice_mail": room.name})
            )
            done.append(DeviceSync(room.name, "sip_phone", "created", str(created.id)))
        else:
            await client.sip_phones.update(existing.id, SipPhoneUpdate.model_validate(fields))
            done.append(DeviceSync(room.name, "sip_phone", "updated", existing.id))
        if room.h323_alias and room.h323_ip:
            body = {"name": room.h323_alias, "protocol": "H.323", "ip": room.h323_ip,
                    "encryption": "auto"}
            device = next((d for d in devices if d.name == room.h323_alias), None)
            if device is None:
                made = await client.h323_devices.create(H323DeviceCreate.model_validate(body))
                done.append(DeviceSync(room.name, "h323_device", "created", str(made.id)))
            else:
                await client.h323_devices.update(device.id, H323DeviceUpdate.model_validate(body))
                done.append(DeviceSync(room.name, "h323_device", "updated", device.id))
    return done
