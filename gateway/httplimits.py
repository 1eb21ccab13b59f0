"""Connection limits for the control API: uvicorn's HTTP/1.1 protocol with a cap on open
connections and a deadline for every request to arrive.

uvicorn by itself closes a connection only when it has been idle ``timeout_keep_alive`` seconds
*after* a response; a client that connects and says nothing, or sends its headers a byte at a
time (slowloris), holds a connection and a file descriptor for good. :func:`guarded_protocol`
builds a protocol class that

- gives every request ``request_timeout`` seconds from its first byte (or from the connection's
  opening) to arrive whole, head and body, then closes the connection;
- keeps at most ``max_connections`` open: a new connection beyond the cap closes the oldest
  connection that never completed a request (what a flood of idle or slow clients holds), else
  the oldest one idle between requests, or, when every connection is serving a request, is
  itself closed at once. A request
  in progress, such as a running ``POST /calls``, is never cut, and ``/healthz`` still gets a
  connection during a flood of idle ones.

Header size is bounded by uvicorn's ``h11_max_incomplete_event_size`` and concurrently running
requests by its ``limit_concurrency`` (503 beyond), both set by :class:`gateway.http_api.
HttpServer`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["guarded_protocol"]

log = logging.getLogger(__name__)


def guarded_protocol(max_connections: int, request_timeout: float) -> type[H11Protocol]:
    """An :class:`H11Protocol` subclass with the limits above (one class per server: the
    connection table is shared by its instances)."""
    opened: OrderedDict[_Guarded, None] = OrderedDict()
    warned = [0.0]

    class _Guarded(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _spoke = False  # a whole request has arrived on this connection

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            opened[self] = None
            if len(opened) > max_connections and not self._make_room():
                self._say_once("connection refused: %d connections open", max_connections)
                transport.abort()
                return
            self._arm()

        def _make_room(self) -> bool:
            # First a connection that never completed a request (what a flood holds), then
            # one idle between requests; never one serving a request.
            for spoke in (False, True):
                for other in opened:
                    if other is not self and other._spoke == spoke and not other._serving():
                        other._close("closed for a new connection at the cap")
                        return True
            return False

        def _serving(self) -> bool:
            """A request has arrived whole and its response is not finished."""
            return self.cycle is not None and not self.cycle.response_complete and (
                self.conn.their_state is not h11.IDLE
                and self.conn.their_state is not h11.SEND_BODY
            )

        def data_received(self, data: bytes) -> None:
            if self._deadline is None:
                self._arm()  # the first byte of a new request
            super().data_received(data)
            if self.conn.their_state not in (h11.IDLE, h11.SEND_BODY):
                self._spoke = True
                self._disarm()  # the request is in: the application takes it from here

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            opened.pop(self, None)
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._deadline = self.loop.call_later(request_timeout, self._close,
                                                  "request not received in time")

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _close(self, why: str) -> None:
            self._disarm()
            opened.pop(self, None)
            if not self.transport.is_closing():
                log.debug("control API: %s (%s)", why, self.client)
                self.transport.abort()

        def _say_once(self, message: str, *args: Any) -> None:
            now = time.monotonic()
            if now - warned[0] >= 60.0:
                warned[0] = now
                log.warning("control API: " + message + " (said once a minute)", *args)

    return _Guarded
