"""asyncio edge for RAS: drives :class:`~signaling.h323.ras.RasEndpoint` over one UDP socket."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from signaling.h323._service import AsyncService
from signaling.h323.errors import H323ConnectionError, H323Timeout, PerError, RasRejected
from signaling.h323.h225 import Alias
from signaling.h323.ras import RAS_PORT, RasEndpoint, RasEvent, RegistrationState

__all__ = ["RasClient"]

log = logging.getLogger(__name__)


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, client: RasClient) -> None:
        self.client = client

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.client._datagram(data)

    def error_received(self, exc: Exception) -> None:
        self.client._error = exc


class RasClient(AsyncService):
    """Register ``aliases`` with a gatekeeper, keep the registration alive, unregister on close.

    Every wait is bounded: a request is repeated every ``timeout`` seconds ``retries`` times,
    then :class:`~signaling.h323.errors.H323Timeout` is raised. ``clock`` is the time source
    handed to the state machine (tests may pass a fake one).
    """

    def __init__(
        self,
        gatekeeper: str,
        aliases: list[Alias],
        *,
        gatekeeper_port: int = RAS_PORT,
        ttl: int = 300,
        call_signal_port: int = 1720,
        timeout: float = 3.0,
        retries: int = 2,
        discover: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.gatekeeper = (gatekeeper, gatekeeper_port)
        self._aliases = aliases
        self._options = {"ttl": ttl, "timeout": timeout, "retries": retries, "discover": discover}
        self._call_signal_port = call_signal_port
        self._clock = clock
        self._transport: asyncio.DatagramTransport | None = None
        self._wake = asyncio.Event()
        self._error: Exception | None = None
        self.endpoint: RasEndpoint | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> RasClient:
        loop = asyncio.get_running_loop()
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), remote_addr=self.gatekeeper
            )
        except OSError as exc:
            raise H323ConnectionError(f"cannot reach {self.gatekeeper[0]}: {exc}") from exc
        self._transport = transport
        host, port = transport.get_extra_info("sockname")[:2]
        self.endpoint = RasEndpoint(
            list(self._aliases),
            (str(host), int(port)),
            (str(host), self._call_signal_port),
            **self._options,  # type: ignore[arg-type]
        )
        return self

    async def close(self) -> None:
        """Unregister (URQ) when registered, then close the socket; safe to call twice."""
        if self._transport is None:
            return
        try:
            if self.endpoint and self.endpoint.state is RegistrationState.REGISTERED:
                await self.unregister()
        except (H323Timeout, RasRejected, H323ConnectionError) as exc:
            log.warning("unregistering: %s", exc)
        finally:
            self._transport.close()
            self._transport = None

    # -- operations ----------------------------------------------------------------------------

    @property
    def events(self) -> list[RasEvent]:
        return self.endpoint.events if self.endpoint else []

    async def register(self) -> RasEndpoint:
        """GRQ/RRQ until registered; raises :class:`RasRejected` or :class:`H323Timeout`."""
        endpoint = self._need_endpoint()
        self._send(endpoint.start(self._clock()))
        await self._settle(
            lambda: (
                endpoint.state not in (RegistrationState.DISCOVERING, RegistrationState.REGISTERING)
            )
        )
        if endpoint.state is not RegistrationState.REGISTERED:
            self._raise_last("registration")
        return endpoint

    async def unregister(self) -> None:
        endpoint = self._need_endpoint()
        self._send(endpoint.unregister(self._clock()))
        await self._settle(lambda: endpoint.state is not RegistrationState.UNREGISTERING)
        if endpoint.state is not RegistrationState.UNREGISTERED:
            self._raise_last("unregistration")

    async def keep_alive(self, duration: float) -> None:
        """Stay registered for ``duration`` seconds, sending keep-alive RRQs when due."""
        endpoint = self._need_endpoint()
        loop = asyncio.get_running_loop()
        until = loop.time() + duration
        while loop.time() < until:
            self._send(endpoint.poll(self._clock()))
            if endpoint.state is RegistrationState.FAILED:
                self._raise_last("keep-alive")
            if endpoint.state is not RegistrationState.REGISTERED:
                return
            deadline = endpoint.next_deadline()
            wait = until - loop.time()
            if deadline is not None:
                wait = min(wait, max(0.0, deadline - self._clock()))
            await self._sleep(max(wait, 0.001))

    async def admit(self, **call: Any) -> dict[str, Any]:
        """ARQ (keywords of :meth:`RasEndpoint.admit`); returns the ACF body."""
        endpoint = self._need_endpoint()
        before = len(endpoint.events)
        self._send(endpoint.admit(self._clock(), **call))
        await self._settle(lambda: len(endpoint.events) > before)
        if endpoint.admitted is None:
            self._raise_last("admission")
        assert endpoint.admitted is not None
        return endpoint.admitted

    async def disengage(self, **call: Any) -> None:
        endpoint = self._need_endpoint()
        before = len(endpoint.events)
        self._send(endpoint.disengage(self._clock(), **call))
        await self._settle(lambda: len(endpoint.events) > before)
        if endpoint.events[-1].kind != "disengaged":
            self._raise_last("disengage")

    # -- internals -----------------------------------------------------------------------------

    def _need_endpoint(self) -> RasEndpoint:
        if self.endpoint is None or self._transport is None:
            raise RuntimeError("RasClient is not open")
        return self.endpoint

    def _send(self, datagrams: list[bytes]) -> None:
        assert self._transport is not None
        for data in datagrams:
            self._transport.sendto(data)

    def _datagram(self, data: bytes) -> None:
        if self.endpoint is None:
            return
        try:
            self._send(self.endpoint.receive(data, self._clock()))
        except PerError as exc:
            log.warning("RAS: %s", exc)
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _settle(self, done: Callable[[], bool]) -> None:
        endpoint = self._need_endpoint()
        while not done():
            if self._error is not None:
                error, self._error = self._error, None
                raise H323ConnectionError(f"gatekeeper {self.gatekeeper[0]}: {error}")
            self._send(endpoint.poll(self._clock()))
            if done():
                return
            deadline = endpoint.next_deadline()
            if deadline is None:
                return
            await self._sleep(max(0.001, deadline - self._clock()))

    def _raise_last(self, what: str) -> None:
        last = self.events[-1] if self.events else None
        if last is not None and last.kind == "rejected":
            name, _, reason = last.detail.partition(": ")
            raise RasRejected(name, reason)
        detail = last.detail if last is not None else "no answer"
        raise H323Timeout(f"{what} with {self.gatekeeper[0]}:{self.gatekeeper[1]} failed: {detail}")
