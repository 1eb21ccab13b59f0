"""The engine thread: owns the pjsua2 Endpoint, its transports and accounts, runs commands.

Every pjsua2 object is created, used and destroyed on this one thread (``threadCnt=0``,
``mainThreadOnly=True``, polling ``libHandleEvents``). Other threads only put commands on the
queue (:meth:`Worker.submit`) and receive events through ``emit``.
"""

from __future__ import annotations

import concurrent.futures as cf
import gc
import logging
import os
import queue
import random
import signal
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pjsua2 as pj

from signaling.pjsua._calls import CallCore
from signaling.pjsua._configs import (
    PJ_TRANSPORT_TYPES,
    PjLogWriter,
    account_config,
    ep_config,
    tls_problem_names,
    transport_config,
)
from signaling.pjsua._objects import PjAccount, PjEndpoint
from signaling.pjsua._timers import Timer, TimerHeap
from signaling.sip.codecs import codec_priorities
from signaling.sip.config import EndpointConfig, EngineConfig
from signaling.sip.errors import EngineClosed, EngineError, SipConfigError
from signaling.sip.events import (
    EngineEvent,
    RegistrationStatus,
    TransportDisconnected,
)
from signaling.sip.registration import Registration, RegStep, TlsProblemLog
from signaling.sip.types import RegState, Transport

__all__ = ["MAX_ACCOUNTS", "MAX_CALLS", "Worker"]

logger = logging.getLogger("signaling.pjsua")
T = TypeVar("T")

# PJSUA_MAX_ACC of the pjsua2-python wheel: one more account makes pjsua_acc_add assert
# and abort the whole process, so the engine refuses it first (SipEnginePool shards beyond).
MAX_ACCOUNTS = 8
# PJSUA_MAX_CALLS of the same wheel: pjsua silently lowers ua.maxCalls to it, and the fifth
# simultaneous call fails in pjsua_call_make_call with PJ_ETOOMANY (measured: maxCalls=32
# gives 4 calls, maxCalls=3 gives 3; tests/sip/test_capacity.py pins it). The engine refuses
# the call beyond with a clear error first; SipEnginePool sizes its shards by it.
MAX_CALLS = 4

# pjsua is a process-wide singleton: a second Endpoint, created on another thread, aborts the
# process inside pjlib. One engine at a time per process, enforced before touching pjsua2.
_ACTIVE = threading.Lock()


@dataclass
class _Endpoint:
    """One endpoint: its registration machine and its pjsua2 account."""

    reg: Registration
    account: PjAccount
    timer: Timer | None = None

    @property
    def config(self) -> EndpointConfig:
        return self.reg.config

    @property
    def status(self) -> RegistrationStatus:
        return self.reg.status


class _StdoutSilenced:
    """pjlib prints its first lines to fd 1 before a log writer exists: keep stdout clean."""

    def __enter__(self) -> None:
        self._saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self._saved, 1)
        os.close(self._saved)


