"""Calls on the engine thread: pjsua2 callbacks become inputs of each call's state machine
(:class:`signaling.sip.callmachine.SipCall`), its commands become pjsua2 calls.

No call logic here: phases, timeouts, the DTMF schedule, RTP inactivity, session timers, the
BYE's outcome and the cause of the end are the machine's. This module reads the clock once
per callback (``self.now()``), reads pjsua2's call, media and stream info into plain values,
keeps one engine timer per call at the machine's deadline, and keeps pjsua's own limits
(calls per process, media sockets) from aborting the process.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import pjsua2 as pj

from signaling.pjsua._base import KEEP_FINISHED_CALLS
from signaling.pjsua._objects import PjAccount, PjCall
from signaling.pjsua._timers import Timer, TimerHeap
from signaling.pjsua._video import VideoCore
from signaling.sip.callio import (
    AnswerCall,
    CallInput,
    CallTimers,
    Command,
    DtmfSeen,
    HangupAsked,
    HangupCall,
    InviteAnswered,
    InvState,
    MediaSeen,
    ReadRtp,
    ReleaseCall,
    RtpCount,
    SendDigits,
    StateSeen,
    Step,
    StreamFigures,
    WireSeen,
)
from signaling.sip.callmachine import SipCall
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.dtmf import DIGIT_DURATION_MS, DtmfSend, check_digits
from signaling.sip.errors import CallSlotsSettling, SipConfigError
from signaling.sip.events import CallStats, EngineEvent
from signaling.sip.types import Direction, DtmfMethod
from signaling.sip.wire import CallWire, WireMessage

__all__ = ["SOCKET_BUDGET_CALLS", "SOCKET_SETTLE_S", "CallCore"]

logger = logging.getLogger("signaling.pjsua")

_METHODS = {
    DtmfMethod.RFC4733: pj.PJSUA_DTMF_METHOD_RFC2833,
    DtmfMethod.SIP_INFO: pj.PJSUA_DTMF_METHOD_SIP_INFO,
}
_STATES = {
    pj.PJSIP_INV_STATE_CALLING: InvState.CALLING,
    pj.PJSIP_INV_STATE_INCOMING: InvState.INCOMING,
    pj.PJSIP_INV_STATE_EARLY: InvState.EARLY,
    pj.PJSIP_INV_STATE_CONNECTING: InvState.CONNECTING,
    pj.PJSIP_INV_STATE_CONFIRMED: InvState.CONFIRMED,
    pj.PJSIP_INV_STATE_DISCONNECTED: InvState.DISCONNECTED,
}
_SRTP_PROTOS = (pj.PJMEDIA_TP_PROTO_RTP_SAVP, pj.PJMEDIA_TP_PROTO_RTP_SAVPF)
_KEEP_ORPHAN_WIRES = 64
# pjlib's select ioqueue (PJ_IOQUEUE_MAX_HANDLES = 64 sockets for SIP and media together) keeps
# the slot of a closed socket for PJ_IOQUEUE_KEY_FREE_DELAY (500 ms) before reuse, but stops
# counting it at once: a new call's RTP/RTCP sockets then find no free slot and pjlib asserts,
# aborting the process (measured: ~90 short calls/s through `crcgw serve`, bench/soak_calls.py).
# So live calls plus calls ended within the settle time stay under a socket budget (two
# sockets a call, the SIP transports kept clear); a dial beyond waits (SipEngine.dial).
SOCKET_SETTLE_S = 0.75
_PJ_ETOOMANY = 70010
_SLOT_RETRY_S = 0.05
SOCKET_BUDGET_CALLS = 24


@dataclass
class _CallRec:
    """One call: its machine, and what only pjsua2 has (the Call wrapper, the audio index)."""

    machine: SipCall
    call: PjCall | None
    audio_index: int | None = None
    final: StreamFigures | None = None
    """The stream's last figures, read when pjsua destroyed it."""
    timer: Timer | None = None
    sip_call_id: str | None = None
    media_closed: bool = False
    """Its end was counted in the socket budget (once: a hang-up ends the call inside
    pjsua2's ``hangup``, so the end is seen by two nested steps)."""

    @property
    def key(self) -> str:
        return self.machine.key

    @property
    def live(self) -> bool:
        return self.call is not None and not self.machine.ended


