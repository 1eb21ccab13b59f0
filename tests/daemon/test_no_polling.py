"""The daemon follows a call from the events its engine pushes: during a connected call it
asks the engine nothing (no per-call poll: in pool mode each ask is an IPC round trip)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from signaling.pjsua import SipEngine
from signaling.pjsua.pool import _Shard
from tests.daemon.conftest import ROOM, gateway_config, running_gateway, wait_connected

MEETING = "85012345678"
QUIET_S = 10.0


def test_a_connected_call_costs_no_engine_requests(
    tmp_path: Path, registrar: Kamailio, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: Counter[str] = Counter()
    counting = [False]
    run, shard_call = SipEngine._run, _Shard.call

    async def counted_run(self: SipEngine, fn: Any, *args: Any) -> Any:
        if counting[0]:
            asked[getattr(fn, "__name__", repr(fn))] += 1
        return await run(self, fn, *args)

    async def counted_call(self: _Shard, method: str, *args: Any, **kwargs: Any) -> Any:
        if counting[0]:
            asked[method] += 1
        return await shard_call(self, method, *args, **kwargs)

    monkeypatch.setattr(SipEngine, "_run", counted_run)
    monkeypatch.setattr(_Shard, "call", counted_call)

    async def scenario() -> tuple[str, list[str]]:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            assert gw.tracker is not None
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
