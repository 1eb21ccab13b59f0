"""A room with ``video: true``: the daemon's call to the stand-in meeting carries video both
ways (the room sends the test pattern, the meeting its composed picture)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from api_client.emulator import meeting_passcode
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, TOKEN, gateway_config, running_gateway
from tests.daemon.test_gateway_calls import wait_state

MEETING = "82419374650"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_room_with_video_sends_and_receives_video(tmp_path: Path, registrar: Kamailio) -> None:
    config = gateway_config(tmp_path, registrar)
    config = config.model_copy(
        update={"rooms": [config.rooms[0].model_copy(update={"video": True})]}
    )

    async def run() -> None:
        async with running_gateway(config) as gw:
            assert gw.video is not None and gw.tracker is not None
            base = f"http://{gw.http_address}"
            async with httpx.AsyncClient(base_url=base, timeout=20) as client:
                body = {"room": ROOM, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
                created = await client.post("/calls", json=body, headers=AUTH)
                assert created.status_code == 201, created.text
                call_id = created.json()["call_id"]
                await wait_state(client, call_id, gw, "connected")
                engine_call = gw.tracker.calls[call_id].engine_call_id
                assert engine_call is not None
                deadline = time.monotonic() + 20
                figures = None
                while time.monotonic() < deadline:
                    figures = gw.video.figures(engine_call)
                    stats = (figures or {}).get("stats") or {}
                    if stats.get("decoded_frames", 0) >= 10 and stats.get("frames_sent", 0) >= 10:
                        break
                    await asyncio.sleep(0.25)
                assert figures is not None and figures["negotiated"]["accepted"], figures
                assert figures["stats"]["decoded_frames"] >= 10, figures
                assert (figures["stats"]["width"], figures["stats"]["height"]) == (640, 360)
                assert gw.standin is not None
                seen = await asyncio.to_thread(gw.standin.wait_for, "video", 10)
                assert seen["accepted"] and seen["direction"] == "sendrecv"
                hung = await client.delete(f"/calls/{call_id}", headers=AUTH)
                assert hung.status_code == 200
                ended = await asyncio.to_thread(gw.standin.wait_for, "video_ended", 10)
                assert ended["received_frames"] >= 10  # the meeting decoded the room's video
                assert gw.video.figures(engine_call) is None  # the leg was stopped and dropped

    asyncio.run(run())


def test_room_without_video_offers_none(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.video is None

    asyncio.run(run())


pytestmark = pytest.mark.slow
