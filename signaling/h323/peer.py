"""The project's own H.323 answering peer: Alerting then Connect, or Release Complete with a cause.

It listens on loopback for tests, the CLI (``crcgw h323-peer``) and the embedded stand-in meeting.
Each connection is one call; malformed input ends that connection with a logged one-line reason.

>>> import asyncio
>>> async def demo() -> bool:
...     async with H323Peer(answer="busy") as peer:
...         from signaling.h323.dial import dial
...         result = await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5)
...     return result.cause == 17
>>> asyncio.run(demo())
True
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signaling.h323._service import AsyncService
from signaling.h323.call import Answer, CallEvent, CallState, IncomingCall
from signaling.h323.cause import INVALID_MESSAGE, NORMAL_CLEARING, TIMER_EXPIRY
from signaling.h323.errors import H323ConnectionError, H323DecodeError, H323Timeout
from signaling.h323.h225 import Alias, CallMessage
from signaling.h323.q931 import MessageType
from signaling.h323.rtp import RtpAudio
from signaling.h323.transport import SignalChannel

__all__ = ["ANSWERS", "H323Peer", "PeerCall"]

log = logging.getLogger(__name__)
ANSWERS: tuple[Answer, ...] = ("connect", "busy", "reject", "forward")


@dataclass(slots=True)
class PeerCall:
    """What the peer saw of one call (for tests and the CLI's log)."""

    remote: str
    received: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    # the dialled aliases carry the passcode and host key: kept out of repr()
    destination: list[Alias] = field(default_factory=list, repr=False)
    called_digits: str | None = field(default=None, repr=False)
    h245_tunnelling: bool = False
    fast_start: int = 0
    fast_start_codec: str | None = None
    h245_channel_codec: str | None = None
    connected: bool = False
    released_cause: int | None = None
    error: str | None = None
    media: dict[str, Any] | None = None  # RTP both ways on the fastStart channels


class H323Peer(AsyncService):
    """An asyncio TCP server answering H.225.0 calls as ``answer`` says.

    ``port=0`` picks a free port (read :attr:`port` after :meth:`start`). ``read_timeout`` bounds
    every wait for the caller's next message; ``cause`` overrides the Release Complete cause of
    ``busy`` (17) and ``reject`` (21). ``ring`` delays Connect after Alerting; ``hangup_after``
    makes the peer clear a connected call itself (Release Complete, cause 16) after that long;
    ``answer="forward"`` redirects every caller to ``forward_to`` (Facility callForwarded).
    A fastStart offer, or a tunnelled H.245 OpenLogicalChannel (answered with the peer's own
    channel back), is answered with G.711 at an RTP socket the peer binds for the call
    (``rtp_port``, 0 for a free port): it sends 20 ms packets of silence to the caller's receive
    channel and measures what arrives (:attr:`PeerCall.media`, from :meth:`RtpAudio.report`).
    ``fast_start=False`` ignores fastStart offers (the caller must open channels by H.245).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        answer: Answer = "connect",
        cause: int | None = None,
        read_timeout: float = 30.0,
        ring: float = 0.0,
        hangup_after: float | None = None,
        forward_to: tuple[str, int] | None = None,
        rtp_port: int = 0,
        fast_start: bool = True,
        on_call_end: Callable[[PeerCall], None] | None = None,
    ) -> None:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)} (got {answer!r})")
        if (answer == "forward") != (forward_to is not None):
            raise ValueError("answer 'forward' goes with forward_to, and only with it")
        self.forward_to = forward_to
        self.rtp_port = rtp_port
        self.fast_start = fast_start
        self.host = host
        self.answer: Answer = answer
        self.cause = cause
        self.read_timeout = read_timeout
        self.ring = ring
        self.hangup_after = hangup_after
        self.on_call_end = on_call_end
        self.calls: list[PeerCall] = []
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the peer is not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> H323Peer:
        self._server = await asyncio.start_server(self._serve, self.host, self._requested_port)
        return self

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        channel = SignalChannel(reader, writer)
        host, port = channel.remote_address
        record = PeerCall(f"{host}:{port}")
        self.calls.append(record)
        audio = RtpAudio(channel.local_address[0], self.rtp_port)
        try:
            await self._run(channel, record, audio)
        except asyncio.CancelledError:
            record.error = "peer shut down"
        except Exception as exc:  # one bad call must not take the server down
            record.error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("h323 peer: call from %s", record.remote)
        finally:
            await channel.close()
            await audio.close()
            if audio.codec is not None:
                record.media = audio.report()
            if self.on_call_end is not None:
                self.on_call_end(record)
            if task is not None:
                self._tasks.discard(task)

    async def _run(self, channel: SignalChannel, record: PeerCall, audio: RtpAudio) -> None:
        call: IncomingCall | None = None
        loop = asyncio.get_running_loop()
        hangup_at: float | None = None
        while True:
            wait = self.read_timeout
            if hangup_at is not None:
                wait = hangup_at - loop.time()
            try:
                if wait <= 0:
                    raise H323Timeout("hang-up time")
                message = await channel.receive(wait)
            except H323Timeout as exc:
                if call is not None and hangup_at is not None and loop.time() >= hangup_at:
                    await _send(channel, call.release(NORMAL_CLEARING), record)
                    return
                record.error = str(exc)
                log.warning("h323 peer: %s from %s", exc, record.remote)
                if call is not None:
                    await _send(channel, call.release(TIMER_EXPIRY), record)
                return
            except (H323DecodeError, H323ConnectionError) as exc:
                if not isinstance(exc, H323ConnectionError):
                    record.error = str(exc)
                    log.warning("h323 peer: %s from %s", exc, record.remote)
                    if call is not None:
                        await _send(channel, call.release(INVALID_MESSAGE), record)
                return
            record.received.append(message.name)
            if call is None:
                if message.q931.message_type != MessageType.SETUP:
                    record.error = f"expected Setup, got {message.name}"
                    return
                media_address = None
                uu = message.uu
                offers_media = uu is not None and (bool(uu.fast_start) or bool(uu.h245_tunnelling))
                if offers_media and self.answer == "connect":
                    await audio.open()
                    media_address = (channel.local_address[0], audio.port)
                call = IncomingCall.from_setup(
                    message,
                    answer=self.answer,
                    cause=self.cause,
                    forward_to=self.forward_to,
                    media_address=media_address,
                    accept_fast_start=self.fast_start,
                    random_number=secrets.randbelow(1 << 24),
                )
                if message.uu is not None:
                    record.destination = message.uu.aliases()
                    record.h245_tunnelling = bool(message.uu.h245_tunnelling)
                    record.fast_start = len(message.uu.fast_start)
                if message.q931.called_number is not None:
                    record.called_digits = message.q931.called_number.digits
            replies, events = call.receive(message)
            record.fast_start_codec = call.fast_start_codec
            if call.fast_start_codec and call.fast_start_remote:
                audio.start(call.fast_start_remote, call.fast_start_codec)
            for reply in replies:
                if reply.q931.message_type == MessageType.CONNECT:
                    await asyncio.sleep(self.ring)  # Alerting went out: let it ring
                    if self.hangup_after is not None:
                        hangup_at = loop.time() + self.ring + self.hangup_after
                await _send(channel, reply, record)
                if reply.q931.message_type == MessageType.RELEASE_COMPLETE:
                    return
            for event in events:
                _note(event, record)
                if event.kind == "h245-channel" and event.reason:
                    host, _, rtp_port = event.detail.rpartition(":")
                    audio.start((host, int(rtp_port)), event.reason)
                    record.h245_channel_codec = event.reason
            if call.state is CallState.RELEASED:
                return


def _note(event: CallEvent, record: PeerCall) -> None:
    if event.kind == "released":
        record.released_cause = event.cause if event.cause is not None else 0


async def _send(channel: SignalChannel, message: CallMessage, record: PeerCall) -> None:
    try:
        await channel.send(message)
    except H323ConnectionError as exc:
        record.error = str(exc)
        return
    record.sent.append(message.name)
    if message.q931.message_type == MessageType.CONNECT:
        record.connected = True
