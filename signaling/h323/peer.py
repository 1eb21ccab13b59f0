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
from signaling.h323.h245 import summarize
from signaling.h323.q931 import MessageType
from signaling.h323.rtp import RTCP_INTERVAL, RtpAudio, split_address
from signaling.h323.transport import Inbox, SignalChannel
from signaling.h323.videolink import CallVideo

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
    h245_tunnelling: bool = False  # the caller offered the tunnel
    h245_separate: bool = False  # H.245 ran on a connection the caller opened to us
    h245_received: list[str] = field(default_factory=list)  # on that connection
    h245_sent: list[str] = field(default_factory=list)
    fast_start: int = 0
    fast_start_codec: str | None = None
    h245_channel_codec: str | None = None
    connected: bool = False
    released_cause: int | None = None
    error: str | None = None
    media: dict[str, Any] | None = None  # RTP both ways on the fastStart channels
    video: dict[str, Any] | None = None  # H.264 both ways (media.video.VideoStats fields)


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
    RTCP runs on the port above the RTP port, a report every ``rtcp_interval`` seconds.
    With ``video`` the peer offers H.264 in its TerminalCapabilitySet, accepts the caller's
    H.264 channel and opens its own back, sending a test pattern (:attr:`PeerCall.video`).
    A caller that does not tunnel H.245, or every caller with ``tunnelling=False`` (the tunnel
    refused), gets Connect at once with an ``h245Address`` where the peer listens (``h245_port``,
    0 for a free port) for the H.245 connection the caller opens; capabilities, master/slave and
    the audio channels then run there (:attr:`PeerCall.h245_received`).
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
        tunnelling: bool = True,
        h245_port: int = 0,
        rtcp_interval: float = RTCP_INTERVAL,
        video: bool = False,
        on_call_end: Callable[[PeerCall], None] | None = None,
    ) -> None:
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)} (got {answer!r})")
        if (answer == "forward") != (forward_to is not None):
            raise ValueError("answer 'forward' goes with forward_to, and only with it")
        self.forward_to = forward_to
        self.rtp_port = rtp_port
        self.fast_start = fast_start
        self.tunnelling = tunnelling
        self.h245_port = h245_port
        self.rtcp_interval = rtcp_interval
        self.video = video
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
        leg = _PeerLeg(self, channel, record)
        try:
            await leg.run()
        except asyncio.CancelledError:
            record.error = "peer shut down"
        except Exception as exc:  # one bad call must not take the server down
            record.error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("h323 peer: call from %s", record.remote)
        finally:
            await leg.close()
            if leg.audio.codec is not None:
                record.media = leg.audio.report()
            if leg.video is not None:
                record.video = leg.video.report()
            if self.on_call_end is not None:
                self.on_call_end(record)
            if task is not None:
                self._tasks.discard(task)


