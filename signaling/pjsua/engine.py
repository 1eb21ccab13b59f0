"""The SIP engine: pjsua2 on its own thread, driven from asyncio.

>>> async with SipEngine(EngineConfig()) as engine:                       # doctest: +SKIP
...     room = EndpointConfig("room1", "alice", "pw", registrar="10.0.0.5", transport=Transport.TLS)
...     status = await engine.register(room)
...     call = await engine.dial("123456789.1234@zoomcrc.com", endpoint="room1")
...     await engine.wait_call(call, {CallPhase.CONNECTED, CallPhase.DISCONNECTED})

Commands go to the engine thread through a queue; events come back as frozen dataclasses
(:mod:`signaling.sip.events`) into :attr:`SipEngine.events` via ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Collection, Sequence
from typing import Any, Self, TypeVar

from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import IvrStep
from signaling.pjsua._base import EngineBase
from signaling.pjsua._worker import Worker
from signaling.sip.address import HostPort, add_transport_param, dial_uri, parse_host_port
from signaling.sip.autoselect import TransportMemory, auto_candidates, probe_port
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.dtmf import dtmf_plan
from signaling.sip.errors import CallSlotsSettling, EngineClosed, SipConfigError
from signaling.sip.eventlog import EventLog
from signaling.sip.events import (
    ByeOutcome,
    CallStateChanged,
    CallStats,
    DtmfReceived,
    EngineEvent,
    IncomingCall,
    RegistrationStatus,
)
from signaling.sip.grammar import uri_host_port
from signaling.sip.types import CallPhase, DtmfMethod, RegState, Transport

__all__ = ["SipEngine"]

logger = logging.getLogger("signaling.pjsua")
T = TypeVar("T")

DIAL_SETTLE_WAIT_S = 5.0
"""How long a dial waits for the sockets of calls that just ended (CallSlotsSettling)."""
_END = frozenset({CallPhase.CONNECTED, CallPhase.DISCONNECTED})


class SipEngine(EngineBase):
    """One pjsua2 stack: up to 8 endpoints (pjsua2's limit per process; :class:`SipEnginePool`
    for more) and their calls. Use ``async with`` or :meth:`start` / :meth:`close`
    (idempotent; also runs at interpreter exit). One engine per process at a time."""

    def __init__(self, config: EngineConfig | None = None) -> None:
        super().__init__()
        self.config = config or EngineConfig()
        self._call_marks: dict[str, int] = {}
        self._configs: dict[str, EndpointConfig] = {}
        self._memory = TransportMemory()
        self._worker: Worker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # -- life cycle ------------------------------------------------------------------------------

    async def start(self) -> Self:
        if self._worker is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self.events = EventLog()
        worker = Worker(self.config, self._from_thread)
        await asyncio.wrap_future(worker.start())  # raises EngineError if it cannot start
        self._worker = worker
        atexit.register(self.close_sync)
        return self

    async def close(self) -> None:
        """Hang up every call, unregister every endpoint, destroy pjsua2; idempotent."""
        worker = self._worker
        if worker is None or self._closed:
            return
        self._closed = True
        with contextlib.suppress(EngineClosed):
            await asyncio.wrap_future(worker.stop())
        await asyncio.get_running_loop().run_in_executor(None, worker.join, 30.0)
        atexit.unregister(self.close_sync)

    def close_sync(self) -> None:
        """:meth:`close` for code without a running loop (and the ``atexit`` hook)."""
        worker = self._worker
        if worker is None or self._closed:
            return
        self._closed = True
        worker.stop()
        worker.join(30.0)
        atexit.unregister(self.close_sync)

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.alive and not self._closed

    @property
    def call_capacity(self) -> int:
        """Calls this engine holds at once: its pjsua2's real limit (the wheel's
        ``PJSUA_MAX_CALLS``) or ``config.max_calls`` when lower. Known once started."""
        if self._worker is None:
            raise EngineClosed("the engine has not started")
        return self._worker.call_capacity

    # -- thread bridge ---------------------------------------------------------------------------

    def _from_thread(self, event: EngineEvent) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._deliver, event)

    def _forget_call(self, call_id: str) -> None:
        self._call_marks.pop(call_id, None)
        worker = self._worker
        if worker is not None and worker.alive:
            worker.submit(lambda: worker.forget_call(call_id))

    def _deliver(self, event: EngineEvent) -> None:
        if isinstance(event, IncomingCall):
            self._call_marks.setdefault(event.call_id, self.events.mark())
        self._record(event)

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._worker is None or self._closed:
            raise EngineClosed("the SIP engine is not running")
        return await asyncio.wrap_future(self._worker.submit(lambda: fn(*args)))

    def _require(self) -> Worker:
        if self._worker is None or self._closed:
            raise EngineClosed("the SIP engine is not running")
        return self._worker

    # -- endpoints -------------------------------------------------------------------------------

    async def add_endpoint(self, endpoint: EndpointConfig) -> RegistrationStatus:
        """Create the endpoint; it starts registering at once when it has a registrar."""
        worker = self._require()
        transport = await self._concrete_transport(endpoint)
        status = await self._run(worker.add_endpoint, endpoint, transport)
        self._configs[endpoint.name] = endpoint
        # The worker's answer may reach us after newer events of this endpoint (a busy loop
        # resumes this coroutine late): the snapshot keeps the newest by ``seq``.
        return self._keep_registration(status)

    async def register(
        self, endpoint: EndpointConfig, timeout: float | None = None
    ) -> RegistrationStatus:
        """Add ``endpoint`` and wait for its first registration result (success or failure)."""
        mark = self.events.mark()
        await self.add_endpoint(endpoint)
        if not endpoint.register:
            return self.registrations[endpoint.name]
        return await self.wait_registration(endpoint.name, timeout, since=mark)

    def _registration_seen(self, name: str, status: RegistrationStatus) -> None:
        """AUTO without DNS: remember the transport that worked, forget one that failed."""
        config = self._configs.get(name)
        if config is None or config.transport is not Transport.AUTO:
            return
        address = config.proxy_address or config.registrar_address
        if address is None or status.transport is Transport.AUTO:  # pjsip resolved by DNS
            return
        if status.state is RegState.REGISTERED:
            self._memory.remember(address, status.transport)
        elif status.code in (408, 503):
            self._memory.forget(address)

    async def set_registration(self, name: str, on: bool) -> None:
        """Register again (``on``) or unregister (Expires: 0) an existing endpoint."""
        await self._run(self._require().set_registration, name, on)

    async def remove_endpoint(self, name: str) -> None:
        await self._run(self._require().remove_endpoint, name)
        self.registrations.pop(name, None)
        self._configs.pop(name, None)

    async def _concrete_transport(self, endpoint: EndpointConfig) -> Transport:
        if endpoint.transport is not Transport.AUTO:
            return endpoint.transport
        if self.config.nameservers:
            return Transport.AUTO  # pjsip resolves NAPTR/SRV (RFC 3263) itself
        address = endpoint.proxy_address or endpoint.registrar_address
        return await self._probe(address)

    async def _probe(self, address: HostPort | None) -> Transport:
        """AUTO without DNS: TLS, then TCP, then UDP, each with a short connect timeout."""
        candidates = auto_candidates(
            self.config.transports, self._memory.recall(address) if address else None
        )
        if address is None:
            return candidates[-1]
        for transport in candidates:
            if transport is Transport.UDP:
                return transport
            port = probe_port(address, transport)
            if await self._connects(address.host, port, transport is Transport.TLS):
                logger.info("AUTO: %s answers on %s port %d", address.host, transport.value, port)
                return transport
        return candidates[-1]

    async def _connects(self, host: str, port: int, tls: bool) -> bool:
        context: ssl.SSLContext | None = None
        if tls:  # only "does it speak TLS?": pjsip verifies the certificate afterwards
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(host, port, ssl=context),
                self.config.auto_probe_timeout_s,
            )
        except (OSError, TimeoutError, ssl.SSLError):
            return False
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
        return True

    # -- calls -----------------------------------------------------------------------------------

    async def _direct_endpoint(self, transport: Transport, target: str) -> tuple[str, Transport]:
        """An unregistered local identity to call from, one per transport (made on first use)."""
        if transport is Transport.AUTO:
            host = uri_host_port(target)
            try:
                address: HostPort | None = parse_host_port(host)
            except SipConfigError:
                address = None
            transport = await self._probe(address)
        name = f"direct-{transport.value}"
        if name not in self.registrations:
            bind = HostPort(self.config.bind_address).host_literal()
            config = EndpointConfig(
                name=name, user="crcgw", domain=bind, transport=transport, register=False
            )
            await self.add_endpoint(config)
        return name, transport

    async def dial(
        self,
        target: DialTarget | str,
        endpoint: str | None = None,
        options: CallOptions | None = None,
        ivr: Sequence[IvrStep] = (),
    ) -> str:
        """Place a call; returns its id at once (follow it with :meth:`wait_call`).

        ``target`` is a :class:`DialTarget`, a SIP URI or a Zoom SIP dial string. Without
        ``endpoint`` the call goes out directly (no registration) over ``options.transport``.
        ``options.dtmf`` and the ``ivr`` steps are sent after answer.
        """
        worker = self._require()
        options = options or CallOptions()
        uri = dial_uri(target)
        plan = dtmf_plan(options.dtmf, ivr, options.dtmf_delay_s)
        if endpoint is None:
            endpoint, transport = await self._direct_endpoint(
                options.transport or Transport.UDP, uri
            )
            uri = add_transport_param(uri, transport)
        elif options.transport is not None:
            uri = add_transport_param(uri, options.transport)
        mark = self.events.mark()
        deadline = time.monotonic() + DIAL_SETTLE_WAIT_S
        while True:
            try:
                call_id = await self._run(worker.dial, endpoint, uri, options, plan)
                break
            except CallSlotsSettling as exc:  # calls just ended: wait until a slot is free
                if time.monotonic() + exc.retry_in_s > deadline:
                    raise
                await asyncio.sleep(exc.retry_in_s)
        self._call_marks[call_id] = mark
        return call_id

    async def wait_call(
        self, call_id: str, phases: Collection[CallPhase] = _END, timeout: float = 60.0
    ) -> CallStateChanged:
        """The first event of ``call_id`` (since it began) whose phase is in ``phases``."""
        event = await self.events.wait_for(
            lambda e: (
                isinstance(e, CallStateChanged) and e.call_id == call_id and e.phase in phases
            ),
            timeout,
            self._call_marks.get(call_id, 0),
        )
        assert isinstance(event, CallStateChanged)
        return event

    async def wait_bye(self, call_id: str, timeout: float | None = None) -> ByeOutcome:
        """What became of the BYE sent on ``call_id``: its response or, after the engine's
        ``bye_timeout_s``, "no answer" (the engine reports that itself; ``timeout`` is a
        safety net, default ``bye_timeout_s`` + 5 s)."""
        wait = timeout if timeout is not None else self.config.bye_timeout_s + 5
        event = await self.events.wait_for(
            lambda e: isinstance(e, ByeOutcome) and e.call_id == call_id,
            wait,
            self._call_marks.get(call_id, 0),
        )
        assert isinstance(event, ByeOutcome)
        return event

    async def wait_dtmf(self, call_id: str, count: int, timeout: float = 10.0) -> str:
        """Digits received on ``call_id`` once ``count`` arrived (or what came by ``timeout``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            got = self.dtmf_received(call_id)
            left = deadline - loop.time()
            if len(got) >= count or left <= 0:
                return got
            mark = self.events.mark()
            with contextlib.suppress(TimeoutError):
                await self.events.wait_for(
                    lambda e: isinstance(e, DtmfReceived) and e.call_id == call_id, left, mark
                )

    def dtmf_received(self, call_id: str) -> str:
        return "".join(
            e.digit
            for e in self.events.since(self._call_marks.get(call_id, 0))
            if isinstance(e, DtmfReceived) and e.call_id == call_id
        )

    async def answer(self, call_id: str, code: int = 200) -> None:
        await self._run(self._require().answer, call_id, code)

    async def hangup(self, call_id: str, code: int | None = None) -> None:
        await self._run(self._require().hangup, call_id, code)

    async def send_dtmf(
        self, call_id: str, digits: str, method: DtmfMethod = DtmfMethod.RFC4733
    ) -> None:
        await self._run(self._require().send_dtmf, call_id, digits, method)

    async def call_stats(self, call_id: str) -> CallStats:
        return await self._run(self._require().call_stats, call_id)

    async def request_keyframe(self, call_id: str) -> None:
        """Ask the far end for a keyframe by SIP INFO ``picture_fast_update`` (video calls)."""
        worker = self._require()
        await self._run(worker.video.request_keyframe, call_id)
