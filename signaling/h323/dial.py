"""Dial a meeting over H.323: Setup to ``HOST[:PORT]##MID#PASS…``, report every message in time.

>>> import asyncio
>>> result = asyncio.run(dial("127.0.0.1:1##123456789", timeout=1))   # nothing listens on port 1
>>> result.connected, result.error.startswith("cannot connect")
(False, True)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from signaling.callevents import CallEvent as Happened
from signaling.callevents import EventKind, Sequencer, from_h323, h323_end
from signaling.dialstring import DialTarget, parse
from signaling.h323.call import CallEvent, CallState, OutgoingCall
from signaling.h323.cause import INVALID_MESSAGE, NORMAL_CLEARING, TIMER_EXPIRY
from signaling.h323.channels import LogicalChannels
from signaling.h323.dialresult import DialEvent, DialResult, apply_event, describe, h245_name
from signaling.h323.errors import H323ConnectionError, H323DecodeError, H323Timeout, RasRejected
from signaling.h323.faststart import fast_start_proposals
from signaling.h323.h225 import Alias, CallMessage, transport_from_value
from signaling.h323.h245 import G711_CODECS, H245Session
from signaling.h323.ras import RAS_PORT
from signaling.h323.ras_client import RasClient
from signaling.h323.rtp import RTCP_INTERVAL, RtpAudio, split_address
from signaling.h323.transport import Arrival, Inbox, SignalChannel, open_channel
from signaling.h323.video import VideoChannels
from signaling.h323.videolink import CallVideo

__all__ = ["DEFAULT_PORT", "DialEvent", "DialResult", "dial", "masked_user_part", "meeting_aliases"]

DEFAULT_PORT = 1720
MAX_FORWARDS = 3
AliasForm = Literal["dialledDigits", "h323-ID"]


def masked_user_part(target: DialTarget) -> str:
    """``MID#***#LAYOUT#***``: the dialled user part with the passcode and host key hidden."""
    hidden = target._replace(
        passcode="***" if target.passcode else None,
        host_key="***" if target.host_key else None,
    )
    return DialTarget.user_part(hidden)


def meeting_aliases(target: DialTarget, forms: tuple[AliasForm, ...]) -> list[Alias]:
    """The destination aliases for ``target``: its user part as dialledDigits and/or h323-ID.

    dialledDigits only carries ``0-9 # * ,``; an alphanumeric passcode leaves only the h323-ID.
    """
    user = target.user_part()
    aliases: list[Alias] = []
    for form in forms:
        if form == "dialledDigits":
            try:
                aliases.append(Alias.digits(user))
            except ValueError:
                continue
        else:
            aliases.append(Alias.h323_id(user))
    if not aliases:
        aliases.append(Alias.h323_id(user))
    return aliases


