"""The daemon follows a call from the events its engine pushes: during a connected call it
asks the engine nothing (no per-call poll: its engines are child processes, so each ask would
be an IPC round trip, counted here at :meth:`_Shard.call`)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewayConfig
from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from signaling.pjsua import SipEnginePool
from signaling.pjsua.pool import _Shard
from tests.daemon.conftest import (
    ROOM,
    ROOM_PASSWORD,
    gateway_config,
    running_gateway,
    wait_connected,
)

MEETING = "85012345678"
EXTRA_ROOMS = ("room-b", "room-c", "room-d", "room-e")
QUIET_S = 10.0


def _pool_config(tmp_path: Path, registrar: Kamailio) -> GatewayConfig:
    """Five rooms (the one-room case is :func:`gateway_config` itself)."""
    config = gateway_config(tmp_path, registrar)
    rooms = [config.rooms[0], *(
        config.rooms[0].model_copy(update={"name": name, "user": name})
        for name in EXTRA_ROOMS)]
    return config.model_copy(update={"rooms": rooms})


@pytest.fixture(scope="module")
def many_rooms() -> Iterator[Kamailio]:
    with Kamailio({name: ROOM_PASSWORD for name in (ROOM, *EXTRA_ROOMS)}) as kamailio:
        yield kamailio


@pytest.mark.parametrize("pool", [False, True], ids=["one-room", "five-rooms"])
def test_a_connected_call_costs_no_engine_requests(
    tmp_path: Path, registrar: Kamailio, many_rooms: Kamailio,
    monkeypatch: pytest.MonkeyPatch, pool: bool,
) -> None:
    asked: Counter[str] = Counter()
    counting = [False]
    shard_call = _Shard.call

    async def counted_call(self: _Shard, method: str, *args: Any, **kwargs: Any) -> Any:
        if counting[0]:
            asked[method] += 1
        return await shard_call(self, method, *args, **kwargs)

    monkeypatch.setattr(_Shard, "call", counted_call)

    async def scenario() -> tuple[str, list[str]]:
        config = _pool_config(tmp_path, many_rooms) if pool else gateway_config(
            tmp_path, registrar)
        async with running_gateway(config) as gw:
            assert gw.tracker is not None
            assert isinstance(gw.engine, SipEnginePool)  # always: engines are supervised
            call = await gw.start_call(StartCall(room=ROOM, meeting_id=MEETING))
            await wait_connected(gw, call.call_id)
            counting[0] = True
            await asyncio.sleep(QUIET_S)
            counting[0] = False
            state = gw.tracker.calls[call.call_id].info.state
            await gw.hangup(call.call_id)
            ended = await gw.tracker.wait_ended(call.call_id, 20)
            kinds = [row["event"] for row in ended.events]
            return state, kinds

    state, kinds = asyncio.run(scenario())
    assert state == "connected"  # still up after the quiet time: there was a call to poll
    assert sum(asked.values()) == 0, asked
    assert kinds[0] in ("progress", "ringing", "answered") and kinds[-1] == "ended"
    assert "answered" in kinds and "media-up" in kinds
