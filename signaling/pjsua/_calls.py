"""Call handling on the engine thread: dial, answer, DTMF, hang-up, timings and stream stats."""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import pjsua2 as pj

from signaling.pjsua._base import KEEP_FINISHED_CALLS
from signaling.pjsua._objects import PjAccount, PjCall
from signaling.pjsua._timers import Timer, TimerHeap
from signaling.pjsua._video import VideoCore
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.dtmf import DIGIT_DURATION_MS, DtmfSend, check_digits
from signaling.sip.errors import CallSlotsSettling, SipConfigError
from signaling.sip.events import (
    ByeOutcome,
    CallStateChanged,
    CallStats,
    DtmfReceived,
    EngineEvent,
    IncomingCall,
    MediaStateChanged,
)
from signaling.sip.explain import explain_call_end
from signaling.sip.inactivity import RtpWatch
from signaling.sip.types import CallPhase, CauseOrigin, Direction, DtmfMethod
from signaling.sip.wire import CallWire, WireMessage

__all__ = ["CallCore"]

logger = logging.getLogger("signaling.pjsua")

_METHODS = {
    DtmfMethod.RFC4733: pj.PJSUA_DTMF_METHOD_RFC2833,
    DtmfMethod.SIP_INFO: pj.PJSUA_DTMF_METHOD_SIP_INFO,
}
_RINGING_CODES = (180, 181, 182)
_KEEP_ORPHAN_WIRES = 64
_NO_MEDIA_GRACE_S = 2.0  # confirmed without negotiated audio: pjsip normally ends it at once
_RTP_CHECK_S = 1.0
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
    key: str
    endpoint: str
    direction: Direction
    call: PjCall | None
    remote_uri: str = ""
    invite_at: float | None = None
    provisional_at: float | None = None
    ringing_at: float | None = None
    ok_at: float | None = None
    connected_at: float | None = None
    ended_at: float | None = None
    phase: CallPhase | None = None
    timed_out_after: float | None = None
    audio_index: int | None = None
    codec: str | None = None
    clock_rate: int | None = None
    srtp: bool = False
    final_stats: CallStats | None = None
    timers: list[Timer] = field(default_factory=list)
    sip_call_id: str | None = None
    wire: CallWire | None = None
    confirmed_at: float | None = None
    hung_up_at: float | None = None
    """When this side asked for the end (hang-up command, timeout, no media, no RTP)."""
    local_cause: str | None = None
    """Why this side ended the call, when it was not a plain hang-up command."""
    bye_timer: Timer | None = None
    bye_done: bool = False
    rtp_watch: RtpWatch | None = None
    rtp_timer: Timer | None = None


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000, 3)


