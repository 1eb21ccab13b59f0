"""The stand-in connector as a SIP service: a pjsua2 engine that answers calls like a meeting.

Runs in a process of its own (pjsua2 allows one engine per process), started by the gateway's
embedded mode, ``crcgw demo`` and the tests through :class:`StandinProcess`. It reports every
joined call to the API emulator (one CRC port in use until the call ends) and prints one JSON
line per event on stdout, which is how its parent follows what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from gateway.standin.session import Action, ConnectorSession, Meeting, Phase
from gateway.standin.video import STANDIN_VIDEO, StandinVideo, warm_pictures
from signaling.pjsua import SipEngine
from signaling.sip.config import EndpointConfig, EngineConfig
from signaling.sip.errors import SipError
from signaling.sip.events import CallStateChanged, DtmfReceived, EngineEvent, IncomingCall
from signaling.sip.grammar import uri_of, uri_user
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase, Transport

__all__ = ["EmulatorMeetings", "StandinConnector", "standin_host_key"]

log = logging.getLogger(__name__)

StartReport = Callable[[str], Awaitable[str | None]]
EndReport = Callable[[str], Awaitable[None]]
#: The meetings' pending room-system call-outs: (call-out id, SIP URI to dial).
CalloutSource = Callable[[], Awaitable[list[tuple[str, str]]]]
#: A call-out's outcome: (call-out id, ``dialling``/``answered``/``failed``/``ended``).
CalloutReport = Callable[[str, str], Awaitable[None]]
#: The identity call-outs come from (a domain of their own: a registrar that guards its own
#: domain's callers does not challenge the meeting).
CALLOUT_ENDPOINT = EndpointConfig(name="callout", user="zoom-meeting", domain="zoomcrc.invalid",
                                  register=False)


def standin_host_key(meeting_id: str) -> str:
    """The stand-in's host key for a meeting: eight digits derived from its ID (stable)."""
    digest = hashlib.sha256(f"crcgw-standin-host:{meeting_id}".encode()).hexdigest()
    return str(int(digest[:12], 16) % 100_000_000).zfill(8)


class EmulatorMeetings(Mapping[str, Meeting]):
    """Every 9-11 digit meeting ID exists, with the emulator's passcode for it.

    ``passcode_of`` is the emulator's own rule (``api_client.emulator.meeting_passcode``), so what
    the API's dial-in information says and what the stand-in accepts always agree.
    """

    def __init__(self, passcode_of: Callable[[str], str]) -> None:
        self._passcode_of = passcode_of

    def __getitem__(self, meeting_id: str) -> Meeting:
        if not (meeting_id.isdigit() and meeting_id.isascii() and 9 <= len(meeting_id) <= 11):
            raise KeyError(meeting_id)
        return Meeting(meeting_id, self._passcode_of(meeting_id), standin_host_key(meeting_id))

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def dialled_user(local_uri: str) -> str:
    """The user part of ``"Name" <sip:USER@host;params>`` (``""`` when it has none)."""
    return uri_user(uri_of(local_uri))[1] or ""


@dataclass
class _Call:
    session: ConnectorSession
    report_id: str | None = None
    joined_at: float | None = None
    digits: str = ""


