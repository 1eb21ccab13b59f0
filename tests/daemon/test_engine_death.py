"""The daemon with more rooms than one engine process holds (an engine pool): a killed engine
process ends its calls (port released, CDR closed), ``/readyz`` says not ready naming its rooms,
and a fresh engine registers them again."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import httpx

from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from signaling.pjsua import ROOMS_PER_ENGINE, SipEnginePool
from signaling.sip.types import RegState
from tests.daemon.conftest import (
    ROOM,
    ROOM_PASSWORD,
    gateway_config,
    running_gateway,
    wait_connected,
)

MEETING = "82419374650"
ROOMS = [ROOM] + [f"room-{i}" for i in range(1, ROOMS_PER_ENGINE + 1)]


def test_killed_engine_ends_its_calls_and_its_rooms_come_back(tmp_path: Path) -> None:
    async def run(registrar: Kamailio) -> None:
        config = gateway_config(tmp_path, registrar)
        rooms = [config.rooms[0].model_copy(update={"name": name, "user": name})
                 for name in ROOMS]
        config = config.model_copy(update={"rooms": rooms})
        async with running_gateway(config) as gw:
            pool = gw.engine
            assert isinstance(pool, SipEnginePool) and gw.tracker is not None
            for name in ROOMS:
                await pool.wait_registration(name, 15, 0, (RegState.REGISTERED,))
            first = sorted(pool._shards[0].endpoints)
            assert ROOM in first and len(first) == ROOMS_PER_ENGINE
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, call.call_id)
            assert (await gw.ports()).leased == 1
            process = pool._shards[0]._proc
            assert process is not None
            os.kill(process.pid, signal.SIGKILL)
            killed = time.monotonic()
            ended = await gw.tracker.wait_ended(call.call_id, 10)
            assert ended.ended_at is not None
            assert time.monotonic() - killed < 5
            assert (await gw.ports()).leased == 0
            seen_waiting: list[str] = []
            base = f"http://{gw.http_address}"
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                deadline = time.monotonic() + 30
                while True:
                    ready = await client.get("/readyz")
                    body = ready.json()
                    if ready.status_code == 503:
                        seen_waiting = seen_waiting or body["rooms_waiting"]
                    elif seen_waiting:
                        break
                    assert time.monotonic() < deadline, body
                    await asyncio.sleep(0.05)
                assert seen_waiting == first  # not ready, naming the rooms of that engine
                assert body["ready"] is True and body["rooms_waiting"] == []
                rooms_now = (await client.get("/rooms")).json()["rooms"]
                assert {r["name"]: r["registration"] for r in rooms_now} == dict.fromkeys(
                    ROOMS, "registered"
                )
            cdr = (await gw.cdrs(5, ROOM))[0]
            assert cdr.call_id == call.call_id and cdr.ended_at is not None
            again = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, again.call_id)
            await gw.tracker.hangup(again.call_id)

    users = dict.fromkeys(ROOMS, ROOM_PASSWORD)
    with Kamailio(users) as registrar:
        asyncio.run(run(registrar))