class CallCore:
    """Mixed into the engine thread's :class:`Worker`, which provides the members below."""

    timers: TimerHeap
    config: EngineConfig
    account_of: Callable[[str], PjAccount]
    endpoint_config: Callable[[str], EndpointConfig]
    emit: Callable[[EngineEvent], None]
    call_capacity: int

    def __init__(self) -> None:
        self.calls: dict[str, _CallRec] = {}
        self._call_numbers = itertools.count(1)
        self._plans: dict[str, tuple[tuple[DtmfSend, ...], DtmfMethod]] = {}
        self._seq = 0
        self._wire: dict[str, CallWire] = {}
        self._key_of: dict[str, str] = {}  # SIP Call-ID -> call key
        self._media_closed: deque[float] = deque()  # when calls ended, within SOCKET_SETTLE_S
        self.video = VideoCore(self.emit, lambda name: self.endpoint_config(name).video)

    def next_seq(self) -> int:
        """The order of a new status (``seq`` of :mod:`signaling.sip.events`): strictly
        increasing, and from the host's monotonic clock so engine processes compare."""
        self._seq = max(self._seq + 1, time.monotonic_ns())
        return self._seq

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
        self._check_sockets_settled(live)
        account = self.account_of(endpoint)
        key = f"call-{next(self._call_numbers)}"
        call = PjCall(self, account, key)
        rec = _CallRec(key, endpoint, Direction.OUTGOING, call, remote_uri=uri)
        self.calls[key] = rec
        op = pj.CallOpParam(True)
        op.opt.audioCount = self.video.prepare_dial(key, options.video)
        op.opt.videoCount = 0
        rec.invite_at = time.monotonic()
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
        rec.timers.append(
            self.timers.at(
                rec.invite_at + options.timeout_s,
                lambda: self._setup_timed_out(key, options.timeout_s),
            )
        )
        self._plans[key] = (plan, options.dtmf_method)
        return key

    def _check_sockets_settled(self, live: int) -> None:
        """Raise :class:`CallSlotsSettling` while live calls and calls ended within
        :data:`SOCKET_SETTLE_S` fill the socket budget (see there)."""
        now = time.monotonic()
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
        call = self._live(key)
        op = pj.CallOpParam()
        op.statusCode = code
        call.answer(op)

    def hangup(self, key: str, code: int | None = None, cause: str | None = None) -> None:
        call = self._live(key)
        rec = self.calls[key]
        if rec.hung_up_at is None:
            rec.hung_up_at = time.monotonic()
            rec.local_cause = cause
        op = pj.CallOpParam(True)
        if code is not None:
            op.statusCode = code
        call.hangup(op)

    def send_dtmf(self, key: str, digits: str, method: DtmfMethod) -> None:
        call = self._live(key)
        prm = pj.CallSendDtmfParam()
        prm.method = _METHODS[method]
        prm.digits = check_digits(digits)
        prm.duration = DIGIT_DURATION_MS
        call.sendDtmf(prm)

    def call_stats(self, key: str) -> CallStats:
        rec = self._rec(key)
        if rec.call is not None and rec.audio_index is not None and rec.ended_at is None:
            live = self._read_stats(rec)
            if live is not None:
                return live
        return rec.final_stats or self._stats(rec, None)

    def hangup_all(self) -> None:
        for key in self.active_calls():
            try:
                self.hangup(key)
            except (pj.Error, SipConfigError):
                pass

    def active_calls(self) -> list[str]:
        return [k for k, r in self.calls.items() if r.call is not None and r.ended_at is None]

    def drop_calls(self) -> None:
        """Forget every pjsua2 Call wrapper (before ``libDestroy``)."""
        for rec in self.calls.values():
            for timer in (*rec.timers, rec.rtp_timer, rec.bye_timer):
                if timer is not None:
                    timer.cancel()
            rec.call = None
        self.calls.clear()
        self.video.clear()
        self._plans.clear()
        self._wire.clear()
        self._key_of.clear()

    def _rec(self, key: str) -> _CallRec:
        try:
            return self.calls[key]
        except KeyError:
            raise SipConfigError(f"no call {key!r}") from None

    def _live(self, key: str) -> PjCall:
        rec = self._rec(key)
        if rec.call is None or rec.ended_at is not None:
            raise SipConfigError(f"call {key!r} has ended")
        return rec.call

    # -- callbacks -------------------------------------------------------------------------------

    def on_incoming_call(self, name: str, pj_call_id: int) -> None:
        account = self.account_of(name)
        key = f"in-{next(self._call_numbers)}"
        call = PjCall(self, account, key, pj_call_id)
        info = call.getInfo()
        rec = _CallRec(key, name, Direction.INCOMING, call, remote_uri=str(info.remoteUri))
        self.calls[key] = rec
        self._link_wire(rec, str(info.callIdString))
        self._prune()
        rec.phase = CallPhase.INCOMING
        self.emit(IncomingCall(time.monotonic(), key, name, rec.remote_uri, str(info.localUri)))
        op = pj.CallOpParam()
        auto = self.endpoint_config(name).auto_answer
        op.statusCode = 200 if auto else 180
        call.answer(op)
        if not auto:
            due = time.monotonic() + self.config.ring_timeout_s
            rec.timers.append(self.timers.at(due, lambda: self._ring_timed_out(key)))

    def _ring_timed_out(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None and rec.connected_at is None and rec.ended_at is None:
            try:
                self.hangup(key, 480, "nobody answered the incoming call in time")
            except (pj.Error, SipConfigError):
                pass

    def on_invite_response(self, key: str, code: int) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.ended_at is not None:
            return
        now = time.monotonic()
        if code < 200:
            if rec.provisional_at is None:
                rec.provisional_at = now
            if code in _RINGING_CODES or code == 183:
                rec.ringing_at = rec.ringing_at or now
            if code == 100 and rec.phase is CallPhase.CALLING:
                self._set_phase(rec, CallPhase.TRYING, code, "Trying")
        elif 200 <= code < 300 and rec.ok_at is None:
            rec.ok_at = now

    def on_call_state(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.call is None:
            return
        info = rec.call.getInfo()
        state, code, reason = info.state, int(info.lastStatusCode), str(info.lastReason)
        if info.remoteUri:
            rec.remote_uri = str(info.remoteUri)
        if state == pj.PJSIP_INV_STATE_CALLING:
            self._set_phase(rec, CallPhase.CALLING, None, "")
        elif state == pj.PJSIP_INV_STATE_EARLY:
            early = code == 183 or (rec.audio_index is not None)
            self._set_phase(
                rec, CallPhase.EARLY_MEDIA if early else CallPhase.RINGING, code, reason
            )
        elif state == pj.PJSIP_INV_STATE_CONNECTING:
            self._set_phase(rec, CallPhase.CONNECTING, code, reason)
        elif state == pj.PJSIP_INV_STATE_CONFIRMED:
            rec.confirmed_at = time.monotonic()
            if rec.audio_index is not None:
                self._connected(rec, code, reason)
            else:  # answered, but no audio was negotiated (no common codec, no SDP)
                due = rec.confirmed_at + _NO_MEDIA_GRACE_S
                rec.timers.append(self.timers.at(due, lambda: self._no_media(key)))
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._disconnected(rec, code, reason)

    def _set_phase(
        self,
        rec: _CallRec,
        phase: CallPhase,
        code: int | None,
        reason: str,
        explanation: str | None = None,
        origin: CauseOrigin | None = None,
    ) -> None:
        if rec.phase is phase:
            return
        rec.phase = phase
        self.emit(
            CallStateChanged(
                time.monotonic(),
                rec.key,
                rec.endpoint,
                phase,
                code,
                reason,
                rec.direction,
                rec.remote_uri,
                explanation,
                origin=origin,
                seq=self.next_seq(),
            )
        )

    def _no_media(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.connected_at is not None or rec.ended_at is not None:
            return
        try:
            self.hangup(key, None, "the call was answered but no audio was negotiated")
        except (pj.Error, SipConfigError):
            pass

    def _connected(self, rec: _CallRec, code: int, reason: str) -> None:
        now = time.monotonic()
        rec.connected_at = now
        for timer in rec.timers:
            timer.cancel()
        rec.timers.clear()
        self._set_phase(rec, CallPhase.CONNECTED, code, reason)
        if self.config.rtp_timeout_s is not None:
            rec.rtp_watch = RtpWatch(self.config.rtp_timeout_s, now)
            rec.rtp_timer = self.timers.at(now + _RTP_CHECK_S, self._rtp_checker(rec.key))
        plan, method = self._plans.pop(rec.key, ((), DtmfMethod.RFC4733))
        for step in plan:
            rec.timers.append(
                self.timers.at(now + step.at_s, self._dtmf_sender(rec.key, step, method))
            )

    def _dtmf_sender(self, key: str, step: DtmfSend, method: DtmfMethod) -> Callable[[], None]:
        def send() -> None:
            try:
                self.send_dtmf(key, step.digits, method)
            except (pj.Error, SipConfigError) as exc:
                logger.warning("%s: could not send DTMF %r: %s", key, step, exc)

        return send

    def _disconnected(self, rec: _CallRec, code: int, reason: str) -> None:
        now = time.monotonic()
        rec.ended_at = now
        self._media_closed.append(now)
        for timer in rec.timers:
            timer.cancel()
        rec.timers.clear()
        if rec.rtp_timer is not None:
            rec.rtp_timer.cancel()
        self._plans.pop(rec.key, None)
        origin = self._origin(rec, code)
        said = f"{code} {reason}, {'made locally' if origin is CauseOrigin.LOCAL else 'received'}"
        if rec.timed_out_after is not None and rec.connected_at is None:
            explanation: str | None = f"no answer within {rec.timed_out_after:g} s ({said})"
        elif rec.local_cause is not None:
            explanation = f"{rec.local_cause} ({said})"
        else:
            explanation = explain_call_end(code, reason, rec.connected_at is not None, origin)
        self._set_phase(rec, CallPhase.DISCONNECTED, code, reason, explanation, origin)
        key = rec.key
        # drop the pjsua2 wrapper outside of its own callback
        self.timers.at(now, lambda: self._release(key))

    def _release(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None:
            rec.call = None
        self._prune()

    def _origin(self, rec: _CallRec, code: int) -> CauseOrigin:
        """Received only when the wire shows the far end ended it: its BYE/CANCEL came in
        before we asked for the end, or ``code`` is the final response that arrived."""
        wire = rec.wire
        if wire is not None and wire.far_end_ended_at is not None:
            if rec.hung_up_at is None or wire.far_end_ended_at <= rec.hung_up_at:
                return CauseOrigin.RECEIVED
        if rec.hung_up_at is not None or wire is None:
            return CauseOrigin.LOCAL
        return CauseOrigin.RECEIVED if wire.received_final(code) else CauseOrigin.LOCAL

    def _setup_timed_out(self, key: str, timeout_s: float) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.connected_at is not None or rec.ended_at is not None:
            return
        rec.timed_out_after = timeout_s
        try:
            self.hangup(key, None, f"no answer within {timeout_s:g} s")
        except (pj.Error, SipConfigError):
            pass

    def on_call_media(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.call is None:
            return
        info = rec.call.getInfo()
        active = False
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                active = True
                rec.audio_index = int(media.index)
                stream = rec.call.getStreamInfo(rec.audio_index)
                rec.codec = str(stream.codecName)
                rec.clock_rate = int(stream.codecClockRate)
                rec.srtp = stream.proto in (
                    pj.PJMEDIA_TP_PROTO_RTP_SAVP,
                    pj.PJMEDIA_TP_PROTO_RTP_SAVPF,
                )
        self.emit(
            MediaStateChanged(time.monotonic(), key, active, rec.codec, rec.clock_rate, rec.srtp)
        )
        if active and rec.phase in (CallPhase.RINGING, CallPhase.TRYING, CallPhase.CALLING):
            self._set_phase(rec, CallPhase.EARLY_MEDIA, info.lastStatusCode, str(info.lastReason))
        if (
            active
            and rec.confirmed_at is not None
            and rec.connected_at is None
            and rec.ended_at is None
        ):  # audio negotiated after the ACK (a late answer)
            self._connected(rec, int(info.lastStatusCode), str(info.lastReason))

    def on_stream_destroyed(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None and rec.audio_index is not None:
            rec.final_stats = self._read_stats(rec)

    def on_dtmf(self, key: str, digit: str, method: int, duration_ms: int) -> None:
        kind = (
            DtmfMethod.SIP_INFO if method == pj.PJSUA_DTMF_METHOD_SIP_INFO else DtmfMethod.RFC4733
        )
        self.emit(DtmfReceived(time.monotonic(), key, digit, kind, duration_ms or None))

    # -- statistics ------------------------------------------------------------------------------

    def _read_stats(self, rec: _CallRec) -> CallStats | None:
        if rec.call is None or rec.audio_index is None:
            return None
        try:
            stat = rec.call.getStreamStat(rec.audio_index)
        except pj.Error:
            return None
        return self._stats(rec, stat)

    def _stats(self, rec: _CallRec, stat: pj.StreamStat | None) -> CallStats:
        end = rec.ended_at or time.monotonic()
        rx = stat.rtcp.rxStat if stat is not None else None
        tx = stat.rtcp.txStat if stat is not None else None
        jitter = rx.jitterUsec if rx is not None and rx.jitterUsec.n > 0 else None
        wire = rec.wire
        if wire is not None and wire.invite_sent_at is not None:
            sent: float | None = wire.invite_sent_at
            marks = (wire.provisional_at, wire.ringing_at, wire.ok_at())
        else:  # no message seen (an engine without the tap): the callbacks' own clock
            sent, marks = rec.invite_at, (rec.provisional_at, rec.ringing_at, rec.ok_at)
        return CallStats(
            call_id=rec.key,
            invite_to_provisional_ms=_ms(sent, marks[0]),
            invite_to_ringing_ms=_ms(sent, marks[1]),
            invite_to_200_ms=_ms(sent, marks[2]),
            codec=rec.codec,
            clock_rate=rec.clock_rate,
            rx_packets=int(rx.pkt) if rx is not None else 0,
            tx_packets=int(tx.pkt) if tx is not None else 0,
            rx_lost=int(rx.loss) if rx is not None else 0,
            rx_jitter_ms=round(jitter.mean / 1000, 3) if jitter is not None else None,
            rx_jitter_max_ms=round(jitter.max / 1000, 3) if jitter is not None else None,
            connected_s=round(end - rec.connected_at, 3) if rec.connected_at else None,
            srtp=rec.srtp,
        )

    def forget_call(self, key: str) -> None:
        """Drop an ended call's record (its owner no longer asks about it)."""
        rec = self.calls.get(key)
        if rec is None or rec.call is not None or rec.ended_at is None:
            return
        del self.calls[key]
        for timer in (rec.bye_timer, rec.rtp_timer):
            if timer is not None:
                timer.cancel()
        if rec.sip_call_id is not None:
            self._wire.pop(rec.sip_call_id, None)
            self._key_of.pop(rec.sip_call_id, None)

    def _prune(self) -> None:
        finished = [k for k, r in self.calls.items() if r.call is None and r.ended_at is not None]
        for key in finished[: max(0, len(finished) - KEEP_FINISHED_CALLS)]:
            self.forget_call(key)
        orphans = [cid for cid in self._wire if cid not in self._key_of]
        for cid in orphans[: max(0, len(orphans) - _KEEP_ORPHAN_WIRES)]:
            del self._wire[cid]

    # -- the wire tap ----------------------------------------------------------------------------

    def _link_wire(self, rec: _CallRec, sip_call_id: str) -> None:
        rec.sip_call_id = sip_call_id
        rec.wire = self._wire.setdefault(sip_call_id, CallWire())
        self._key_of[sip_call_id] = rec.key

    def on_wire(self, msg: WireMessage) -> None:
        """One SIP message sent or received (engine thread, from the log writer)."""
        wire = self._wire.get(msg.call_id)
        if wire is None:
            if msg.method != "INVITE" or msg.is_response:
                return  # REGISTER, OPTIONS, ... and dialogs we do not know
            wire = self._wire[msg.call_id] = CallWire()
        answered = wire.add(msg)
        key = self._key_of.get(msg.call_id)
        rec = self.calls.get(key) if key is not None else None
        if rec is None:
            return
        if msg.sent and msg.method == "BYE" and not msg.is_response and rec.bye_timer is None:
            due = msg.at + self.config.bye_timeout_s
            rec.bye_timer = self.timers.at(due, lambda: self._bye_timed_out(rec.key))
        elif answered and wire.bye_response is not None and wire.bye_sent_at is not None:
            response = wire.bye_response
            self._bye_done(
                rec,
                ByeOutcome(
                    response.at,
                    rec.key,
                    response.code,
                    response.reason,
                    CauseOrigin.RECEIVED,
                    round((response.at - wire.bye_sent_at) * 1000, 3),
                ),
            )

    def _bye_timed_out(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.wire is None or rec.wire.bye_sent_at is None:
            return
        now = time.monotonic()
        reason = f"no answer to the BYE within {self.config.bye_timeout_s:g} s"
        ms = round((now - rec.wire.bye_sent_at) * 1000, 3)
        self._bye_done(rec, ByeOutcome(now, key, None, reason, CauseOrigin.LOCAL, ms))

    def _bye_done(self, rec: _CallRec, outcome: ByeOutcome) -> None:
        if rec.bye_done:
            return
        rec.bye_done = True
        if rec.bye_timer is not None:
            rec.bye_timer.cancel()
        self.emit(outcome)

    # -- RTP inactivity --------------------------------------------------------------------------

    def _rtp_checker(self, key: str) -> Callable[[], None]:
        def check() -> None:
            rec = self.calls.get(key)
            if rec is None or rec.ended_at is not None or rec.rtp_watch is None:
                return
            stats = self._read_stats(rec)
            now = time.monotonic()
            if stats is not None and rec.rtp_watch.observe(stats.rx_packets, now):
                silent = rec.rtp_watch.silent_s(now)
                logger.warning("%s: no RTP for %.1f s, hanging up", key, silent)
                try:
                    self.hangup(key, None, f"no RTP from the far end for {silent:.0f} s")
                except (pj.Error, SipConfigError):
                    pass
                return
            rec.rtp_timer = self.timers.at(now + _RTP_CHECK_S, check)

        return check
