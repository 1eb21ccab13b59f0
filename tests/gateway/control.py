"""A :class:`gateway.http_api.GatewayControl` over the real store and port pool, for tests.

It places no SIP call (that is the daemon's part); a "call" here is a lease plus a CDR, which is
exactly what the control API's contract touches.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import replace

from gateway.http_api import CallInfo, ControlError, Readiness, RoomInfo, StartCall
from gateway.ports import PortPool
from gateway.store import Cdr, PoolState


class StoreControl:
    def __init__(self, pool: PortPool, rooms: Sequence[str], sip_listen: Sequence[str]) -> None:
        self.pool = pool
        self._rooms = {
            name: RoomInfo(name, f"sip:{name}@127.0.0.1", "udp", "registered", 200, None, 300)
            for name in rooms
        }
        self._sip_listen = list(sip_listen)
        self._calls: dict[str, CallInfo] = {}
        self._ids = itertools.count(1)
        self.started: list[StartCall] = []

    def ready(self) -> Readiness:
        return Readiness(bool(self._sip_listen), self._sip_listen, {"store": True})

    async def rooms(self) -> Sequence[RoomInfo]:
        return list(self._rooms.values())

    async def reregister(self, room: str) -> RoomInfo:
        if room not in self._rooms:
            raise ControlError(404, f"no room named {room!r}")
        return self._rooms[room]

    async def calls(self) -> Sequence[CallInfo]:
        return list(self._calls.values())

    async def start_call(self, request: StartCall) -> CallInfo:
        if request.room not in self._rooms:
            raise ControlError(404, f"no room named {request.room!r}")
        target = request.target().without_secrets().dial_string()
        call_id = f"call-{next(self._ids)}"
        if await self.pool.acquire(call_id, request.room, target) is None:
            raise ControlError(503, "no CRC port is free")
        now = time.time()
        self.pool.store.record_cdr(call_id, request.room, target, now, owner=self.pool.owner)
        self.started.append(request)
        call = CallInfo(call_id, request.room, target, "dialling", now)
        self._calls[call_id] = call
        return call

    async def hangup(self, call_id: str) -> CallInfo:
        call = self._calls.pop(call_id, None)
        if call is None:
            raise ControlError(404, f"no call {call_id!r}")
        await self.pool.release(call_id)
        now = time.time()
        self.pool.store.update_cdr(call_id, ended_at=now, outcome="hangup")
        return replace(call, state="ended", ended_at=now)

    async def ports(self) -> PoolState:
        return await self.pool.status()

    async def cdrs(self, limit: int, room: str | None) -> Sequence[Cdr]:
        return self.pool.store.cdrs(limit=limit, room=room)
