"""A meeting's room-system call-out on embedded defaults: the client asks the emulated meeting
to call the configured room (PATCH /live_meetings/{id}/events); the stand-in connector dials the
room's SIP address through its registrar (Kamailio); the gateway's room answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from api_client.models import RoomSystemCallout
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway

MEETING = "85746065432"


def test_the_meeting_calls_the_room_and_the_room_answers(
    tmp_path: Path, registrar: Kamailio
) -> None:
    config = gateway_config(tmp_path, registrar)

    async def main() -> None:
        async with running_gateway(config) as gw:
            assert gw.zoom is not None and gw.standin is not None
            target = f"{ROOM}@{registrar.address('udp')}"
            await gw.zoom.meetings.room_system_callout(MEETING, RoomSystemCallout.to(target))
            answered = await asyncio.to_thread(gw.standin.wait_for, "callout_answered", 20.0)
            callout = answered["callout"]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                done = await gw.zoom.emulator.callouts(None)
                if [c.status for c in done if c.id == callout] == ["answered"]:
                    break
                await asyncio.sleep(0.1)
            assert [c.status for c in done if c.id == callout] == ["answered"]
            # the call-out holds one CRC port, and the gateway counts it as used elsewhere
            assert (await gw.zoom.crc.ports()).ports_in_use == 1
            assert (await gw.ports()).used_elsewhere == 1

    asyncio.run(main())


def test_crcgw_callout_reaches_a_running_gateway_on_embedded_defaults(
    tmp_path: Path, registrar: Kamailio
) -> None:
    """``crcgw serve`` on embedded defaults, then ``crcgw callout MEETING --room NAME --config``
    in another process: the gateway's emulated meeting calls the room, which answers."""
    import json
    import os
    import signal
    import subprocess
    import sys

    import httpx
    import yaml

    from gateway.peers.process import free_port
    from tests.daemon.conftest import ENVIRON
    from tests.daemon.test_crash import start_serve

    http_port = free_port()
    data = tmp_path / "data"
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(data),
        "rooms": [{"name": ROOM, "registrar": registrar.address("udp"), "user": ROOM,
                   "password_env": "ROOM_A_PASSWORD"}],
        "sip": {"listen": ["udp://127.0.0.1:0"]},
        "http": {"bind": f"127.0.0.1:{http_port}", "token_env": "CRCGW_TOKEN"},
    }))
    process = start_serve(config, http_port)
    try:
        deadline = time.monotonic() + 20
        while ROOM not in registrar.registered_users() and time.monotonic() < deadline:
            time.sleep(0.2)
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "callout", MEETING, "--room", ROOM,
             "--config", str(config), "--json"],
            env={**os.environ, **ENVIRON}, capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["device_ip"] == f"{ROOM}@{registrar.address('udp')}"
        emulator = (data / "emulator.url").read_text().strip()
        token = httpx.post(emulator.removesuffix("/v2") + "/oauth/token", auth=("c", "s"),
                           params={"grant_type": "account_credentials",
                                   "account_id": "emulator-account"}).json()["access_token"]
        deadline = time.monotonic() + 20
        statuses: list[str] = []
        while time.monotonic() < deadline:
            statuses = [c["status"] for c in httpx.get(
                emulator + "/_emulator/callouts", headers={"Authorization": f"Bearer {token}"}
            ).json()["callouts"]]
            if statuses == ["answered"]:
                break
            time.sleep(0.2)
        assert statuses == ["answered"]
        ports = httpx.get(f"http://127.0.0.1:{http_port}/ports", timeout=5).json()
        assert ports["used_elsewhere"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        if process.stderr is not None:
            process.stderr.close()
    assert not (data / "emulator.url").exists()
