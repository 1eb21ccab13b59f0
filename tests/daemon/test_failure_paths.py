"""Leases come back on every way a call fails, and the pool holds under 200 concurrent requests."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from api_client.emulator import meeting_passcode
from gateway.peers.kamailio import Kamailio
from gateway.peers.process import free_port
from signaling.dialstring import DialTarget
from tests.daemon.conftest import ROOM, TOKEN, gateway_config, running_gateway, shrink_pool

MEETING = "82419374650"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_4xx_and_5xx_release_the_port_and_close_the_cdr(tmp_path: Path,
                                                        registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None
            host, port = registrar.host, registrar.port("udp")
            # Kamailio knows no user 123456789: 404 through the room's own proxy.
            not_found = await gw.dial(ROOM, DialTarget.sip("123456789", host=host, port=port))
            closed = free_port()
            refused = await gw.dial(
                ROOM, DialTarget.sip("123456780", host="127.0.0.1", port=closed,
                                     params=";transport=tcp"))
            for call in (not_found, refused):
                info = await gw.tracker.wait_ended(call.call_id, 40)
                assert info.ended_at is not None and info.connected_at is None
            assert (await gw.ports()).leased == 0
            codes = {c.call_id: (c.outcome, c.sip_code) for c in await gw.cdrs(10, ROOM)}
            assert codes[not_found.call_id] == ("failed", 404)
            outcome, code = codes[refused.call_id]
            assert outcome == "failed" and code is not None and code >= 400

    asyncio.run(run())


def test_200_concurrent_requests_never_exceed_the_pool(tmp_path: Path,
                                                       registrar: Kamailio) -> None:
    async def run() -> None:
        config = gateway_config(tmp_path, registrar, reconcile_interval=0.2,
                                heartbeat_interval=0.1, lease_ttl=5)
        async with running_gateway(config) as gw:
            await shrink_pool(gw, 3)
            body = {"room": ROOM, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
            limits = httpx.Limits(max_connections=200)
            async with httpx.AsyncClient(base_url=f"http://{gw.http_address}", timeout=60,
                                         limits=limits) as client:
                answers = await asyncio.gather(
                    *(client.post("/calls", json=body, headers=AUTH) for _ in range(200))
                )
                codes = sorted(a.status_code for a in answers)
                assert codes.count(201) == 3 and codes.count(503) == 197, codes
                state = await gw.ports()
                assert state.leased == 3
                for answer in answers:
                    if answer.status_code == 201:
                        await client.delete(f"/calls/{answer.json()['call_id']}", headers=AUTH)
            assert (await gw.ports()).leased == 0

    asyncio.run(run())
