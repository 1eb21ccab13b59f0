"""Call handling on the engine thread: dial, answer, DTMF, hang-up, timings and stream stats."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pjsua2 as pj

from signaling.pjsua._objects import PjAccount, PjCall
from signaling.pjsua._timers import Timer, TimerHeap
from signaling.sip.config import CallOptions, EndpointConfig, EngineConfig
from signaling.sip.dtmf import DIGIT_DURATION_MS, DtmfSend, check_digits
from signaling.sip.errors import SipConfigError
from signaling.sip.events import (
    CallStateChanged,
    CallStats,
    DtmfReceived,
    EngineEvent,
    IncomingCall,
    MediaStateChanged,
)
from signaling.sip.explain import explain_call_end
from signaling.sip.types import CallPhase, Direction, DtmfMethod

__all__ = ["CallCore"]

logger = logging.getLogger("signaling.pjsua")

_KEEP_FINISHED = 1000
_METHODS = {
    DtmfMethod.RFC4733: pj.PJSUA_DTMF_METHOD_RFC2833,
    DtmfMethod.SIP_INFO: pj.PJSUA_DTMF_METHOD_SIP_INFO,
}
_RINGING_CODES = (180, 181, 182)


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

    def __init__(self) -> None:
        self.calls: dict[str, _CallRec] = {}
        self._call_numbers = itertools.count(1)
        self._plans: dict[str, tuple[tuple[DtmfSend, ...], DtmfMethod]] = {}
        self._seq = 0

    def next_seq(self) -> int:
        """The order of a new status (``seq`` of :mod:`signaling.sip.events`): strictly
        increasing, and from the host's monotonic clock so engine processes compare."""
        self._seq = max(self._seq + 1, time.monotonic_ns())
        return self._seq

    # -- commands ------------------------------------------------------------------------------

    def dial(
        self, endpoint: str, uri: str, options: CallOptions, plan: tuple[DtmfSend, ...]
    ) -> str:
        account = self.account_of(endpoint)
        key = f"call-{next(self._call_numbers)}"
        call = PjCall(self, account, key)
        rec = _CallRec(key, endpoint, Direction.OUTGOING, call, remote_uri=uri)
        self.calls[key] = rec
        op = pj.CallOpParam(True)
        op.opt.audioCount = 1
        op.opt.videoCount = 0
        rec.invite_at = time.monotonic()
        try:
            call.makeCall(uri, op)
        except BaseException:
            del self.calls[key]
            raise
        rec.timers.append(
            self.timers.at(
                rec.invite_at + options.timeout_s,
                lambda: self._setup_timed_out(key, options.timeout_s),
            )
        )
        self._plans[key] = (plan, options.dtmf_method)
        return key

    def answer(self, key: str, code: int = 200) -> None:
        call = self._live(key)
        op = pj.CallOpParam()
        op.statusCode = code
        call.answer(op)

    def hangup(self, key: str, code: int | None = None) -> None:
        call = self._live(key)
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
            for timer in rec.timers:
                timer.cancel()
            rec.call = None
        self.calls.clear()
        self._plans.clear()

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
                self.hangup(key, 480)
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
            self._connected(rec, code, reason)
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._disconnected(rec, code, reason)

    def _set_phase(
        self,
        rec: _CallRec,
        phase: CallPhase,
        code: int | None,
        reason: str,
        explanation: str | None = None,
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
                self.next_seq(),
            )
        )

    def _connected(self, rec: _CallRec, code: int, reason: str) -> None:
        now = time.monotonic()
        rec.connected_at = now
        for timer in rec.timers:
            timer.cancel()
        rec.timers.clear()
        self._set_phase(rec, CallPhase.CONNECTED, code, reason)
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
        for timer in rec.timers:
            timer.cancel()
        rec.timers.clear()
        self._plans.pop(rec.key, None)
        if rec.timed_out_after is not None and rec.connected_at is None:
            explanation: str | None = (
                f"no answer within {rec.timed_out_after:g} s ({code} {reason})"
            )
        else:
            explanation = explain_call_end(code, reason, rec.connected_at is not None)
        self._set_phase(rec, CallPhase.DISCONNECTED, code, reason, explanation)
        key = rec.key
        # drop the pjsua2 wrapper outside of its own callback
        self.timers.at(now, lambda: self._release(key))

    def _release(self, key: str) -> None:
        rec = self.calls.get(key)
        if rec is not None:
            rec.call = None
        self._prune()

    def _setup_timed_out(self, key: str, timeout_s: float) -> None:
        rec = self.calls.get(key)
        if rec is None or rec.connected_at is not None or rec.ended_at is not None:
            return
        rec.timed_out_after = timeout_s
        try:
            self.hangup(key)
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
        return CallStats(
            call_id=rec.key,
            invite_to_provisional_ms=_ms(rec.invite_at, rec.provisional_at),
            invite_to_ringing_ms=_ms(rec.invite_at, rec.ringing_at),
            invite_to_200_ms=_ms(rec.invite_at, rec.ok_at),
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

    def _prune(self) -> None:
        finished = [k for k, r in self.calls.items() if r.call is None and r.ended_at is not None]
        for key in finished[: max(0, len(finished) - _KEEP_FINISHED)]:
            del self.calls[key]
