"""asyncio edge for call signalling and H.245: TPKT-framed messages on TCP, every read timed.

:class:`SignalChannel` is one connection (H.225.0 call signalling, or a separate H.245 one);
:class:`Inbox` merges several into one stream of ``(name, payload or error)`` in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import time

from signaling.h323 import tpkt
from signaling.h323.errors import H323ConnectionError, H323DecodeError, H323Timeout
from signaling.h323.h225 import CallMessage

__all__ = ["Arrival", "Inbox", "SignalChannel", "open_channel"]

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
        await self.send_payload(bytes(message), message.name)

    async def send_payload(self, payload: bytes, name: str = "a message") -> None:
        """One TPKT frame around ``payload`` (an H.245 message on its own connection)."""
        if self._closed:
            raise H323ConnectionError("the connection is closed")
        try:
            self._writer.write(tpkt.encode(payload))
            await self._writer.drain()
        except OSError as exc:
            raise H323ConnectionError(f"sending {name} failed: {exc}") from exc

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


Arrival = tuple[str, bytes | H323ConnectionError | H323DecodeError]


class Inbox:
    """What arrives on several connections, one queue: :meth:`add` a channel under a name, then
    :meth:`next` gives ``(name, payload)`` or ``(name, error)``; after an error that channel is
    read no more. :meth:`close` stops the readers (the channels are closed by their owners)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Arrival] = asyncio.Queue()
        self._readers: dict[str, asyncio.Task[None]] = {}

    def add(self, name: str, channel: SignalChannel) -> None:
        if name in self._readers:
            raise ValueError(f"a channel named {name!r} is already read")
        loop = asyncio.get_running_loop()
        self._readers[name] = loop.create_task(self._read(name, channel))

    async def _read(self, name: str, channel: SignalChannel) -> None:
        while True:
            try:
                payload = await channel.receive_payload(3600.0)
            except H323Timeout:
                continue
            except (H323ConnectionError, H323DecodeError) as exc:
                await self._queue.put((name, exc))
                return
            await self._queue.put((name, payload))

    async def next(self, timeout: float) -> Arrival:
        """The next arrival; :class:`H323Timeout` when none comes within ``timeout`` s."""
        try:
            return await asyncio.wait_for(self._queue.get(), max(timeout, 0.0))
        except TimeoutError as exc:
            raise H323Timeout(f"no message within {timeout:g} s") from exc

    async def close(self) -> None:
        readers = list(self._readers.values())
        self._readers.clear()
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