class CallCore:
    """Mixed into the engine thread's :class:`Worker`, which provides the members below."""

    timers: TimerHeap
    config: EngineConfig
    account_of: Callable[[str], PjAccount]
    endpoint_config: Callable[[str], EndpointConfig]
    emit: Callable[[EngineEvent], None]
    now: Callable[[], float]
    next_seq: Callable[[], int]
    call_capacity: int

    def __init__(self) -> None:
        self.calls: dict[str, _CallRec] = {}
        self._call_numbers = itertools.count(1)
        self._wire: dict[str, CallWire] = {}
        self._key_of: dict[str, str] = {}  # SIP Call-ID -> call key
        self._media_closed: deque[float] = deque()  # when calls ended, within SOCKET_SETTLE_S
        self.video = VideoCore(self.emit, lambda name: self.endpoint_config(name).video)

    def _timers(self, setup_timeout_s: float | None) -> CallTimers:
        config = self.config
        return CallTimers(
            setup_timeout_s=setup_timeout_s,
            rtp_timeout_s=config.rtp_timeout_s,
            bye_timeout_s=config.bye_timeout_s,
            session=config.session_timer if config.session_timer.enabled else None,
        )

    # -- the machine's steps -----------------------------------------------------------------

    def _feed(self, rec: _CallRec, event: CallInput, now: float, strict: bool = False) -> None:
        self._apply(rec, rec.machine.handle(event, now), now, strict)
        if rec.machine.ended and not rec.media_closed:
            rec.media_closed = True
            self._media_closed.append(now)

    def _tick(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None:
            rec.timer = None
            now = self.now()
            self._apply(rec, rec.machine.tick(now), now)

    def _apply(self, rec: _CallRec, step: Step, now: float, strict: bool = False) -> None:
        """Tell the events, carry out the commands (``strict``: a pjsua2 error goes to the
        caller; otherwise it is logged), then wake up at the machine's next deadline."""
        commands, events = step
        for event in events:
            self.emit(event)
        try:
            for command in commands:
                try:
                    self._execute(rec, command, now)
                except (pj.Error, SipConfigError) as exc:
                    if strict:
                        raise
                    logger.warning("%s: %s failed: %s", rec.key, type(command).__name__, exc)
        finally:
            self._arm(rec)

    def _execute(self, rec: _CallRec, command: Command, now: float) -> None:
        if isinstance(command, ReleaseCall):  # outside of pjsua2's own callback
            self.timers.at(now, lambda: self._release(rec.key))
            return
        call = rec.call
        if call is None:
            return
        if isinstance(command, HangupCall):
            op = pj.CallOpParam(True)
            if command.code is not None:
                op.statusCode = command.code
            call.hangup(op)
        elif isinstance(command, AnswerCall):
            op = pj.CallOpParam()
            op.statusCode = command.code
            call.answer(op)
        elif isinstance(command, SendDigits):
            self._send_digits(call, command.step, command.method)
        elif isinstance(command, ReadRtp):
            figures = self._figures(rec)
            if figures is not None:
                self._feed(rec, RtpCount(figures.rx_packets), now)

    def _arm(self, rec: _CallRec) -> None:
        key = rec.key
        rec.timer = self.timers.rearm(rec.timer, rec.machine.deadline, lambda: self._tick(key))

    # -- commands ------------------------------------------------------------------------------

    def dial(
        self, endpoint: str, uri: str, options: CallOptions, plan: tuple[DtmfSend, ...]
    ) -> str:
        live = len(self.active_calls())
        if live >= self.call_capacity:
            raise SipConfigError(
                f"this SIP engine holds {live} calls, its limit (pjsua2 is built for "
                f"{self.call_capacity} per process; SipEnginePool spreads rooms over engines)"
            )
        now = self.now()
        self._check_sockets_settled(live, now)
        account = self.account_of(endpoint)
        key = f"call-{next(self._call_numbers)}"
        machine = SipCall(
            key,
            endpoint,
            Direction.OUTGOING,
            self._timers(options.timeout_s),
            self.next_seq,
            remote_uri=uri,
            plan=plan,
            dtmf_method=options.dtmf_method,
        )
        call = PjCall(self, account, key)
        rec = _CallRec(machine, call)
        self.calls[key] = rec
        op = pj.CallOpParam(True)
        op.opt.audioCount = self.video.prepare_dial(key, options.video)
        op.opt.videoCount = 0
        step = machine.dial(now)
        try:
            call.makeCall(uri, op)
        except pj.Error as exc:
            del self.calls[key]
            if exc.status == _PJ_ETOOMANY and self._media_closed:
                # our count says a slot is free and a call ended just now: pjsua frees an
                # ended call's slot a little after its DISCONNECTED callback (measured: ~0.5 %
                # of dials in bench/soak_calls.py at 30 calls/s got PJ_ETOOMANY); the dial
                # waits for it. Without a call just ended, PJ_ETOOMANY is pjsua's real limit.
                raise CallSlotsSettling(
                    f"PJ_ETOOMANY: pjsua has not freed the slot of a call that ended just now "
                    f"({live} live)",
                    _SLOT_RETRY_S,
                ) from None
            raise
        except BaseException:
            del self.calls[key]
            raise
        self._link_wire(rec, str(call.getInfo().callIdString))
        self._apply(rec, step, now)
        return key

    def _check_sockets_settled(self, live: int, now: float) -> None:
        """Raise :class:`CallSlotsSettling` while live calls and calls ended within
        :data:`SOCKET_SETTLE_S` fill the socket budget (see there)."""
        closed = self._media_closed
        while closed and closed[0] <= now - SOCKET_SETTLE_S:
            closed.popleft()
        if live + len(closed) >= SOCKET_BUDGET_CALLS:
            raise CallSlotsSettling(
                f"{len(closed)} calls ended in the last {SOCKET_SETTLE_S:g} s and their "
                "media sockets are not reusable yet",
                max(0.01, closed[0] + SOCKET_SETTLE_S - now) if closed else SOCKET_SETTLE_S,
            )

    def answer(self, key: str, code: int = 200) -> None:
        self._apply(self._live(key), ([AnswerCall(code)], []), self.now(), strict=True)

    def hangup(self, key: str, code: int | None = None, cause: str | None = None) -> None:
        rec = self._live(key)
        self._feed(rec, HangupAsked(code, cause), self.now(), strict=True)

    def send_dtmf(self, key: str, digits: str, method: DtmfMethod) -> None:
        call = self._live(key).call
        assert call is not None
        self._send_digits(call, DtmfSend(0, check_digits(digits)), method)

    def _send_digits(self, call: PjCall, step: DtmfSend, method: DtmfMethod) -> None:
        prm = pj.CallSendDtmfParam()
        prm.method = _METHODS[method]
        prm.digits = check_digits(step.digits)
        prm.duration = DIGIT_DURATION_MS
        call.sendDtmf(prm)

    def call_stats(self, key: str) -> CallStats:
        rec = self._rec(key)
        figures = self._figures(rec) if rec.live else None
        return rec.machine.stats(figures or rec.final, self.now())

    def hangup_all(self) -> None:
        for key in self.active_calls():
            try:
                self.hangup(key)
            except (pj.Error, SipConfigError):
                pass

    def active_calls(self) -> list[str]:
        return [k for k, r in self.calls.items() if r.live]

    def drop_calls(self) -> None:
        """Forget every pjsua2 Call wrapper (before ``libDestroy``)."""
        for rec in self.calls.values():
            if rec.timer is not None:
                rec.timer.cancel()
            rec.call = None
        self.calls.clear()
        self.video.clear()
        self._wire.clear()
        self._key_of.clear()

    def _rec(self, key: str) -> _CallRec:
        try:
            return self.calls[key]
        except KeyError:
            raise SipConfigError(f"no call {key!r}") from None

    def _live(self, key: str) -> _CallRec:
        rec = self._rec(key)
        if not rec.live:
            raise SipConfigError(f"call {key!r} has ended")
        return rec

    # -- callbacks -------------------------------------------------------------------------------

    def on_incoming_call(self, name: str, pj_call_id: int) -> None:
        now = self.now()
        account = self.account_of(name)
        key = f"in-{next(self._call_numbers)}"
        call = PjCall(self, account, key, pj_call_id)
        info = call.getInfo()
        machine = SipCall(
            key,
            name,
            Direction.INCOMING,
            self._timers(self.config.ring_timeout_s),
            self.next_seq,
            remote_uri=str(info.remoteUri),
        )
        rec = _CallRec(machine, call)
        self.calls[key] = rec
        self._link_wire(rec, str(info.callIdString))
        self._prune()
        auto = self.endpoint_config(name).auto_answer
        self._apply(rec, machine.offered(now, str(info.localUri), auto), now)

    def on_invite_response(self, key: str, code: int) -> None:
        rec = self.calls.get(key)
        if rec is not None:
            self._feed(rec, InviteAnswered(code), self.now())

    def on_call_state(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.call is None:
            return
        now = self.now()
        info = rec.call.getInfo()
        state = _STATES.get(info.state)
        if state is not None:
            seen = StateSeen(
                state, int(info.lastStatusCode), str(info.lastReason), str(info.remoteUri or "")
            )
            self._feed(rec, seen, now)

    def on_call_media(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.call is None:
            return
        now = self.now()
        info = rec.call.getInfo()
        seen = MediaSeen(False, code=int(info.lastStatusCode), reason=str(info.lastReason))
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                rec.audio_index = int(media.index)
                stream = rec.call.getStreamInfo(rec.audio_index)
                seen = MediaSeen(
                    True,
                    str(stream.codecName),
                    int(stream.codecClockRate),
                    stream.proto in _SRTP_PROTOS,
                    seen.code,
                    seen.reason,
                )
        self._feed(rec, seen, now)

    def on_stream_destroyed(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None and rec.audio_index is not None:
            rec.final = self._figures(rec)

    def on_dtmf(self, key: str, digit: str, method: int, duration_ms: int) -> None:
        rec = self.calls.get(key)
        if rec is None:
            return
        kind = (
            DtmfMethod.SIP_INFO if method == pj.PJSUA_DTMF_METHOD_SIP_INFO else DtmfMethod.RFC4733
        )
        self._feed(rec, DtmfSeen(digit, kind, duration_ms or None), self.now())

    # -- statistics ------------------------------------------------------------------------------

    def _figures(self, rec: _CallRec) -> StreamFigures | None:
        if rec.call is None or rec.audio_index is None:
            return None
        try:
            stat = rec.call.getStreamStat(rec.audio_index)
        except pj.Error:
            return None
        rx, tx = stat.rtcp.rxStat, stat.rtcp.txStat
        jitter = rx.jitterUsec if rx.jitterUsec.n > 0 else None
        return StreamFigures(
            rx_packets=int(rx.pkt),
            tx_packets=int(tx.pkt),
            rx_lost=int(rx.loss),
            jitter_mean_us=float(jitter.mean) if jitter is not None else None,
            jitter_max_us=float(jitter.max) if jitter is not None else None,
        )

    # -- memory ----------------------------------------------------------------------------------

    def _release(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None:
            rec.call = None
        self._prune()

    def forget_call(self, key: str) -> None:
        """Drop an ended call's record (its owner no longer asks about it)."""
        rec = self.calls.get(key)
        if rec is None or rec.call is not None or not rec.machine.ended:
            return
        del self.calls[key]
        if rec.timer is not None:
            rec.timer.cancel()
        if rec.sip_call_id is not None:
            self._wire.pop(rec.sip_call_id, None)
            self._key_of.pop(rec.sip_call_id, None)

    def _prune(self) -> None:
        finished = [k for k, r in self.calls.items() if r.call is None and r.machine.ended]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED_CALLS)]:
            self.forget_call(key)
        orphans = [cid for cid in self._wire if cid not in self._key_of]
        for cid in orphans[: max(0, len(orphans) - _KEEP_ORPHAN_WIRES)]:
            del self._wire[cid]

    # -- the wire tap ----------------------------------------------------------------------------

    def _link_wire(self, rec: _CallRec, sip_call_id: str) -> None:
        rec.sip_call_id = sip_call_id
        rec.machine.wire = self._wire.setdefault(sip_call_id, CallWire())
        self._key_of[sip_call_id] = rec.key

    def on_wire(self, msg: WireMessage) -> None:
        """One SIP message sent or received (engine thread, from the log writer)."""
        key = self._key_of.get(msg.call_id)
        rec = self.calls.get(key) if key is not None else None
        if rec is not None:
            self._feed(rec, WireSeen(msg), msg.at)
            return
        wire = self._wire.get(msg.call_id)
        if wire is None:
            if msg.method != "INVITE" or msg.is_response:
                return  # REGISTER, OPTIONS, ... and dialogs we do not know
            wire = self._wire[msg.call_id] = CallWire()
        wire.add(msg)  # a call not linked yet (its INVITE goes out inside makeCall)
