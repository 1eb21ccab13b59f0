"""One SIP call as a state machine without I/O: ``handle(event, now) -> (commands, events)``.

The pjsua2 adapter (:mod:`signaling.pjsua._calls`) turns each pjsua2 callback and each SIP
message its wire tap saw into an input below, executes the :data:`Command` values the machine
returns as pjsua2 calls, and hands the :data:`~signaling.sip.events.EngineEvent` values to the
rest of the program. Time only comes in as ``now``: the machine's own timeouts are due at
:attr:`SipCall.deadline`, when the adapter calls :meth:`SipCall.tick`.

The machine holds the phases (calling, trying, ringing/early media, connecting, connected,
disconnected), the set-up and ring timeouts, the DTMF/IVR schedule after answer, the
"answered but no audio" grace, RTP inactivity, RFC 4028 session
timers (:mod:`signaling.sip.sessiontimer`), the BYE's outcome, and the cause of the end with
whether it was received from the far end or made on this side.
"""

from __future__ import annotations

from collections.abc import Callable

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
from signaling.sip.dtmf import DtmfSend
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
from signaling.sip.sessiontimer import SessionTimer
from signaling.sip.types import CallPhase, CauseOrigin, Direction, DtmfMethod
from signaling.sip.wire import CallWire, WireMessage

__all__ = ["SipCall"]

_RINGING_CODES = (180, 181, 182, 183)
_EARLY = (CallPhase.CALLING, CallPhase.TRYING, CallPhase.RINGING)
_SESSION_SLACK_S = 1.0
"""The stack's own session-timer BYE and ours are due at the same moment: a DISCONNECTED
this close to the session's end is the session's expiry."""
_SESSION_GRACE_S = 2.0
"""After the session's end, the machine hangs up itself if the stack has not."""


def _ms(start: float | None, end: float | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start) * 1000, 3)


