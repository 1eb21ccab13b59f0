"""End to end: the emulator posts signed webhooks to a running ``crcgw serve``; ``GET /ports``
follows each join and leave; forged, replayed and stale notifications get 401 and change nothing.

The gateway's periodic reconcile is set to an hour, so only the webhooks can move its figures.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from api_client.emulator import EmulatorServer, run_emulator
from api_client.webhooks import sign
from gateway.peers.process import free_port, stop_process

WEBHOOK_SECRET = secrets.token_hex(16)
CLIENT_SECRET = secrets.token_hex(8)
ENV = {"ZOOM_SECRET": CLIENT_SECRET, "ZOOM_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with run_emulator() as server:
        yield server


@pytest.fixture
def gateway(tmp_path: Path, emulator: EmulatorServer) -> Iterator[str]:
    port = free_port()
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "sip": {"listen": ["udp://127.0.0.1:0"]},
        "http": {"bind": f"127.0.0.1:{port}", "webhook_secret_env": "ZOOM_WEBHOOK_SECRET"},
        "zoom": {"account_id": emulator.settings.account_id, "client_id": "gw",
                 "client_secret_env": "ZOOM_SECRET", "base_url": emulator.zoom_url},
        "ports": {"reconcile_interval": 3600},
    }))
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
        env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"crcgw serve exited: {err}")
            try:
                if httpx.get(base + "/ports", timeout=2).json().get("size") == 10:
                    break
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("crcgw serve did not come up")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(process, timeout=30)
        if process.stderr is not None:
            process.stderr.close()


def used_elsewhere(base: str) -> int:
    return int(httpx.get(base + "/ports", timeout=5).json()["used_elsewhere"])


def wait_for(base: str, wanted: int, timeout: float = 15.0) -> int:
    """How many reads of ``GET /ports`` until ``used_elsewhere`` is ``wanted`` (AssertionError
    after ``timeout`` seconds)."""
    started = time.monotonic()
    reads = 1
    while (value := used_elsewhere(base)) != wanted:
        assert time.monotonic() - started < timeout, f"used_elsewhere {value}, wanted {wanted}"
        time.sleep(0.02)
        reads += 1
    return reads


def post(base: str, body: bytes, timestamp: str, signature: str,
         request_id: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", "x-zm-request-timestamp": timestamp,
               "x-zm-signature": signature}
    if request_id:
        headers["x-zm-request-id"] = request_id
    return httpx.post(base + "/zoom/webhook", content=body, headers=headers, timeout=10)


def joined(pid: str) -> bytes:
    return json.dumps({
        "event": "meeting.participant_joined", "event_ts": int(time.time() * 1000),
        "payload": {"account_id": "a", "object": {
            "id": "85746065432", "uuid": "m1==", "host_id": "h", "type": 2, "duration": 30,
            "participant": {"user_id": pid, "participant_uuid": pid, "user_name": pid,
                            "email": "", "join_time": "2026-12-04T03:00:00Z",
                            "device": "H.323/SIP"}}},
    }).encode()


def test_emulated_joins_and_leaves_move_the_pool_at_once(
    emulator: EmulatorServer, gateway: str
) -> None:
    with emulator.zoom_client() as zoom:
        zoom.emulator.configure(webhook_url=gateway + "/zoom/webhook",
                                webhook_secret=WEBHOOK_SECRET)
        assert used_elsewhere(gateway) == 0
        reads = []
        calls = []
        for expected in (1, 2, 3):
            calls.append(zoom.emulator.start_call(f"room-{expected}", "85746065432", "H.323"))
            reads.append(wait_for(gateway, expected))
        for expected, call in zip((2, 1, 0), calls, strict=True):
            zoom.emulator.end_call(call.id)
            reads.append(wait_for(gateway, expected))
    # the emulator answers only after the gateway acknowledged the notification, and the
    # gateway acknowledges after updating its pool: the very first read already follows
    assert reads == [1] * 6, reads
    ports = httpx.get(gateway + "/ports", timeout=5).json()
    assert ports["size"] == 10 and ports["free"] == 10


def test_forged_replayed_and_stale_notifications_are_refused(gateway: str) -> None:
    now = str(int(time.time()))
    body = joined("r-forged")
    forged = post(gateway, body, now, sign("not-the-secret", now, body))
    assert forged.status_code == 401
    unsigned = post(gateway, body, now, "")
    assert unsigned.status_code == 401
    stale_ts = str(int(time.time()) - 301)
    stale = post(gateway, body, stale_ts, sign(WEBHOOK_SECRET, stale_ts, body))
    assert stale.status_code == 401
    assert used_elsewhere(gateway) == 0

    joined_body = joined("r-ok")
    real = post(gateway, joined_body, now, sign(WEBHOOK_SECRET, now, joined_body), "req-1")
    assert real.status_code == 200 and used_elsewhere(gateway) == 1
    replay = post(gateway, joined_body, now, sign(WEBHOOK_SECRET, now, joined_body), "req-1")
    assert replay.status_code == 401 and used_elsewhere(gateway) == 1
    # Zoom's retry of the same notification: new timestamp, same request id -> not applied twice
    later = str(int(time.time()) + 1)
    retry = post(gateway, joined_body, later, sign(WEBHOOK_SECRET, later, joined_body), "req-1")
    assert retry.status_code == 200 and retry.json()["status"] == "duplicate"
    assert used_elsewhere(gateway) == 1
    challenge = json.dumps({"event": "endpoint.url_validation",
                            "payload": {"plainToken": "tok-123"}}).encode()
    answer = post(gateway, challenge, now, sign(WEBHOOK_SECRET, now, challenge))
    assert answer.status_code == 200 and answer.json()["plainToken"] == "tok-123"
    assert len(answer.json()["encryptedToken"]) == 64
    garbage = post(gateway, b"\xff{not json", now, sign(WEBHOOK_SECRET, now, b"\xff{not json"))
    assert garbage.status_code == 400 and used_elsewhere(gateway) == 1


def test_embedded_defaults_subscribe_the_emulator_to_the_gateway(tmp_path: Path) -> None:
    """No ``zoom`` section: the embedded emulator is told where to post, with a fresh secret."""
    import asyncio

    from api_client.models import RoomSystemCallout
    from gateway.config import GatewayConfig, HttpConfig, PortsConfig, SipConfig
    from gateway.daemon import Gateway

    config = GatewayConfig(
        data_dir=tmp_path / "data", sip=SipConfig(listen=["udp://127.0.0.1:0"]),
        http=HttpConfig(bind="127.0.0.1:0"), ports=PortsConfig(reconcile_interval=3600),
    )

    async def main() -> None:
        async with Gateway(config, environ={}, standin=False) as gw:
            assert gw.zoom is not None and gw.webhook is not None
            settings = await gw.zoom.emulator.config()
            assert settings.webhook_url == f"http://{gw.http_address}/zoom/webhook"
            call = await gw.zoom.emulator.start_call("room-x", "85746065432", "SIP")
            assert (await gw.ports()).used_elsewhere == 1
            await gw.zoom.emulator.end_call(call.id)
            assert (await gw.ports()).used_elsewhere == 0
            # a room-system call-out: ringing, accepted, joined -> one port, not three
            await gw.zoom.meetings.room_system_callout(
                "85746065432", RoomSystemCallout.to("room-y@example.com"))
            assert (await gw.ports()).used_elsewhere == 1
            assert gw.live_usage.in_use() == 1 and not gw.live_usage.callouts
            assert gw.webhook.counts["accepted"] == 5 and gw.webhook.counts["refused"] == 0
            assert "secret" not in repr(gw.webhook).replace("secret='**********'", "")

    asyncio.run(main())