class _PeerLeg:
    """One call at the peer: the signalling channel, the separate H.245 listener and link (when
    the call is not tunnelled), the RTP audio, and the state machine between them."""

    def __init__(self, peer: H323Peer, channel: SignalChannel, record: PeerCall) -> None:
        self.peer = peer
        self.channel = channel
        self.record = record
        self.audio = RtpAudio(channel.local_address[0], peer.rtp_port, peer.rtcp_interval)
        self.inbox = Inbox()
        self.call: IncomingCall | None = None
        self.h245_server: asyncio.Server | None = None
        self.h245: SignalChannel | None = None
        self.video: CallVideo | None = None

    async def close(self) -> None:
        """Everything closed, even when the peer's shutdown cancels this half-way."""
        if self.h245_server is not None:
            self.h245_server.close()
        try:
            await self.audio.close()
            if self.video is not None:  # after the audio: stopping it takes a while
                await self.video.close()
        finally:
            try:
                await self.inbox.close()
            finally:
                try:
                    if self.h245 is not None:
                        await self.h245.close()
                finally:
                    await self.channel.close()

    async def run(self) -> None:
        self.inbox.add("q931", self.channel)
        peer, channel, record = self.peer, self.channel, self.record
        loop = asyncio.get_running_loop()
        hangup_at: float | None = None
        while True:
            call = self.call
            wait = peer.read_timeout
            if hangup_at is not None:
                wait = hangup_at - loop.time()
            try:
                if wait <= 0:
                    raise H323Timeout("hang-up time")
                source, item = await self.inbox.next(wait)
                if source == "h245":
                    await self._h245_arrival(item)
                    continue
                if isinstance(item, Exception):
                    raise item
                message = CallMessage.parse(item)
            except H323Timeout as exc:
                if call is not None and hangup_at is not None and loop.time() >= hangup_at:
                    await self._release(NORMAL_CLEARING)
                    return
                record.error = str(exc)
                log.warning("h323 peer: %s from %s", exc, record.remote)
                if call is not None:
                    await self._release(TIMER_EXPIRY)
                return
            except (H323DecodeError, H323ConnectionError) as exc:
                if not isinstance(exc, H323ConnectionError):
                    record.error = str(exc)
                    log.warning("h323 peer: %s from %s", exc, record.remote)
                    if call is not None:
                        await self._release(INVALID_MESSAGE)
                return
            record.received.append(message.name)
            if call is None:
                if message.q931.message_type != MessageType.SETUP:
                    record.error = f"expected Setup, got {message.name}"
                    return
                call = self.call = await self._answer(message)
            replies, events = call.receive(message)
            record.fast_start_codec = call.fast_start_codec
            if call.fast_start_codec and call.fast_start_remote:
                rtcp = call.fast_start_remote_rtcp
                self.audio.start(call.fast_start_remote, call.fast_start_codec, rtcp)
            for reply in replies:
                if reply.q931.message_type == MessageType.CONNECT:
                    await asyncio.sleep(peer.ring)  # Alerting went out: let it ring
                    if peer.hangup_after is not None:
                        hangup_at = loop.time() + peer.ring + peer.hangup_after
                await _send(channel, reply, record)
                if reply.q931.message_type == MessageType.RELEASE_COMPLETE:
                    return
            self._events(events)
            await self._flush_h245()
            if call.state is CallState.RELEASED:
                return

    async def _answer(self, message: CallMessage) -> IncomingCall:
        """The call for this Setup; binds RTP, and an H.245 listener when not tunnelled."""
        peer, record = self.peer, self.record
        host = self.channel.local_address[0]
        uu = message.uu
        tunnelled = uu is not None and bool(uu.h245_tunnelling) and peer.tunnelling
        media_address = h245_address = video_address = None
        if peer.answer == "connect":
            await self.audio.open()
            media_address = (host, self.audio.port)
            if peer.video:
                self.video = await CallVideo(host).open()
                video_address = (host, self.video.port)
            if not tunnelled:
                self.h245_server = await asyncio.start_server(
                    self._h245_accept, host, peer.h245_port
                )
                h245_address = (host, int(self.h245_server.sockets[0].getsockname()[1]))
        call = IncomingCall.from_setup(
            message,
            answer=peer.answer,
            cause=peer.cause,
            forward_to=peer.forward_to,
            media_address=media_address,
            accept_fast_start=peer.fast_start,
            accept_tunnelling=peer.tunnelling,
            h245_address=h245_address,
            video_address=video_address,
            random_number=secrets.randbelow(1 << 24),
        )
        if uu is not None:
            record.destination = uu.aliases()
            record.h245_tunnelling = bool(uu.h245_tunnelling)
            record.fast_start = len(uu.fast_start)
        if message.q931.called_number is not None:
            record.called_digits = message.q931.called_number.digits
        return call

    async def _h245_accept(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """The caller opened the separate H.245 connection (one per call; more are closed)."""
        if self.h245 is not None or self.call is None:
            writer.close()
            return
        self.h245 = SignalChannel(reader, writer)
        self.record.h245_separate = True
        self.inbox.add("h245", self.h245)
        self.call.h245_connected()
        await self._flush_h245()

    async def _h245_arrival(self, item: bytes | H323ConnectionError | H323DecodeError) -> None:
        if isinstance(item, Exception) or self.call is None:
            if self.h245 is not None:
                await self.h245.close()
            return
        self.record.h245_received.append(_h245_name(item))
        self._events(self.call.h245_receive(item))
        await self._flush_h245()

    def _events(self, events: list[CallEvent]) -> None:
        for event in events:
            _note(event, self.record)
            if event.kind == "video-channel" and self.video is not None:
                self.video.send_to(event.detail, event.rtcp)
            if event.kind == "h245-channel" and event.reason:
                rtp, rtcp = split_address(event.detail), split_address(event.rtcp)
                assert rtp is not None
                self.audio.start(rtp, event.reason, rtcp)
                self.record.h245_channel_codec = event.reason

    async def _flush_h245(self) -> None:
        if self.call is None or self.h245 is None:
            return
        for data in self.call.take_h245():
            try:
                await self.h245.send_payload(data, "H.245")
            except H323ConnectionError:
                return
            self.record.h245_sent.append(_h245_name(data))

    async def _release(self, cause: int) -> None:
        assert self.call is not None
        release = self.call.release(cause)
        await self._flush_h245()
        await _send(self.channel, release, self.record)


def _h245_name(data: bytes) -> str:
    try:
        return summarize(data).name
    except H323DecodeError:
        return "undecodable"


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