class Worker(CallCore):
    def __init__(self, config: EngineConfig, emit: Callable[[EngineEvent], None]) -> None:
        super().__init__()
        self.config = config
        self.call_capacity = min(config.max_calls, MAX_CALLS)
        """Simultaneous calls this engine can really hold (incoming and outgoing)."""
        self._emit_cb = emit
        self._commands: queue.SimpleQueue[tuple[Callable[[], Any], cf.Future[Any]]] = (
            queue.SimpleQueue()
        )
        self.timers = TimerHeap()
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._ep: PjEndpoint | None = None
        self._writer: PjLogWriter | None = None
        self._transport_ids: dict[tuple[Transport, bool], int] = {}
        self.endpoints: dict[str, _Endpoint] = {}
        self._tls_problems = TlsProblemLog()
        self._rng = random.Random()
        self._seq = 0

    def now(self) -> float:
        """The engine's clock, read at the edge: once per pjsua2 callback or command."""
        return time.monotonic()

    def next_seq(self) -> int:
        """The order of a new status (``seq`` of :mod:`signaling.sip.events`): strictly
        increasing, and from the host's monotonic clock so engine processes compare."""
        self._seq = max(self._seq + 1, time.monotonic_ns())
        return self._seq

    # -- thread and command plumbing -------------------------------------------------------------

    def start(self) -> cf.Future[None]:
        ready: cf.Future[None] = cf.Future()
        if not _ACTIVE.acquire(blocking=False):
            self._closed = True
            ready.set_exception(
                EngineError("another SIP engine is running in this process (pjsua2 allows one)")
            )
            return ready
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="crcgw-pjsua", daemon=True
        )
        self._thread.start()
        return ready

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, fn: Callable[[], T]) -> cf.Future[T]:
        """Run ``fn`` on the engine thread; its result or exception lands in the future."""
        future: cf.Future[T] = cf.Future()
        if self._closed or not self.alive:
            future.set_exception(EngineClosed("the SIP engine is not running"))
            return future
        self._commands.put((fn, future))
        return future

    def stop(self) -> cf.Future[None]:
        """Ask the thread to tear everything down; resolves once pjsua2 is destroyed."""

        def request() -> None:
            self._stopping = True

        return self.submit(request)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def emit(self, event: EngineEvent) -> None:
        try:
            self._emit_cb(event)
        except Exception:
            logger.error("event delivery failed:\n%s", traceback.format_exc())

    def _run(self, ready: cf.Future[None]) -> None:
        # Ctrl-C and SIGTERM must reach the main thread: a signal delivered to this thread (or
        # to pjsip's media thread, which inherits the mask) would not wake the main thread's
        # event loop, and the program would ignore Ctrl-C until its next timer.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            self._init_lib()
        except BaseException as exc:
            logger.debug("engine start failed:\n%s", traceback.format_exc())
            self._teardown()
            self._closed = True
            _ACTIVE.release()
            ready.set_exception(EngineError(f"SIP engine did not start: {_pj_text(exc)}"))
            return
        ready.set_result(None)
        try:
            while not self._stopping:
                self._drain_commands()
                self.timers.run_due(self.now())
                assert self._ep is not None
                self._ep.libHandleEvents(self.config.poll_ms)
        except BaseException:
            logger.error("SIP engine loop failed; shutting down:\n%s", traceback.format_exc())
        finally:
            self._teardown()
            self._closed = True
            _ACTIVE.release()
            self._fail_pending_commands()

    def _drain_commands(self) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(_translate(exc))

    def _fail_pending_commands(self) -> None:
        while True:
            try:
                fn, future = self._commands.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(EngineClosed("the SIP engine was closed"))

    def poll_for(self, seconds: float, done: Callable[[], bool] = lambda: False) -> None:
        """Handle events for up to ``seconds`` or until ``done()`` (engine thread only)."""
        assert self._ep is not None
        deadline = self.now() + seconds
        while not done() and self.now() < deadline:
            self._ep.libHandleEvents(self.config.poll_ms)

    # -- start and teardown ---------------------------------------------------------------------

    def _init_lib(self) -> None:
        with _StdoutSilenced():
            try:  # constructing a second Endpoint would abort the process: check first
                pj.Endpoint.instance()
            except pj.Error:
                pass
            else:
                raise EngineError(
                    "the pjsua2 Endpoint of an earlier engine is still alive in this process"
                )
        self._ep = PjEndpoint(self)
        with _StdoutSilenced():
            self._ep.libCreate()
            self._writer = PjLogWriter(self.config.pjsip_log_level, self.on_wire)
            self._ep.libInit(ep_config(self.config, self._writer, self.call_capacity))
        families = [False] + ([True] if self.config.bind_address6 else [])
        for ipv6 in families:
            for transport in self.config.transports:
                tc = transport_config(self.config, transport, ipv6)
                kind = PJ_TRANSPORT_TYPES[(transport, ipv6)]
                self._transport_ids[(transport, ipv6)] = self._ep.transportCreate(kind, tc)
        self._ep.libStart()
        self._ep.audDevManager().setNullDev()  # no sound card; still the clock that sends RTP
        available = [info.codecId for info in self._ep.codecEnum2()]
        for codec_id, priority in codec_priorities(self.config.codecs, available).items():
            self._ep.codecSetPriority(codec_id, priority)

    def _teardown(self) -> None:
        """Hang up, unregister, drop every Call and Account wrapper, then ``libDestroy``.

        A ``pj.Call`` whose C++ destructor runs after ``libDestroy`` aborts the process, so
        all references go first and ``gc.collect()`` breaks any cycle before destroying.
        """
        ep = self._ep
        if ep is None:
            return
        self.timers.clear()
        try:
            self.hangup_all()
            self.poll_for(1.0, lambda: not self.active_calls())
            self._unregister_all()
        except BaseException:
            logger.error("hang-up/unregister at shutdown failed:\n%s", traceback.format_exc())
        self.drop_calls()
        for endpoint in list(self.endpoints.values()):
            _shutdown_account(endpoint.account)
        self.endpoints.clear()
        gc.collect()
        try:
            ep.libHandleEvents(10)
            # everything is hung up and unregistered already: skip pjsua's own network
            # shutdown round (it sleeps ~1 s waiting for it)
            ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        except BaseException:
            logger.error("libDestroy failed:\n%s", traceback.format_exc())
        self._ep = None
        self._writer = None
        gc.collect()

    def _unregister_all(self) -> None:
        pending: list[_Endpoint] = []
        for endpoint in self.endpoints.values():
            registered = endpoint.status.state is RegState.REGISTERED
            endpoint.reg.want_registered = False
            if registered:
                try:
                    endpoint.account.setRegistration(False)
                    pending.append(endpoint)
                except pj.Error:
                    pass
        if pending:
            self.poll_for(
                self.config.unregister_wait_s,
                lambda: all(e.status.state is not RegState.REGISTERED for e in pending),
            )

    # -- endpoints and registration --------------------------------------------------------------

    def transport_id(self, transport: Transport, ipv6: bool) -> int | None:
        if transport is Transport.AUTO:
            return None
        try:
            return self._transport_ids[(transport, ipv6)]
        except KeyError:
            family = "IPv6" if ipv6 else "IPv4"
            raise SipConfigError(
                f"no {transport.value.upper()} {family} transport in this engine"
            ) from None

    def add_endpoint(self, config: EndpointConfig, transport: Transport) -> RegistrationStatus:
        if config.name in self.endpoints:
            raise SipConfigError(f"endpoint {config.name!r} exists already")
        if len(self.endpoints) >= MAX_ACCOUNTS:
            raise SipConfigError(
                f"endpoint {config.name!r}: one engine holds at most {MAX_ACCOUNTS} endpoints "
                "(pjsua2 limit per process); use SipEnginePool for more"
            )
        address = config.proxy_address or config.registrar_address
        ipv6 = bool(address and address.is_ipv6)
        tp_id = self.transport_id(transport, ipv6)
        account = PjAccount(self, config.name)
        reg = Registration(
            config,
            transport,
            retry=self.config.retry,
            register_timeout_s=self.config.register_timeout_s,
            stamp=self.next_seq,
            rng=self._rng,
            tls_problems=self._tls_problems,
        )
        endpoint = _Endpoint(reg, account)
        self.endpoints[config.name] = endpoint
        try:
            account.create(account_config(config, self.config, transport, tp_id, ipv6))
        except BaseException:
            del self.endpoints[config.name]
            raise
        return endpoint.status

    def remove_endpoint(self, name: str) -> None:
        endpoint = self._endpoint(name)
        if endpoint.timer:
            endpoint.timer.cancel()
        del self.endpoints[name]
        _shutdown_account(endpoint.account)

    def set_registration(self, name: str, on: bool) -> None:
        endpoint = self._endpoint(name)
        if endpoint.config.registrar is None:
            raise SipConfigError(f"endpoint {name!r} has no registrar")
        self._reg_step(endpoint, endpoint.reg.want(on), self.now(), strict=True)

    def status(self, name: str) -> RegistrationStatus:
        return self._endpoint(name).status

    def _endpoint(self, name: str) -> _Endpoint:
        try:
            return self.endpoints[name]
        except KeyError:
            raise SipConfigError(f"no endpoint named {name!r}") from None

    # -- the registration machines' steps ------------------------------------------------------

    def _reg_step(
        self, endpoint: _Endpoint, step: RegStep, now: float, strict: bool = False
    ) -> None:
        """Tell the events, send the REGISTERs asked for (``strict``: a pjsua2 error goes to
        the caller; otherwise the machine tries again later), wake up at its deadline."""
        commands, events = step
        for event in events:
            self.emit(event)
        try:
            for command in commands:
                try:
                    endpoint.account.setRegistration(command.on)
                except pj.Error as exc:  # e.g. the previous REGISTER is still pending
                    if strict:
                        raise
                    logger.debug("%s: re-register deferred: %s", endpoint.reg.name, _pj_text(exc))
                    self._reg_step(endpoint, endpoint.reg.deferred(now), now)
        finally:
            self._reg_arm(endpoint)

    def _reg_arm(self, endpoint: _Endpoint) -> None:
        name = endpoint.reg.name
        endpoint.timer = self.timers.rearm(
            endpoint.timer, endpoint.reg.deadline, lambda: self._reg_tick(name)
        )

    def _reg_tick(self, name: str) -> None:
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            endpoint.timer = None
            now = self.now()
            self._reg_step(endpoint, endpoint.reg.tick(now), now)

    def on_reg_started(self, name: str, renew: bool) -> None:
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            now = self.now()
            self._reg_step(endpoint, endpoint.reg.started(renew, now), now)

    def on_reg_state(self, name: str, code: int, reason: str, expiration: int) -> None:
        endpoint = self.endpoints.get(name)
        if endpoint is not None:
            now = self.now()
            self._reg_step(endpoint, endpoint.reg.answered(code, reason, expiration, now), now)

    def on_transport_state(
        self, kind: str, state: int, remote: str, reason: str, verify_status: int
    ) -> None:
        now = self.now()
        problems = tls_problem_names(verify_status) if verify_status else ()
        self._tls_problems.seen(remote, problems, now)
        if state != pj.PJSIP_TP_STATE_DISCONNECTED or not kind.startswith(("tcp", "tls")):
            return
        transport = Transport.TLS if kind.startswith("tls") else Transport.TCP
        self.emit(TransportDisconnected(now, transport, remote, reason, problems))
        # A dropped connection loses the registration binding: re-register soon, with backoff.
        for endpoint in self.endpoints.values():
            self._reg_step(endpoint, endpoint.reg.transport_lost(now), now)

    # -- calls need accounts -----------------------------------------------------------------

    def account_of(self, name: str) -> PjAccount:
        return self._endpoint(name).account

    def endpoint_config(self, name: str) -> EndpointConfig:
        return self._endpoint(name).config


def _shutdown_account(account: PjAccount) -> None:
    try:
        account.shutdown()
    except pj.Error:
        pass


def _pj_text(exc: BaseException) -> str:
    if isinstance(exc, pj.Error):
        return f"{exc.title}: {exc.reason}" if exc.title else str(exc.reason)
    return str(exc)


def _translate(exc: BaseException) -> BaseException:
    """pjsua2's ``pj.Error`` never leaves the adapter: it becomes :class:`EngineError`."""
    if isinstance(exc, pj.Error):
        return EngineError(_pj_text(exc))
    return exc