async def dial(
    target: DialTarget | str,
    *,
    port: int | None = None,
    timeout: float = 10.0,
    hold: float = 0.0,
    fast_start: bool = False,
    h245_channels: bool = False,
    h245_tunnelling: bool = True,
    rtcp_interval: float = RTCP_INTERVAL,
    video: bool = False,
    rtp_port: int = 0,
    alias_forms: tuple[AliasForm, ...] = ("dialledDigits", "h323-ID"),
    source_alias: str = "crcgw",
    setup_timeout: float = 60.0,
    gatekeeper: str | None = None,
    gatekeeper_port: int = RAS_PORT,
    clock: Callable[[], float] = time.monotonic,
    call_id: str = "h323",
    listener: Callable[[Happened], None] | None = None,
    stop: asyncio.Event | None = None,
) -> DialResult:
    """Place one H.323 call and hang it up; never raises for network or peer trouble.

    ``timeout`` bounds the TCP connect and each wait for the next message, ``setup_timeout`` the
    whole wait for Connect or Release Complete; ``hold`` keeps a connected call up that many
    seconds before Release Complete. With ``fast_start`` G.711 channels are proposed in the
    Setup at an RTP socket bound on ``rtp_port`` (0: a free port); when the far end accepts
    one, 20 ms RTP packets flow both ways until the call ends and ``DialResult.media`` holds
    what was sent and received (loss, jitter). With ``h245_channels`` the audio channels are
    opened by tunnelled H.245 OpenLogicalChannel once the capability exchange is done (with
    ``fast_start`` too: only when Connect arrives without a fastStart answer). H.245 runs in the
    H.225.0 tunnel unless ``h245_tunnelling`` is false or the far end refuses the tunnel: then on
    a separate TCP connection to the ``h245Address`` the far end gives. RTCP reports (SR/RR)
    go every ``rtcp_interval`` seconds to the signalled RTCP address; ``DialResult.media["rtcp"]``
    holds the round-trip time and the far end's view of our stream. With ``video`` our
    TerminalCapabilitySet offers H.264 (:mod:`signaling.h323.video`) and, when the far end's
    offers it too, an H.264 channel is opened by H.245 and a test pattern sent; the far end's
    H.264 channel is accepted; ``DialResult.video`` holds the stream's figures. With
    ``gatekeeper`` the call is gatekeeper-admitted: register ``source_alias`` (RRQ), ask
    admission (ARQ) and signal to the address the gatekeeper gives, then disengage (DRQ) and
    unregister (URQ). Bad dial strings raise
    :class:`~signaling.dialstring.DialStringError` (a ``ValueError``).

    ``listener`` is told the call's story in the gateway's call-event vocabulary
    (:mod:`signaling.callevents`, ids ``call_id``) as it happens, ending with one ``ENDED``
    whose cause says whether the far end released (received) or this side did (local).
    Setting ``stop`` hangs a connected call up (Release Complete, normal clearing) before its
    ``hold`` is over, or gives up a call not yet answered.
    """
    if isinstance(target, str):
        target = parse(target)
    if target.protocol != "h323" or not target.host:
        raise ValueError(f"not an H.323 dial string: {target.without_secrets()}")
    remote = (target.host, port or target.port or DEFAULT_PORT)
    run = _DialRun(
        target,
        DialResult(f"{target.host}##{masked_user_part(target)}", f"{remote[0]}:{remote[1]}"),
        clock,
        _Plan(
            timeout,
            hold,
            fast_start,
            setup_timeout,
            rtp_port,
            h245_channels,
            h245_tunnelling,
            rtcp_interval,
            video,
        ),
        _Story(call_id, listener, stop),
    )
    call = OutgoingCall(
        secrets.randbelow(0x7FFF) + 1,
        os.urandom(16),
        os.urandom(16),
        False,
        H245Session(secrets.randbelow(1 << 24)),
        destination=meeting_aliases(target, alias_forms),
        called_digits=target.user_part() if "dialledDigits" in alias_forms else None,
        source=[Alias.h323_id(source_alias)],
        tunnelling=h245_tunnelling,
    )
    run.result.call_reference = call.call_reference
    try:
        if gatekeeper is None:
            await run.call(call, remote)
        else:
            ras = RasClient(
                gatekeeper, call.source, gatekeeper_port=gatekeeper_port, timeout=min(timeout, 3.0)
            )
            async with ras:
                await run.admitted_call(ras, call, remote)
    except (RasRejected, H323Timeout, H323ConnectionError) as exc:
        run.result.error = f"gatekeeper: {exc}"
        run.note("info", "gatekeeper", str(exc))
    finally:
        run.ended()
    run.result.duration = clock() - run.start
    return run.result


class _Story:
    """Tells a dial's listener its events in the gateway's vocabulary (or nobody)."""

    def __init__(self, call_id: str, listener: Callable[[Happened], None] | None,
                 stop: asyncio.Event | None) -> None:
        self.call_id = call_id
        self.listener = listener
        self.stop = stop
        self.seq = Sequencer()
        self.released_here: int | None = None
        self.media_up = False

    def tell(self, event: Happened | None) -> None:
        if event is not None and self.listener is not None:
            self.listener(event)

    def h323(self, event: CallEvent) -> None:
        now = time.monotonic()
        said = from_h323(self.call_id, event, now, self.seq.next(now))
        if said is not None and said.kind is EventKind.MEDIA_UP:
            if self.media_up:
                return  # a second channel (the far end's, by OLC): media is up already
            self.media_up = True
        if said is not None and said.kind is not EventKind.ENDED:
            self.tell(said)  # the end is told once, by ended()


