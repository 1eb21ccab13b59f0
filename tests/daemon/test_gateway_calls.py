"""The daemon end to end: control API, calls from a registered room to the stand-in meeting,
port leases against the emulator's pool, CDRs, and every way a call ends."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client.emulator import meeting_passcode
from gateway.daemon import Gateway
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, TOKEN, gateway_config, running_gateway, shrink_pool

MEETING = "82419374650"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def wait_state(client: httpx.AsyncClient, call_id: str, gw: Gateway, state: str,
                     timeout: float = 15) -> dict[str, Any]:
    assert gw.tracker is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = gw.tracker.calls[call_id].info
        if info.state == state:
            return info.__dict__
        await asyncio.sleep(0.05)
    raise AssertionError(f"call {call_id} never reached {state}: {gw.tracker.calls[call_id].info}")


async def api_in_use(gw: Gateway) -> int:
    assert gw.zoom is not None
    return (await gw.zoom.crc.ports()).ports_in_use


@pytest.mark.usefixtures("late_add_endpoint")
def test_call_through_the_control_api(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            base = f"http://{gw.http_address}"
            async with httpx.AsyncClient(base_url=base, timeout=20) as client:
                rooms = (await client.get("/rooms")).json()["rooms"]
                assert [(r["name"], r["registration"]) for r in rooms] == [(ROOM, "registered")]
                body = {"room": ROOM, "meeting_id": "824 1937 4650",
                        "passcode": meeting_passcode(MEETING)}
                assert (await client.post("/calls", json=body)).status_code == 401
                created = await client.post("/calls", json=body, headers=AUTH)
                assert created.status_code == 201, created.text
                call = created.json()
                assert meeting_passcode(MEETING) not in created.text
                await wait_state(client, call["call_id"], gw, "connected")
                assert gw.standin is not None
                await asyncio.to_thread(gw.standin.wait_for, "joined", 10)
                assert (await client.get("/ports")).json()["leased"] == 1
                assert await api_in_use(gw) == 1
                listed = (await client.get("/calls")).json()["calls"]
                assert [c["call_id"] for c in listed] == [call["call_id"]]
                await asyncio.sleep(1.5)
                hung = await client.delete(f"/calls/{call['call_id']}", headers=AUTH)
                assert hung.status_code == 200
                assert hung.json()["state"] == "ended"
                assert (await client.get("/ports")).json()["leased"] == 0
                cdrs = (await client.get("/cdrs")).json()["cdrs"]
                assert cdrs[0]["call_id"] == call["call_id"]
                assert cdrs[0]["outcome"] == "connected"
                assert cdrs[0]["answered_at"] is not None and cdrs[0]["ended_at"] is not None
                assert cdrs[0]["rtp"]["rx_packets"] > 0
                for _ in range(50):
                    if await api_in_use(gw) == 0:
                        break
                    await asyncio.sleep(0.1)
                assert await api_in_use(gw) == 0

    asyncio.run(run())


def test_far_end_hangs_up_and_the_port_comes_back(tmp_path: Path, registrar: Kamailio) -> None:
    """A wrong passcode three times: the connector hangs up (BYE from the far side)."""

    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None
            wrong = "1" if meeting_passcode(MEETING) != "1" else "2"
            from gateway.http_api import StartCall

            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_state(None, call.call_id, gw, "connected")  # type: ignore[arg-type]
            engine_id = gw.tracker.calls[call.call_id].engine_call_id
            assert gw.engine is not None and engine_id is not None
            for _ in range(3):
                await asyncio.sleep(0.4)
                await gw.engine.send_dtmf(engine_id, wrong + "#")
            ended = await gw.tracker.wait_ended(call.call_id, 15)
            assert ended.ended_at is not None
            assert (await gw.ports()).leased == 0
            cdr = (await gw.cdrs(5, ROOM))[0]
            assert cdr.ended_at is not None and cdr.outcome == "connected"

    asyncio.run(run())


def test_no_free_port_refuses_the_call_with_503(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        config = gateway_config(tmp_path, registrar, reconcile_interval=0.2,
                                heartbeat_interval=0.1, lease_ttl=5)
        async with running_gateway(config) as gw:
            await shrink_pool(gw, 1)
            async with httpx.AsyncClient(base_url=f"http://{gw.http_address}", timeout=20) as c:
                body = {"room": ROOM, "meeting_id": MEETING,
                        "passcode": meeting_passcode(MEETING)}
                first = await c.post("/calls", json=body, headers=AUTH)
                assert first.status_code == 201
                second = await c.post("/calls", json=body, headers=AUTH)
                assert second.status_code == 503
                assert "no CRC port is free" in second.json()["error"]
                await c.delete(f"/calls/{first.json()['call_id']}", headers=AUTH)
            assert (await gw.ports()).leased == 0

    asyncio.run(run())


@pytest.mark.usefixtures("late_add_endpoint")
def test_unknown_room_and_bad_bodies(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            async with httpx.AsyncClient(base_url=f"http://{gw.http_address}") as c:
                r = await c.post("/calls", json={"room": "nope", "meeting_id": MEETING},
                                 headers=AUTH)
                assert r.status_code == 404
                r = await c.post("/calls", json={"room": ROOM, "meeting_id": "12"}, headers=AUTH)
                assert r.status_code == 422
                assert "meeting_id" in r.text
                r = await c.delete("/calls/gw-nope", headers=AUTH)  # the tracker's UnknownCall
                assert (r.status_code, r.json()["error"]) == (404, "no call 'gw-nope'")
                ready = (await c.get("/readyz")).json()
                assert ready["ready"] is True
                assert ready["sip_listen"] and ready["sip_listen"][0].startswith("udp://127.0.0.1:")
                await asyncio.sleep(2.5)
                metrics = (await c.get("/metrics")).text
                assert "crcgw_ports_allocated 10.0" in metrics
                assert 'crcgw_registrations{state="registered"} 1.0' in metrics
                assert 'crcgw_calls{state="live"} 0.0' in metrics

    asyncio.run(run())


@pytest.mark.parametrize("restart_owner", [True])
def test_gateway_restart_frees_the_leases_of_its_previous_run(
    tmp_path: Path, registrar: Kamailio, restart_owner: bool
) -> None:
    """Leases left by a previous run of the same instance (a crash) are released at start."""
    from gateway.store import open_store

    config = gateway_config(tmp_path, registrar)
    store = open_store(config.store_url)
    store.set_pool_size(10)
    assert store.acquire("left-over", ROOM, "x@y", config.owner_id, time.time()) is not None
    store.close()

    async def run() -> None:
        async with running_gateway(config) as gw:
            assert (await gw.ports()).leased == 0

    asyncio.run(run())


def test_handover_lets_calls_finish_before_shutdown(tmp_path: Path, registrar: Kamailio) -> None:
    """``lifecycle.on_shutdown: handover``: stop refuses new calls and waits for live ones."""
    from gateway.config import LifecycleConfig
    from gateway.http_api import ControlError, StartCall

    config = gateway_config(tmp_path, registrar).model_copy(
        update={"lifecycle": LifecycleConfig(on_shutdown="handover", shutdown_timeout=20)}
    )
    wrong = "1" if meeting_passcode(MEETING) != "1" else "2"

    async def run() -> None:
        async with running_gateway(config) as gw:
            assert gw.tracker is not None and gw.engine is not None and gw.standin is not None
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_state(None, call.call_id, gw, "connected")  # type: ignore[arg-type]
            engine_id = gw.tracker.calls[call.call_id].engine_call_id
            assert engine_id is not None

            async def far_end_gives_up() -> None:
                for _ in range(3):
                    await asyncio.sleep(0.5)
                    await gw.engine.send_dtmf(engine_id, wrong + "#")  # type: ignore[union-attr]

            task = asyncio.create_task(far_end_gives_up())
            gw.request_stop()
            with pytest.raises(ControlError):
                await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            standin, tracker = gw.standin, gw.tracker
            await gw.stop()
            await task
            assert standin.wait_for("rejected", 1)["code"] == 403  # the far end ended it
            assert tracker.calls[call.call_id].info.ended_at is not None

    asyncio.run(run())