class SipCall:
    """One call, outgoing (:meth:`dial`) or incoming (:meth:`offered`)."""

    def __init__(
        self,
        key: str,
        endpoint: str,
        direction: Direction,
        timers: CallTimers,
        stamp: Callable[[], int],
        *,
        remote_uri: str = "",
        plan: tuple[DtmfSend, ...] = (),
        dtmf_method: DtmfMethod = DtmfMethod.RFC4733,
        wire: CallWire | None = None,
    ) -> None:
        """``stamp`` gives each status its ``seq`` (the adapter's ordering source)."""
        self.key = key
        self.endpoint = endpoint
        self.direction = direction
        self.timers = timers
        self.remote_uri = remote_uri
        self.plan = plan
        self.dtmf_method = dtmf_method
        self.wire = wire
        self._stamp = stamp
        self.phase: CallPhase | None = None
        self.invite_at: float | None = None
        self.provisional_at: float | None = None
        self.ringing_at: float | None = None
        self.ok_at: float | None = None
        self.confirmed_at: float | None = None
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self.hung_up_at: float | None = None
        self.local_cause: str | None = None
        self.timed_out_after: float | None = None
        self.end_code: int | None = None
        self.origin: CauseOrigin | None = None
        self.audio = False
        self.codec: str | None = None
        self.clock_rate: int | None = None
        self.srtp = False
        self.bye_done = False
        self.session = SessionTimer(timers.session) if timers.session else None
        self.rtp_watch: RtpWatch | None = None
        self._due: dict[str, float] = {}
        self._digits: list[tuple[float, DtmfSend]] = []

    # -- the clock ---------------------------------------------------------------------------

    @property
    def deadline(self) -> float | None:
        """When :meth:`tick` should next run (``None``: nothing is due)."""
        times = [*self._due.values(), *(at for at, _ in self._digits)]
        return min(times) if times else None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def ending(self) -> bool:
        """This side asked for the end (hang-up, a timeout); the stack has not ended it yet."""
        return self.hung_up_at is not None and not self.ended

    @property
    def finished(self) -> bool:
        """Ended, and nothing more to wait for (the BYE's outcome is known or none was sent)."""
        return self.ended and "bye" not in self._due

    def tick(self, now: float) -> Step:
        """Run every timeout due by ``now``, in order."""
        commands: list[Command] = []
        events: list[EngineEvent] = []
        while True:
            due = self.deadline
            if due is None or due > now:
                return commands, events
            self._fire(due, now, commands, events)

    def _fire(
        self, due: float, now: float, commands: list[Command], events: list[EngineEvent]
    ) -> None:
        if self._digits and self._digits[0][0] == due:
            _, step = self._digits.pop(0)
            if not self.ended:
                commands.append(SendDigits(step, self.dtmf_method))
            return
        name = min(self._due, key=lambda n: self._due[n])
        del self._due[name]
        if name == "setup":
            self._setup_timed_out(due, commands)
        elif name == "no_media":
            if self.connected_at is None and not self.ended:
                cause = "the call was answered but no audio was negotiated"
                self._end_locally(cause, due, commands)
        elif name == "rtp":
            if not self.ended and self.rtp_watch is not None:
                commands.append(ReadRtp())  # one read, however late the tick
                self._due["rtp"] = now + self.timers.rtp_check_s
        elif name == "bye":
            self._bye_timed_out(due, events)
        elif name == "session":
            self._session_check(due, commands)

    # -- starting ----------------------------------------------------------------------------

    def dial(self, now: float) -> Step:
        """The INVITE is about to leave."""
        self.invite_at = now
        if self.timers.setup_timeout_s is not None:
            self._due["setup"] = now + self.timers.setup_timeout_s
        return [], []

    def offered(self, now: float, local_uri: str, auto_answer: bool) -> Step:
        """An INVITE came in: announce it, then ring (or answer at once)."""
        self.phase = CallPhase.INCOMING
        event = IncomingCall(now, self.key, self.endpoint, self.remote_uri, local_uri)
        if not auto_answer and self.timers.setup_timeout_s is not None:
            self._due["setup"] = now + self.timers.setup_timeout_s
        return [AnswerCall(200 if auto_answer else 180)], [event]

    # -- inputs ------------------------------------------------------------------------------

    def handle(self, event: CallInput, now: float) -> Step:
        commands: list[Command] = []
        events: list[EngineEvent] = []
        if isinstance(event, StateSeen):
            self._state(event, now, commands, events)
        elif isinstance(event, MediaSeen):
            self._media(event, now, events)
        elif isinstance(event, WireSeen):
            self._wire(event.msg, events)
        elif isinstance(event, InviteAnswered):
            self._invite_answered(event.code, now, events)
        elif isinstance(event, RtpCount):
            self._rtp(event.rx_packets, now, commands)
        elif isinstance(event, DtmfSeen):
            events.append(DtmfReceived(now, self.key, event.digit, event.method, event.duration_ms))
        elif isinstance(event, HangupAsked):
            self._note_end_asked(now, event.cause)
            commands.append(HangupCall(event.code))
        return commands, events

    def _set_phase(
        self,
        phase: CallPhase,
        code: int | None,
        reason: str,
        now: float,
        events: list[EngineEvent],
        explanation: str | None = None,
        origin: CauseOrigin | None = None,
    ) -> None:
        if self.phase is phase:
            return
        self.phase = phase
        events.append(
            CallStateChanged(
                now,
                self.key,
                self.endpoint,
                phase,
                code,
                reason,
                self.direction,
                self.remote_uri,
                explanation,
                seq=self._stamp(),
                origin=origin,
            )
        )

    def _state(
        self, seen: StateSeen, now: float, commands: list[Command], events: list[EngineEvent]
    ) -> None:
        if self.ended:
            return  # late or repeated: the call's end is told once
        if seen.remote_uri:
            self.remote_uri = seen.remote_uri
        code, reason = seen.code, seen.reason
        if seen.state is InvState.CALLING:
            self._set_phase(CallPhase.CALLING, None, "", now, events)
        elif seen.state is InvState.EARLY:
            early = code == 183 or self.audio
            phase = CallPhase.EARLY_MEDIA if early else CallPhase.RINGING
            self._set_phase(phase, code, reason, now, events)
        elif seen.state is InvState.CONNECTING:
            self._set_phase(CallPhase.CONNECTING, code, reason, now, events)
        elif seen.state is InvState.CONFIRMED:
            if self.confirmed_at is None:
                self.confirmed_at = now
                if self.audio:
                    self._connected(code, reason, now, events)
                else:  # answered without audio (no common codec, no SDP): the stack ends it
                    self._due["no_media"] = now + self.timers.no_media_grace_s
        elif seen.state is InvState.DISCONNECTED:
            self._disconnected(code, reason, now, commands, events)

    def _invite_answered(self, code: int, now: float, events: list[EngineEvent]) -> None:
        if self.ended:
            return
        if code < 200:
            if self.provisional_at is None:
                self.provisional_at = now
            if code in _RINGING_CODES and self.ringing_at is None:
                self.ringing_at = now
            if code == 100 and self.phase is CallPhase.CALLING:
                self._set_phase(CallPhase.TRYING, code, "Trying", now, events)
        elif code < 300 and self.ok_at is None:
            self.ok_at = now

    def _media(self, seen: MediaSeen, now: float, events: list[EngineEvent]) -> None:
        if seen.active:
            self.audio = True
            self.codec, self.clock_rate, self.srtp = seen.codec, seen.clock_rate, seen.srtp
        events.append(
            MediaStateChanged(now, self.key, seen.active, self.codec, self.clock_rate, self.srtp)
        )
        if not seen.active or self.ended:
            return
        if self.phase in _EARLY:
            self._set_phase(CallPhase.EARLY_MEDIA, seen.code, seen.reason, now, events)
        if self.confirmed_at is not None and self.connected_at is None:  # a late answer
            self._connected(seen.code, seen.reason, now, events)

    def _connected(
        self, code: int | None, reason: str, now: float, events: list[EngineEvent]
    ) -> None:
        self.connected_at = now
        self._due.pop("setup", None)
        self._due.pop("no_media", None)
        self._set_phase(CallPhase.CONNECTED, code, reason, now, events)
        self._watch_media(now)
        self._digits = sorted(
            ((now + step.at_s, step) for step in self.plan), key=lambda item: item[0]
        )
        self.plan = ()

    def _watch_media(self, now: float) -> None:
        """RTP inactivity, with or without a session timer: a far end that vanished (killed,
        unplugged) keeps no session alive, but its session timer runs for up to half an
        hour (RFC 4028's 1800 s), while the RTP check frees its port within seconds."""
        if self.timers.rtp_timeout_s is not None and self.rtp_watch is None:
            self.rtp_watch = RtpWatch(self.timers.rtp_timeout_s, now)
            self._due["rtp"] = now + self.timers.rtp_check_s

    def _rtp(self, rx_packets: int, now: float, commands: list[Command]) -> None:
        watch = self.rtp_watch
        if watch is None or self.ended or not watch.observe(rx_packets, now):
            return
        silent = watch.silent_s(now)
        self._due.pop("rtp", None)
        self._end_locally(f"no RTP from the far end for {silent:.0f} s", now, commands)

    # -- ending ------------------------------------------------------------------------------

    def _note_end_asked(self, now: float, cause: str | None) -> None:
        if self.hung_up_at is None:
            self.hung_up_at = now
            self.local_cause = cause

    def _end_locally(
        self, cause: str, now: float, commands: list[Command], code: int | None = None
    ) -> None:
        """This side ends the call for ``cause`` (a timeout, no media, a dead session)."""
        if self.ended:
            return
        self._note_end_asked(now, cause)
        commands.append(HangupCall(code))

    def _setup_timed_out(self, now: float, commands: list[Command]) -> None:
        if self.connected_at is not None or self.ended:
            return
        timeout = self.timers.setup_timeout_s or 0.0
        if self.direction is Direction.INCOMING:
            self._end_locally("nobody answered the incoming call in time", now, commands, 480)
        else:
            self.timed_out_after = timeout
            self._end_locally(f"no answer within {timeout:g} s", now, commands)

    def _disconnected(
        self,
        code: int | None,
        reason: str,
        now: float,
        commands: list[Command],
        events: list[EngineEvent],
    ) -> None:
        self.ended_at = now
        self.end_code = code
        for name in ("setup", "no_media", "rtp", "session"):
            self._due.pop(name, None)
        self._digits.clear()
        self.plan = ()
        origin = self.origin = self._origin(code)
        session_cause = self._session_cause(now)
        if session_cause is not None and origin is CauseOrigin.LOCAL and self.hung_up_at is None:
            self.local_cause = session_cause
        said = f"{code} {reason}, {'made locally' if origin is CauseOrigin.LOCAL else 'received'}"
        if self.timed_out_after is not None and self.connected_at is None:
            explanation: str | None = f"no answer within {self.timed_out_after:g} s ({said})"
        elif self.local_cause is not None:
            explanation = f"{self.local_cause} ({said})"
        else:
            explanation = explain_call_end(code, reason, self.connected_at is not None, origin)
        self._set_phase(CallPhase.DISCONNECTED, code, reason, now, events, explanation, origin)
        commands.append(ReleaseCall())

    def _origin(self, code: int | None) -> CauseOrigin:
        """Received only when the wire shows the far end ended it: its BYE/CANCEL came in
        before this side asked for the end, or ``code`` is the final response that arrived."""
        wire = self.wire
        if wire is not None and wire.far_end_ended_at is not None:
            if self.hung_up_at is None or wire.far_end_ended_at <= self.hung_up_at:
                return CauseOrigin.RECEIVED
        if self.hung_up_at is not None or wire is None:
            return CauseOrigin.LOCAL
        return CauseOrigin.RECEIVED if wire.received_final(code) else CauseOrigin.LOCAL

    # -- the wire: BYE outcome and session timers --------------------------------------------

    def _wire(self, msg: WireMessage, events: list[EngineEvent]) -> None:
        wire = self.wire
        answered = wire.add(msg) if wire is not None else False
        if msg.method in ("INVITE", "UPDATE"):
            self._session_wire(msg)
        if wire is None:
            return
        if msg.sent and msg.method == "BYE" and not msg.is_response and "bye" not in self._due:
            if not self.bye_done:
                self._due["bye"] = msg.at + self.timers.bye_timeout_s
        elif answered and wire.bye_response is not None and wire.bye_sent_at is not None:
            response = wire.bye_response
            ms = round((response.at - wire.bye_sent_at) * 1000, 3)
            outcome = ByeOutcome(
                response.at, self.key, response.code, response.reason, CauseOrigin.RECEIVED, ms
            )
            self._bye_done(outcome, events)

    def _bye_timed_out(self, now: float, events: list[EngineEvent]) -> None:
        wire = self.wire
        if wire is None or wire.bye_sent_at is None:
            return
        reason = f"no answer to the BYE within {self.timers.bye_timeout_s:g} s"
        ms = round((now - wire.bye_sent_at) * 1000, 3)
        self._bye_done(ByeOutcome(now, self.key, None, reason, CauseOrigin.LOCAL, ms), events)

    def _bye_done(self, outcome: ByeOutcome, events: list[EngineEvent]) -> None:
        if self.bye_done:
            return
        self.bye_done = True
        self._due.pop("bye", None)
        events.append(outcome)

    def _session_wire(self, msg: WireMessage) -> None:
        session = self.session
        if session is None or self.ended:
            return
        if not msg.is_response:
            if self.confirmed_at is not None:  # a re-INVITE or UPDATE: a refresh
                session.refresh_started(msg.at)
            return
        assert msg.code is not None
        if 200 <= msg.code < 300:
            # a 2xx we received answers our request; one we sent answers theirs
            session.answered(msg.session_expires, msg.refresher, not msg.sent, msg.at)
        elif msg.code == 422:
            session.too_small(msg.min_se)
        elif msg.code >= 300:
            session.refresh_pending_since = None  # refused (491, 500, ...): no refresh
        self._arm_session()

    def _arm_session(self) -> None:
        due = self.session.bye_due() if self.session is not None else None
        if due is None:
            self._due.pop("session", None)
        else:
            self._due["session"] = due + _SESSION_GRACE_S

    def _session_cause(self, now: float) -> str | None:
        """Why the session ended, when its timer ran out (or its refresh went unanswered)."""
        session = self.session
        if session is None or not session.active or session.interval_s is None:
            return None
        interval = f"{session.interval_s:g} s"
        if session.we_refresh and session.refresh_pending_since is not None:
            return f"the far end did not answer the session refresh (RFC 4028, {interval})"
        if session.expired(now + _SESSION_SLACK_S):
            if session.we_refresh:
                return f"the session was not refreshed within {interval} (RFC 4028)"
            return f"the far end did not refresh the session within {interval} (RFC 4028)"
        return None

    def _session_check(self, due: float, commands: list[Command]) -> None:
        if self.ended or self.session is None or not self.session.expired(due):
            return
        cause = self._session_cause(due) or "the session expired (RFC 4028)"
        self._end_locally(cause, due, commands)

    # -- statistics --------------------------------------------------------------------------

    def stats(self, figures: StreamFigures | None, now: float) -> CallStats:
        """Set-up times (from the wire where the tap saw the call) and media figures."""
        wire = self.wire
        if wire is not None and wire.invite_sent_at is not None:
            sent: float | None = wire.invite_sent_at
            marks = (wire.provisional_at, wire.ringing_at, wire.ok_at())
        else:  # no message seen (an engine without the tap): the callbacks' own clock
            sent, marks = self.invite_at, (self.provisional_at, self.ringing_at, self.ok_at)
        end = self.ended_at if self.ended_at is not None else now
        f = figures or StreamFigures()
        mean, top = f.jitter_mean_us, f.jitter_max_us
        return CallStats(
            call_id=self.key,
            invite_to_provisional_ms=_ms(sent, marks[0]),
            invite_to_ringing_ms=_ms(sent, marks[1]),
            invite_to_200_ms=_ms(sent, marks[2]),
            codec=self.codec,
            clock_rate=self.clock_rate,
            rx_packets=f.rx_packets,
            tx_packets=f.tx_packets,
            rx_lost=f.rx_lost,
            rx_jitter_ms=round(mean / 1000, 3) if mean is not None else None,
            rx_jitter_max_ms=round(top / 1000, 3) if top is not None else None,
            connected_s=round(end - self.connected_at, 3) if self.connected_at else None,
            srtp=self.srtp,
        )
