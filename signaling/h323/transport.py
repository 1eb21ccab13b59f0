"""asyncio edge for call signalling: TPKT-framed messages on a TCP stream, every read timed."""

from __future__ import annotations

import asyncio
import logging
import time

from signaling.h323 import tpkt
from signaling.h323.errors import H323ConnectionError, H323Timeout
from signaling.h323.h225 import CallMessage

__all__ = ["SignalChannel", "open_channel"]

log = logging.getLogger(__name__)
READ_SIZE = 4096


class SignalChannel:
    """One H.225.0 call-signalling connection: :meth:`send` and :meth:`receive` whole messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._decoder = tpkt.TpktDecoder()
        self._ready: list[bytes] = []
        self._closed = False

    @property
    def local_address(self) -> tuple[str, int]:
        host, port = self._writer.get_extra_info("sockname")[:2]
        return str(host), int(port)

    @property
    def remote_address(self) -> tuple[str, int]:
        host, port = self._writer.get_extra_info("peername")[:2]
        return str(host), int(port)

    async def send(self, message: CallMessage) -> None:
        if self._closed:
            raise H323ConnectionError("the signalling connection is closed")
        try:
            self._writer.write(tpkt.encode(bytes(message)))
            await self._writer.drain()
        except OSError as exc:
            raise H323ConnectionError(f"sending {message.name} failed: {exc}") from exc

    async def receive_payload(self, timeout: float) -> bytes:
        """The next TPKT payload; :class:`H323Timeout` when none arrives within ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not self._ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise H323Timeout(f"no message within {timeout:g} s")
            try:
                data = await asyncio.wait_for(self._reader.read(READ_SIZE), remaining)
            except TimeoutError as exc:
                raise H323Timeout(f"no message within {timeout:g} s") from exc
            except OSError as exc:
                raise H323ConnectionError(f"connection lost: {exc}") from exc
            if not data:
                self._decoder.close()  # raises TpktError for a frame cut short
                raise H323ConnectionError("the far end closed the connection")
            self._ready += self._decoder.feed(data)
        return self._ready.pop(0)

    async def receive(self, timeout: float) -> CallMessage:
        """The next message, decoded (Q.931 then PER); decode errors are ``ValueError``s."""
        return CallMessage.parse(await self.receive_payload(timeout))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.close()
        try:
            await asyncio.wait_for(self._writer.wait_closed(), 2.0)
        except (OSError, TimeoutError) as exc:
            log.debug("closing the signalling connection: %s", exc)


async def open_channel(host: str, port: int, timeout: float) -> SignalChannel:
    """Connect to ``host:port`` within ``timeout`` seconds."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except TimeoutError as exc:
        raise H323Timeout(f"TCP connect to {host}:{port} timed out after {timeout:g} s") from exc
    except OSError as exc:
        refused = isinstance(exc, ConnectionRefusedError)
        reason = "connection refused" if refused else (exc.strerror or str(exc))
        raise H323ConnectionError(f"cannot connect to {host}:{port}: {reason}") from exc
    return SignalChannel(reader, writer)