class StandinConnector:
    """Answer calls on ``host:port`` (UDP and TCP) and walk each caller through the IVR."""

    def __init__(
        self,
        meetings: Mapping[str, Meeting],
        *,
        host: str = "127.0.0.1",
        port: int,
        on_join: StartReport | None = None,
        on_leave: EndReport | None = None,
        emit: Callable[[dict[str, Any]], None] = lambda event: None,
        clock: Callable[[], float] = time.monotonic,
        callouts: CalloutSource | None = None,
        callout_report: CalloutReport | None = None,
        video: VideoSettings | None = STANDIN_VIDEO,
    ) -> None:
        self.meetings = meetings
        self.host = host
        self.port = port
        self._on_join = on_join
        self._on_leave = on_leave
        self._emit = emit
        self._clock = clock
        self._calls: dict[str, _Call] = {}
        self._callouts_source = callouts
        self._callout_report = callout_report
        self._dialled: dict[str, tuple[str, bool]] = {}  # call id -> (call-out id, answered)
        self._next_poll = 0.0
        self._queue: asyncio.Queue[EngineEvent] = asyncio.Queue()
        self._video_settings = video
        self.engine = SipEngine(
            EngineConfig(
                bind_address=host,
                sip_port=port,
                transports=(Transport.UDP, Transport.TCP),
                codecs=("PCMU", "PCMA", "G722"),
                user_agent="crcgw-standin",
                pjsip_log_level=1,
            )
        )

    def _event(self, kind: str, call_id: str, **data: Any) -> None:
        self._emit({"event": kind, "call": call_id, **data})

    async def run(self, stop: asyncio.Event) -> None:
        async with self.engine:
            self.engine.add_listener(self._queue.put_nowait)
            video = None
            if self._video_settings is not None:  # answers video with a composed picture
                # before it listens: a first call must not wait for kernels to compile
                await asyncio.to_thread(warm_pictures, self._video_settings)
                video = StandinVideo(self.engine, self.host, self._event, dialled_user,
                                     self._video_settings)
                self.engine.add_listener(video.on_event)
            try:
                await self._serve(stop, video is not None)
            finally:
                if video is not None:
                    video.stop()

    async def _serve(self, stop: asyncio.Event, video: bool) -> None:
        await self.engine.add_endpoint(
            EndpointConfig(name="crc", user="crc", domain=self.host, register=False,
                           video=self._video_settings if video else None)
        )
        if self._callouts_source is not None:
            await self.engine.add_endpoint(CALLOUT_ENDPOINT)
        self._emit({"event": "listening", "sip": [f"udp://{self.host}:{self.port}",
                                                  f"tcp://{self.host}:{self.port}"]})
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                first = await asyncio.wait_for(self._queue.get(), 0.5)
                await self._handle_safely(first)
                while not self._queue.empty():  # everything that arrived meanwhile
                    await self._handle_safely(self._queue.get_nowait())
            await self._tick()
            await self._dial_callouts()
        for call_id in list(self._calls):
            await self._finish(call_id, "connector stopped")

    async def _dial_callouts(self) -> None:
        """Place the meetings' pending SIP call-outs (polled at most every 0.5 s)."""
        now = self._clock()
        if self._callouts_source is None or now < self._next_poll:
            return
        self._next_poll = now + 0.5
        try:
            pending = await self._callouts_source()
        except Exception as exc:  # noqa: BLE001 - the API may be busy: next poll
            log.warning("could not read the call-outs: %s", exc)
            return
        for callout_id, uri in pending:
            await self._report_callout(callout_id, "dialling")
            try:
                call_id = await self.engine.dial(uri, endpoint=CALLOUT_ENDPOINT.name)
            except Exception as exc:  # noqa: BLE001 - a bad target fails this call-out only
                self._emit({"event": "callout_failed", "callout": callout_id,
                            "reason": str(exc)})
                await self._report_callout(callout_id, "failed")
                continue
            self._dialled[call_id] = (callout_id, False)
            self._event("callout_dialling", call_id, callout=callout_id, uri=uri)

    async def _report_callout(self, callout_id: str, status: str) -> None:
        if self._callout_report is not None:
            try:
                await self._callout_report(callout_id, status)
            except Exception as exc:  # noqa: BLE001
                log.warning("could not report call-out %s: %s", callout_id, exc)

    async def _callout_state(self, event: CallStateChanged) -> None:
        callout_id, answered = self._dialled[event.call_id]
        if event.phase is CallPhase.CONNECTED and not answered:
            self._dialled[event.call_id] = (callout_id, True)
            self._event("callout_answered", event.call_id, callout=callout_id)
            await self._report_callout(callout_id, "answered")
        elif event.phase is CallPhase.DISCONNECTED:
            del self._dialled[event.call_id]
            outcome = "ended" if answered else "failed"
            self._event("callout_" + outcome, event.call_id, callout=callout_id,
                        reason=event.reason or "")
            await self._report_callout(callout_id, outcome)

    async def _handle_safely(self, event: EngineEvent) -> None:
        """One event; an engine command that fails (the caller hung up meanwhile, say) ends
        that call only, never the connector."""
        try:
            await self._handle(event)
        except SipError as exc:
            call_id = getattr(event, "call_id", "")
            log.warning("call %s: %s", call_id, exc)
            if call_id in self._calls:
                await self._finish(call_id, f"engine: {exc}")

    async def _handle(self, event: EngineEvent) -> None:
        if isinstance(event, CallStateChanged) and event.call_id in self._dialled:
            await self._callout_state(event)
            return
        if isinstance(event, IncomingCall):
            user = dialled_user(event.local_uri)
            session = ConnectorSession(self.meetings, user, now=self._clock())
            self._calls[event.call_id] = _Call(session)
            self._event("incoming", event.call_id, dialled=user.split(".", 1)[0])
            # 180 from the engine, then 200 from here (test-dial times both, as at Zoom); the
            # caller may have given up meanwhile: _handle_safely ends that call only
            await self.engine.answer(event.call_id, 200)
            await self._apply(event.call_id, session.start())
        elif isinstance(event, DtmfReceived) and event.call_id in self._calls:
            call = self._calls[event.call_id]
            call.digits += event.digit
            await self._apply(event.call_id, call.session.digit(event.digit, self._clock()))
        elif isinstance(event, CallStateChanged) and event.phase is CallPhase.DISCONNECTED:
            if event.call_id in self._calls:
                await self._finish(event.call_id, event.reason or "caller hung up")

    async def _tick(self) -> None:
        now = self._clock()
        for call_id, call in list(self._calls.items()):
            await self._apply(call_id, call.session.tick(now))

    async def _apply(self, call_id: str, actions: list[Action]) -> None:
        call = self._calls[call_id]
        for action in actions:
            if action.kind == "prompt":
                self._event("prompt", call_id, asks=action.detail)
            elif action.kind == "join":
                call.joined_at = self._clock()
                if self._on_join is not None:
                    try:
                        call.report_id = await self._on_join(action.detail)
                    except Exception as exc:  # noqa: BLE001 - reported, the call goes on
                        log.warning("could not report the call to the API: %s", exc)
                self._event("joined", call_id, meeting_id=action.detail,
                            digits_received=len(call.digits))
            elif action.kind == "host":
                self._event("host", call_id)
            elif action.kind == "hangup":
                self._event("rejected", call_id, reason=action.detail, code=action.code)
                with contextlib.suppress(Exception):
                    await self.engine.hangup(call_id, action.code)
                await self._finish(call_id, action.detail)

    async def _finish(self, call_id: str, reason: str) -> None:
        call = self._calls.pop(call_id, None)
        if call is None:
            return
        if call.session.phase is not Phase.ENDED:
            with contextlib.suppress(Exception):
                await self.engine.hangup(call_id)
        if call.report_id is not None and self._on_leave is not None:
            try:
                await self._on_leave(call.report_id)
            except Exception as exc:  # noqa: BLE001
                log.warning("could not report the end of the call to the API: %s", exc)
        self._emit({"event": "ended", "call": call_id, "reason": reason,
                    "joined": call.joined_at is not None, "host": call.session.host_claimed})


def print_event(event: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()
