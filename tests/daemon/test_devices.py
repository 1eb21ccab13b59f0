"""Rooms registered with Zoom as devices, against the emulator over real HTTP."""

from __future__ import annotations

import asyncio

import pytest

from api_client import AsyncZoomClient
from api_client.emulator import run_emulator
from gateway.config import RoomConfig
from gateway.devices import expire_minutes, sync_devices


@pytest.mark.parametrize(("seconds", "minutes"), [(30, 1), (60, 1), (61, 2), (300, 5),
                                                  (3600, 60), (7620, 127), (86400, 127)])
def test_expiry_seconds_become_zoom_minutes(seconds: int, minutes: int) -> None:
    assert expire_minutes(seconds) == minutes


def test_sync_creates_then_updates_sip_phones_and_h323_devices() -> None:
    rooms = [
        RoomConfig(name="boardroom", registrar="pbx.example.com:5070", user="boardroom",
                   password_env="X", transport="tls", expires=90,
                   h323_alias="Boardroom", h323_ip="192.0.2.40"),
        RoomConfig(name="huddle", registrar="pbx.example.com", user="huddle", password_env="Y"),
    ]
    passwords = {"boardroom": "s3cret-board", "huddle": "s3cret-huddle"}

    async def run() -> None:
        with run_emulator() as emulator:
            async with AsyncZoomClient(emulator.zoom_credentials()) as client:
                first = await sync_devices(client, rooms, passwords)
                assert [(d.room, d.kind, d.action) for d in first] == [
                    ("boardroom", "sip_phone", "created"),
                    ("boardroom", "h323_device", "created"),
                    ("huddle", "sip_phone", "created"),
                ]
                rooms[1] = rooms[1].model_copy(update={"expires": 600})
                second = await sync_devices(client, rooms, passwords)
                assert [d.action for d in second] == ["updated"] * 3
                assert [d.device_id for d in second] == [d.device_id for d in first]
                phones = {p.user_name: p async for p in client.sip_phones.list()}
                assert phones["boardroom"].registration_expire_time == 2
                assert phones["huddle"].registration_expire_time == 10
                assert phones["boardroom"].register_server == "pbx.example.com:5070"
                assert str(phones["boardroom"].transport_protocol) in ("TLS", "Transport.TLS")
                assert "s3cret" not in repr(phones["boardroom"])
                devices = [d async for d in client.h323_devices.list()]
                assert [(d.name, str(d.ip)) for d in devices] == [("Boardroom", "192.0.2.40")]

    asyncio.run(run())
