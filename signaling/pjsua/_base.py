"""What :class:`SipEngine` and :class:`SipEnginePool` share: the event log and listeners,
registration and call snapshots, registration waits, and the ``async with`` protocol."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Collection
from types import TracebackType
from typing import Self

from signaling.sip.config import EngineConfig
from signaling.sip.eventlog import EventLog
from signaling.sip.events import (
    CallStateChanged,
    EngineEvent,
    IncomingCall,
    RegistrationChanged,
    RegistrationStatus,
    newer,
)
from signaling.sip.types import CallPhase, RegState

__all__ = ["FINAL_REG_STATES", "KEEP_FINISHED_CALLS", "EngineBase"]

KEEP_FINISHED_CALLS = 200
"""Ended calls an engine still answers questions about (phase, stats); older ones are gone
from memory (the gateway's CDR store keeps them)."""

FINAL_REG_STATES = (RegState.REGISTERED, RegState.FAILED)

logger = logging.getLogger("signaling.pjsua")


class EngineBase:
    config: EngineConfig

    def __init__(self) -> None:
        self.events: EventLog[EngineEvent] = EventLog()
        self.registrations: dict[str, RegistrationStatus] = {}
        self.call_phases: dict[str, CallStateChanged] = {}
        self._listeners: list[Callable[[EngineEvent], None]] = []
        self.keep_finished = KEEP_FINISHED_CALLS
        """Ended calls whose last phase stays in :attr:`call_phases` (oldest forgotten first)."""
        self._finished: deque[str] = deque()

    def add_listener(self, listener: Callable[[EngineEvent], None]) -> None:
        """Call ``listener(event)`` on the event loop for every event from now on."""
        self._listeners.append(listener)

    def _keep_registration(self, status: RegistrationStatus) -> RegistrationStatus:
        """Store ``status`` unless the snapshot holds a newer one; returns the snapshot.

        A command's answer (``add_endpoint``'s first status) can reach the event loop after
        the events that followed it: on a busy machine the coroutine resumes late, after the
        REGISTER/401/REGISTER/200 exchange. Ordering by ``seq`` drops the stale write."""
        current = self.registrations.get(status.endpoint)
        if newer(current, status.seq):
            self.registrations[status.endpoint] = status
            return status
        assert current is not None
        logger.debug("%s: dropped a stale status (%s)", status.endpoint, status.state.value)
        return current

    def _keep_call_state(self, event: CallStateChanged) -> None:
        """Store a call's state unless the snapshot holds a newer one (as registrations)."""
        if newer(self.call_phases.get(event.call_id), event.seq):
            self.call_phases[event.call_id] = event

    def _record(self, event: EngineEvent) -> None:
        """Keep the snapshots, append to the log, tell the listeners (event loop thread)."""
        if isinstance(event, RegistrationChanged):
            self._keep_registration(event.status)
        elif isinstance(event, CallStateChanged):
            self._keep_call_state(event)
            if event.phase is CallPhase.DISCONNECTED:
                self._finished.append(event.call_id)
                while len(self._finished) > self.keep_finished:
                    old = self._finished.popleft()
                    self.call_phases.pop(old, None)
                    self._forget_call(old)
        self.events.append(event)
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                logger.exception("event listener failed")

    def _forget_call(self, call_id: str) -> None:
        """Hook: drop what a subclass keeps per call, once the call is long over."""

    async def start(self) -> Self:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def wait_registration(
        self,
        name: str,
        timeout: float | None = None,
        since: int | None = None,
        states: Collection[RegState] = FINAL_REG_STATES,
    ) -> RegistrationStatus:
        """The next status of endpoint ``name`` in ``states`` (after ``since``, default now)."""
        wait = timeout if timeout is not None else self.config.register_timeout_s + 2
        event = await self.events.wait_for(
            lambda e: (
                isinstance(e, RegistrationChanged)
                and e.endpoint == name
                and e.status.state in states
            ),
            wait,
            since,
        )
        assert isinstance(event, RegistrationChanged)
        self._registration_seen(name, event.status)
        return event.status

    def _registration_seen(self, name: str, status: RegistrationStatus) -> None:
        """Hook for subclasses (the engine learns which AUTO transport worked)."""

    async def wait_incoming(
        self, endpoint: str | None = None, timeout: float = 10.0, since: int | None = None
    ) -> IncomingCall:
        """The first incoming call (to ``endpoint``, or any) after ``since`` (default now)."""
        event = await self.events.wait_for(
            lambda e: isinstance(e, IncomingCall) and endpoint in (None, e.endpoint),
            timeout,
            since,
        )
        assert isinstance(event, IncomingCall)
        return event