@dataclass(frozen=True, slots=True)
class _Plan:
    timeout: float
    hold: float
    fast_start: bool
    setup_timeout: float
    rtp_port: int = 0
    h245_channels: bool = False
    h245_tunnelling: bool = True
    rtcp_interval: float = RTCP_INTERVAL
    video: bool = False


class _DialRun:
    """One dial's bookkeeping: the result being filled and the clock its events use."""

    def __init__(
        self, target: DialTarget, result: DialResult, clock: Callable[[], float], plan: _Plan,
        story: _Story | None = None,
    ) -> None:
        self.story = story or _Story("h323", None, None)
        self.target = target
        self.result = result
        self.clock = clock
        self.plan = plan
        self.timeout = plan.timeout
        self.start = clock()
        self.audio: RtpAudio | None = None
        self.video: CallVideo | None = None
        self.h245: SignalChannel | None = None  # the separate H.245 connection
        self.h245_lost = False

    def ended(self) -> None:
        """Tell the listener how the call ended (media first, if it was up)."""
        story, result = self.story, self.result
        now = time.monotonic()
        if story.media_up:
            story.tell(Happened(story.call_id, EventKind.MEDIA_DOWN, now, story.seq.next(now),
                                "h323"))
        story.tell(h323_end(story.call_id, now, story.seq.next(now), connected=result.connected,
                            cause=result.cause, reason=result.reason, error=result.error,
                            released_here=story.released_here))

    def note(
        self, direction: Literal["sent", "received", "info"], message: str, detail: str = ""
    ) -> None:
        self.result.events.append(DialEvent(self.clock() - self.start, direction, message, detail))

    async def admitted_call(
        self,
        ras: RasClient,
        call: OutgoingCall,
        remote: tuple[str, int],
    ) -> None:
        endpoint = await ras.register()
        self.note(
            "info",
            "RAS registered",
            f"endpoint {endpoint.endpoint_id} with "
            f"{endpoint.gatekeeper_id or ras.gatekeeper[0]}, ttl {endpoint.granted_ttl} s",
        )
        identifiers = {
            "call_reference": call.call_reference,
            "conference_id": call.conference_id,
            "call_identifier": call.call_identifier,
        }
        confirm = await ras.admit(
            destination=call.destination, destination_address=remote, **identifiers
        )
        address = transport_from_value(confirm["destCallSignalAddress"]) or remote
        self.note(
            "info",
            "RAS admitted",
            f"signal to {address[0]}:{address[1]}, bandwidth {confirm['bandWidth']}",
        )
        self.result.remote = f"{address[0]}:{address[1]}"
        try:
            await self.call(call, address)
        finally:
            await ras.disengage(**identifiers)
            self.note("info", "RAS disengaged")

    async def call(
        self,
        call: OutgoingCall,
        remote: tuple[str, int],
    ) -> None:
        """The call, following Facility callForwarded redirections up to MAX_FORWARDS times."""
        for hop in range(MAX_FORWARDS + 1):
            await self._call_once(call, remote)
            if call.forward_to is None or self.result.connected:
                return
            if hop == MAX_FORWARDS:
                self.result.error = f"forwarded more than {MAX_FORWARDS} times"
                return
            remote = call.forward_to
            self.note("info", "forwarded", f"to {remote[0]}:{remote[1]}")
            self.result.remote = f"{remote[0]}:{remote[1]}"
            self.result.cause = self.result.reason = self.result.error = None
            call = replace(
                call,
                call_reference=secrets.randbelow(0x7FFF) + 1,
                conference_id=os.urandom(16),
                call_identifier=os.urandom(16),
                h245=H245Session(secrets.randbelow(1 << 24)),
                state=CallState.IDLE,
                h245_reported=False,
                tunnelling=self.plan.h245_tunnelling,
                h245_outbox=[],
                h245_link_up=False,
                h245_remote=None,
                destination=call.forward_aliases or call.destination,
                forward_to=None,
                forward_aliases=[],
            )
            self.result.call_reference = call.call_reference

    async def _call_once(
        self,
        call: OutgoingCall,
        remote: tuple[str, int],
    ) -> None:
        try:
            channel = await open_channel(remote[0], remote[1], self.timeout)
        except (H323Timeout, H323ConnectionError) as exc:
            self.result.error = str(exc)
            return
        local = channel.local_address
        self.note("info", "TCP connected", f"{local[0]}:{local[1]} -> {self.result.remote}")
        call.destination_address = channel.remote_address
        call.source_address = local
        audio: RtpAudio | None = None
        if self.plan.fast_start or self.plan.h245_channels:
            audio = RtpAudio(local[0], self.plan.rtp_port, self.plan.rtcp_interval)
            await audio.open()
        if audio is not None and self.plan.fast_start:
            call.fast_start = fast_start_proposals(local[0], audio.port)
        if audio is not None and call.h245 is not None and self.plan.h245_channels:
            # with fastStart too, the channels open only if Connect comes without its answer
            initiate = not self.plan.fast_start
            call.h245.channels = LogicalChannels((local[0], audio.port), G711_CODECS, initiate)
        self.audio = audio
        if self.plan.video and call.h245 is not None:
            self.video = await CallVideo(local[0]).open()
            call.h245.video = VideoChannels((local[0], self.video.port))
        try:
            await self._signal(channel, call)
        finally:
            await channel.close()
            if audio is not None:
                await audio.close()
                if self.result.media is not None:
                    self.result.media.update(audio.report(), local_rtp=f"{local[0]}:{audio.port}")
                    m = self.result.media
                    self.note(
                        "info",
                        "RTP",
                        f"{m['codec']}: tx {m['tx_packets']}, "
                        f"rx {m['rx_packets']} packets, lost {m['lost']}",
                    )
            if self.video is not None:  # after the audio: stopping it takes a while
                await self.video.close()
                self.result.video = self.video.report()
                self.video = None
                channels = call.h245.video if call.h245 is not None else None
                if self.result.video is not None and channels is not None:
                    # the far end's channel's dynamicRTPPayloadType (only ours, 109, is decoded)
                    self.result.video["receive_payload_type"] = channels.receive_payload_type
                v = self.result.video or {}
                sent, decoded = v.get("frames_sent"), v.get("decoded_frames")
                self.note("info", "video", f"H264: sent {sent}, decoded {decoded} frames")

    async def _signal(self, channel: SignalChannel, call: OutgoingCall) -> None:
        inbox = Inbox()
        inbox.add("q931", channel)
        try:
            await self._signal_loop(channel, call, inbox)
        finally:
            await inbox.close()
            if self.h245 is not None:
                await self.h245.close()
                self.h245 = None

    async def _signal_loop(self, channel: SignalChannel, call: OutgoingCall, inbox: Inbox) -> None:
        hold, setup_timeout = self.plan.hold, self.plan.setup_timeout
        setup = call.setup()
        forms = ", ".join(alias.kind for alias in call.destination)
        extra = f"; fastStart {len(call.fast_start)} channels" if call.fast_start else ""
        tunnel = "h245Tunnelling" if call.tunnelling else "no h245Tunnelling"
        await channel.send(setup)
        self.note("sent", "Setup", f"to {masked_user_part(self.target)} ({forms}); {tunnel}{extra}")
        loop = asyncio.get_running_loop()
        give_up = loop.time() + setup_timeout
        hold_until: float | None = None
        stop = self.story.stop
        while call.state is not CallState.RELEASED:
            if hold_until is None:
                wait = min(self.timeout, give_up - loop.time())
            else:
                wait = min(hold_until - loop.time(), 3600.0)
            if stop is not None and stop.is_set():
                if not self.result.connected:
                    self.result.error = "hung up here before the far end answered"
                await self._release(channel, call, NORMAL_CLEARING)
                return
            if wait <= 0:
                if hold_until is None:
                    self.result.error = f"not connected within {setup_timeout:g} s"
                    self.note("info", "timeout", self.result.error)
                    await self._release(channel, call, TIMER_EXPIRY)
                else:
                    await self._release(channel, call, NORMAL_CLEARING)
                return
            try:
                arrival = await self._next(inbox, wait)
                if arrival is None:
                    continue  # stop was set: released at the top of the loop
                source, item = arrival
                if source == "h245":
                    await self._h245_arrival(call, item)
                    continue
                if isinstance(item, Exception):
                    raise item
                message = CallMessage.parse(item)
            except H323Timeout:
                if hold_until is not None:
                    continue
                if loop.time() >= give_up:
                    self.result.error = f"not connected within {setup_timeout:g} s"
                else:
                    state = call.state.value
                    self.result.error = f"no answer within {self.timeout:g} s in state {state}"
                self.note("info", "timeout", self.result.error)
                await self._release(channel, call, TIMER_EXPIRY)
                return
            except H323DecodeError as exc:
                self.result.error = f"malformed message from the far end: {exc}"
                self.note("info", "malformed", str(exc))
                await self._release(channel, call, INVALID_MESSAGE)
                return
            except H323ConnectionError as exc:
                self.result.error = None if self.result.connected else str(exc)
                self.note("info", "closed", str(exc))
                return
            self.note("received", message.name, describe(message))
            replies, events = call.receive(message)
            await self._events(call, events, inbox)
            for reply in replies:
                await channel.send(reply)
                self.note("sent", reply.name, describe(reply))
            await self._flush_h245(call)
            if self.result.connected and hold_until is None:
                hold_until = loop.time() + hold

    async def _events(
        self, call: OutgoingCall, events: list[CallEvent], inbox: Inbox | None
    ) -> None:
        for event in events:
            apply_event(event, self.result)
            self.story.h323(event)
            started = event.kind in ("fast-start", "h245-channel")
            rtp = split_address(event.detail) if started else None
            if rtp is not None and self.audio is not None and event.reason:
                self.audio.start(rtp, event.reason, split_address(event.rtcp))
                self.note("info", "RTP started", f"{event.reason} to {event.detail}")
            elif event.kind == "video-channel" and self.video is not None:
                self.video.send_to(event.detail, event.rtcp)
                self.note("info", "video started", f"H264 to {event.detail}")
            elif event.kind == "h245-address" and self.h245 is None and inbox is not None:
                host, _, h245_port = event.detail.rpartition(":")
                try:
                    self.h245 = await open_channel(host, int(h245_port), self.timeout)
                except (H323Timeout, H323ConnectionError) as exc:
                    self.note("info", "H.245 connection failed", str(exc))
                    continue
                local = self.h245.local_address
                self.note("info", "H.245 connected", f"{local[0]}:{local[1]} -> {event.detail}")
                inbox.add("h245", self.h245)
                call.h245_connected()
                self.result.h245_separate = True

    async def _h245_arrival(
        self, call: OutgoingCall, item: bytes | H323ConnectionError | H323DecodeError
    ) -> None:
        """One message (or the end) of the separate H.245 connection."""
        if isinstance(item, Exception):
            await self._h245_lost(str(item))
            return
        self.note("received", f"H.245 {h245_name(item)}")
        await self._events(call, call.h245_receive(item), None)
        await self._flush_h245(call)

    async def _flush_h245(self, call: OutgoingCall) -> None:
        """Send what the call queued for the separate H.245 connection."""
        for data in call.take_h245():
            if self.h245 is None or self.h245_lost:
                return  # nowhere to send: dropped
            try:
                await self.h245.send_payload(data, "H.245")
            except H323ConnectionError as exc:
                await self._h245_lost(str(exc))
                return
            self.note("sent", f"H.245 {h245_name(data)}")

    async def _h245_lost(self, why: str) -> None:
        """The separate H.245 connection ended or broke: said once, the call goes on."""
        if self.h245 is None or self.h245_lost:
            return
        self.h245_lost = True
        self.note("info", "H.245 closed", why)
        await self.h245.close()

    async def _next(self, inbox: Inbox, wait: float) -> Arrival | None:
        """The next arrival, or ``None`` when ``stop`` is set first (the readers are separate
        tasks, so a wait cut short loses nothing)."""
        stop = self.story.stop
        if stop is None:
            return await inbox.next(wait)
        receiving = asyncio.ensure_future(inbox.next(wait))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not receiving.done():
                receiving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiving
        if receiving.cancelled():
            return None
        return receiving.result()

    async def _release(self, channel: SignalChannel, call: OutgoingCall, cause: int) -> None:
        self.story.released_here = cause
        release = call.release(cause)
        await self._flush_h245(call)  # endSessionCommand first on a separate H.245 connection
        try:
            await channel.send(release)
        except H323ConnectionError:
            return
        self.note("sent", "Release Complete", describe(release))
