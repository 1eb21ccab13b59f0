"""Many endpoints beyond one process's pjsua2 limit: engines sharded over child processes.

The pjsua2-python wheel holds at most 8 accounts and 4 calls per process and one pjsua
instance per process. :class:`SipEnginePool` gives the same asyncio API as
:class:`SipEngine` for many endpoints: each child process (``signaling.pjsua._shard``)
runs one engine with as many endpoints as that engine holds calls (it says so when it is
ready; at most ``per_engine``), so each endpoint can be in a call; events of all children
arrive in one :attr:`events` log, call ids are prefixed with the shard (``"2/call-1"``).

pjsua2 runs only in the children, so a pjsip abort (an assertion, SIGABRT, SIGSEGV) or a
kill ends one shard, never the process holding the pool: the pool notices the end of the
socket at once, ends that shard's calls (cause made locally), marks its endpoints
:attr:`~SipEnginePool.restarting` and starts a fresh engine that adds (and registers) them
again.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Collection, Sequence
from multiprocessing.connection import Connection
from typing import Any, Self

from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import IvrStep
from signaling.pjsua._base import EngineBase
from signaling.pjsua._worker import MAX_ACCOUNTS, MAX_CALLS
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.errors import EngineClosed, EngineError, SipConfigError
from signaling.sip.events import (
    CallStateChanged,
    CallStats,
    EngineEvent,
    IncomingCall,
    RegistrationChanged,
    RegistrationStatus,
)
from signaling.sip.types import CallPhase, CauseOrigin, Direction, DtmfMethod, RegState, Transport

__all__ = ["ROOMS_PER_ENGINE", "SipEnginePool"]

ROOMS_PER_ENGINE = min(MAX_ACCOUNTS - 1, MAX_CALLS)
"""Endpoints per engine process by default: as many as it has calls, so that every room can be
in a call at the same time (a pjsua2 process holds 4 calls, 8 accounts)."""

logger = logging.getLogger("signaling.pjsua")

_ERRORS: dict[str, type[Exception]] = {
    "SipConfigError": SipConfigError,
    "EngineClosed": EngineClosed,
    "EngineError": EngineError,
    "TimeoutError": TimeoutError,
}


def _rebuild(error: tuple[str, str]) -> Exception:
    kind, message = error
    return _ERRORS.get(kind, EngineError)(message)


class _Shard:
    def __init__(
        self, index: int, config: EngineConfig, sink: Any, on_death: Any = None
    ) -> None:
        self.index = index
        self.config = config
        self._sink = sink
        self._on_death = on_death
        self.dead = False
        """The process ended without being asked to (killed, crashed)."""
        self.capacity = MAX_CALLS
        """Calls its engine holds at once, as the engine said when it was ready."""
        self._closing = False
        self.endpoints: set[str] = set()
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._ready: asyncio.Future[Any] | None = None
        self._closed_ack: asyncio.Future[None] | None = None
        self._conn: Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "signaling.pjsua._shard", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self._conn = Connection(ours.detach())
        self._ready = loop.create_future()
        self._closed_ack = loop.create_future()
        self._conn.send((self.config, logging.getLogger("signaling").getEffectiveLevel()))
        threading.Thread(target=self._read, name=f"pool-shard-{self.index}", daemon=True).start()
        error = await asyncio.wait_for(self._ready, 30)
        if error is not None:
            raise _rebuild(error)

    def _read(self) -> None:
        conn, loop = self._conn, self._loop
        assert conn is not None and loop is not None
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                message = ("eof",)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._dispatch, message)
            if message[0] in ("eof", "closed"):
                return

    def _dispatch(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "event":
            self._sink(self, message[1])
        elif kind == "result":
            _, request_id, ok, value = message
            future = self._pending.pop(request_id, None)
            if future is not None and not future.done():
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(_rebuild(value))
        elif kind == "ready" and self._ready is not None and not self._ready.done():
            if len(message) > 2:
                self.capacity = int(message[2])
            self._ready.set_result(message[1])
        elif kind in ("closed", "eof"):
            if not self._closing and not self.dead and self._ready is not None and (
                self._ready.done()
            ):
                self.dead = True
                if self._on_death is not None:
                    self._on_death(self)  # before the waiting calls learn of it below
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(EngineClosed(f"engine shard {self.index} ended"))
            self._pending.clear()
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(("EngineClosed", f"engine shard {self.index} ended"))
            if self._closed_ack is not None and not self._closed_ack.done():
                self._closed_ack.set_result(None)

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if self._conn is None or self._loop is None or self.dead:
            raise EngineClosed(f"engine shard {self.index} is not running")
        request_id = next(self._ids)
        future = self._loop.create_future()
        self._pending[request_id] = future
        try:
            self._conn.send((request_id, method, args, kwargs))
        except OSError:  # the process just died: its "eof", on this loop, fails the future
            if self.dead or self._closing:  # (after the pool recorded the end of its calls)
                self._pending.pop(request_id, None)
                raise EngineClosed(f"engine shard {self.index} ended") from None
        return await future

    async def close(self) -> None:
        if self._conn is None or self._proc is None:
            return
        self._closing = True
        if not self.dead:
            with contextlib.suppress(OSError):
                self._conn.send("close")
        if self._closed_ack is not None and not self.dead:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._closed_ack), 30)
        proc = self._proc
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 10)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        self._conn.close()
        self._conn = None


class SipEnginePool(EngineBase):
    """The :class:`SipEngine` API over as many engine processes as the endpoints need."""

    def __init__(self, config: EngineConfig | None = None, per_engine: int = ROOMS_PER_ENGINE):
        if not 1 <= per_engine <= MAX_ACCOUNTS - 1:
            raise SipConfigError(f"per_engine must be 1-{MAX_ACCOUNTS - 1}")
        super().__init__()
        self.config = config or EngineConfig()
        self.per_engine = per_engine
        self._shards: list[_Shard] = []
        self._by_endpoint: dict[str, _Shard] = {}
        self._grow = asyncio.Lock()
        self._closed = False
        self._configs: dict[str, EndpointConfig] = {}
        self._live: dict[str, str | None] = {}  # call id -> endpoint, until it ends
        self._restarts: set[asyncio.Task[None]] = set()
        self.restarting: set[str] = set()
        """Endpoints whose engine process died, until a fresh engine has them (registered
        again where they register)."""

    async def start(self) -> Self:
        """Engines start on demand, as endpoints are added."""
        return self

    @property
    def engine_count(self) -> int:
        return len(self._shards)

    async def close(self) -> None:
        """Close every engine process (each hangs up and unregisters); idempotent."""
        if self._closed:
            return
        self._closed = True
        for task in self._restarts:
            task.cancel()
        await asyncio.gather(*self._restarts, return_exceptions=True)
        await asyncio.gather(*(shard.close() for shard in self._shards))

    def _on_event(self, shard: _Shard, event: EngineEvent) -> None:
        call_id = getattr(event, "call_id", None)
        if call_id is not None:
            event = dataclasses.replace(event, call_id=f"{shard.index}/{call_id}")  # type: ignore[arg-type]
        if isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
            self._live.pop(event.call_id, None)
        elif isinstance(event, IncomingCall):
            self._live[event.call_id] = event.endpoint
        elif isinstance(event, RegistrationChanged) and event.status.ok:
            self.restarting.discard(event.endpoint)
        self._record(event)

    # -- supervision -----------------------------------------------------------------------------

    def _shard_died(self, shard: _Shard) -> None:
        """An engine process ended unasked: end its calls (cause made locally), mark its
        endpoints unregistered and restarting, and start a fresh engine for them."""
        now = time.monotonic()
        reason = f"the SIP engine process {shard.index} died"
        logger.error("%s; %d calls ended, restarting %s", reason,
                     sum(1 for c in self._live if c.startswith(f"{shard.index}/")),
                     ", ".join(sorted(shard.endpoints)) or "no endpoints")
        for call_id, endpoint in list(self._live.items()):
            if not call_id.startswith(f"{shard.index}/"):
                continue
            last = self.call_phases.get(call_id)
            self._live.pop(call_id, None)
            self._record(CallStateChanged(
                now, call_id, endpoint or (last.endpoint if last else ""),
                CallPhase.DISCONNECTED, None, reason,
                last.direction if last else Direction.OUTGOING,
                last.remote_uri if last else "",
                f"{reason} (made locally)", origin=CauseOrigin.LOCAL,
                seq=time.monotonic_ns(),  # newer than anything the dead engine said
            ))
        for name in sorted(shard.endpoints):
            self.restarting.add(name)
            old = self.registrations.get(name)
            self._record(RegistrationChanged(now, RegistrationStatus(
                name, RegState.FAILED, old.transport if old else Transport.UDP,
                reason=reason, explanation=f"{name}: {reason}; a fresh engine takes over",
                seq=time.monotonic_ns(),
            )))
        loop = asyncio.get_running_loop()
        if shard._proc is not None:
            loop.run_in_executor(None, shard._proc.wait)  # reap it now, not at close
        if not self._closed:
            task = loop.create_task(self._replace(shard))
            self._restarts.add(task)
            task.add_done_callback(self._restarts.discard)

    async def _replace(self, dead: _Shard) -> None:
        names = sorted(dead.endpoints)
        delay = 0.5
        while not self._closed:
            async with self._grow:
                shard = _Shard(len(self._shards) + 1, dead.config, self._on_event,
                               self._shard_died)
                self._shards.append(shard)  # the dead one keeps its index for old call ids
                try:
                    await shard.start()
                except (EngineError, EngineClosed, TimeoutError, OSError) as exc:
                    logger.error("restarting the SIP engine failed: %s", exc)
                    shard.dead = True
                else:
                    for name in names:
                        shard.endpoints.add(name)
                        self._by_endpoint[name] = shard
                    break
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
        for name in names:
            config = self._configs.get(name)
            if config is None or self._by_endpoint.get(name) is not shard:
                continue
            try:
                await shard.call("add_endpoint", config)
            except (SipConfigError, EngineError, EngineClosed) as exc:
                logger.error("%s: could not be added to the fresh engine: %s", name, exc)
                continue
            if not config.register:
                self.restarting.discard(name)

    async def _shard_for_new(self, name: str) -> _Shard:
        if self._closed:
            raise EngineClosed("the engine pool is closed")
        if name in self._by_endpoint:
            raise SipConfigError(f"endpoint {name!r} exists already")
        async with self._grow:
            for shard in self._shards:
                if not shard.dead and len(shard.endpoints) < self._room_in(shard):
                    break
            else:
                config = self.config
                if self._shards:  # fixed listening ports belong to the first engine only
                    config = dataclasses.replace(config, sip_port=0, tls_port=0)
                shard = _Shard(len(self._shards) + 1, config, self._on_event, self._shard_died)
                await shard.start()
                self._shards.append(shard)
            shard.endpoints.add(name)
            self._by_endpoint[name] = shard
            return shard

    def _room_in(self, shard: _Shard) -> int:
        """Endpoints one shard takes: as many as its engine holds calls, at most per_engine."""
        return max(1, min(self.per_engine, shard.capacity))

    def _shard_of(self, name: str) -> _Shard:
        try:
            return self._by_endpoint[name]
        except KeyError:
            raise SipConfigError(f"no endpoint named {name!r}") from None

    def _call(self, call_id: str) -> tuple[_Shard, str]:
        index, _, local = call_id.partition("/")
        if not index.isdigit() or not 1 <= int(index) <= len(self._shards):
            raise SipConfigError(f"no call {call_id!r}")
        return self._shards[int(index) - 1], local

    # -- endpoints -------------------------------------------------------------------------------

    async def add_endpoint(self, endpoint: EndpointConfig) -> RegistrationStatus:
        shard = await self._shard_for_new(endpoint.name)
        self._configs[endpoint.name] = endpoint
        status: RegistrationStatus = await shard.call("add_endpoint", endpoint)
        return self._keep_registration(status)

    async def register(
        self, endpoint: EndpointConfig, timeout: float | None = None
    ) -> RegistrationStatus:
        shard = await self._shard_for_new(endpoint.name)
        self._configs[endpoint.name] = endpoint
        status: RegistrationStatus = await shard.call("register", endpoint, timeout)
        self._keep_registration(status)
        return status

    async def set_registration(self, name: str, on: bool) -> None:
        await self._shard_of(name).call("set_registration", name, on)

    async def remove_endpoint(self, name: str) -> None:
        shard = self._shard_of(name)
        await shard.call("remove_endpoint", name)
        shard.endpoints.discard(name)
        del self._by_endpoint[name]
        self.registrations.pop(name, None)
        self._configs.pop(name, None)

    # -- calls -----------------------------------------------------------------------------------

    async def dial(
        self,
        target: DialTarget | str,
        endpoint: str | None = None,
        options: CallOptions | None = None,
        ivr: Sequence[IvrStep] = (),
    ) -> str:
        if endpoint is not None:
            shard = self._shard_of(endpoint)
        else:
            alive = [shard for shard in self._shards if not shard.dead]
            shard = alive[0] if alive else await self._first_shard()
        local = await shard.call("dial", target, endpoint, options, tuple(ivr))
        call_id = f"{shard.index}/{local}"
        self._live[call_id] = endpoint
        return call_id

    async def _first_shard(self) -> _Shard:
        shard = await self._shard_for_new("direct")
        shard.endpoints.discard("direct")
        del self._by_endpoint["direct"]
        return shard

    async def wait_call(
        self,
        call_id: str,
        phases: Collection[CallPhase] = (CallPhase.CONNECTED, CallPhase.DISCONNECTED),
        timeout: float = 60.0,
    ) -> CallStateChanged:
        shard, local = self._call(call_id)
        try:
            event: CallStateChanged = await shard.call(
                "wait_call", local, tuple(phases), timeout
            )
        except EngineClosed:
            ended = self.call_phases.get(call_id)
            if shard.dead and ended is not None and ended.phase is CallPhase.DISCONNECTED:
                return ended  # the engine died: the end this pool recorded for the call
            raise
        return dataclasses.replace(event, call_id=call_id)

    async def wait_dtmf(self, call_id: str, count: int, timeout: float = 10.0) -> str:
        shard, local = self._call(call_id)
        digits: str = await shard.call("wait_dtmf", local, count, timeout)
        return digits

    async def answer(self, call_id: str, code: int = 200) -> None:
        shard, local = self._call(call_id)
        await shard.call("answer", local, code)

    async def hangup(self, call_id: str, code: int | None = None) -> None:
        shard, local = self._call(call_id)
        if shard.dead:
            return  # the call ended with its engine
        await shard.call("hangup", local, code)

    async def send_dtmf(
        self, call_id: str, digits: str, method: DtmfMethod = DtmfMethod.RFC4733
    ) -> None:
        shard, local = self._call(call_id)
        await shard.call("send_dtmf", local, digits, method)

    async def request_keyframe(self, call_id: str) -> None:
        shard, local = self._call(call_id)
        await shard.call("request_keyframe", local)

    async def call_stats(self, call_id: str) -> CallStats:
        shard, local = self._call(call_id)
        stats: CallStats = await shard.call("call_stats", local)
        return dataclasses.replace(stats, call_id=call_id)
