"""The one call controller: a call's life decided from its events, for SIP and H.323 alike.

:class:`CallMachine` is the decision part, without I/O: it takes call events
(:mod:`signaling.callevents`) and an explicit clock and returns decisions (:class:`Hangup`,
:class:`Answered`, :class:`Finished`). It knows the rules every caller of the gateway shares:

- no answer by ``answer_timeout_s``: hang up, the call ends as a timeout (made locally);
- answered but no media within ``media_timeout_s`` (no common codec, a 200 without SDP that
  pjsip refused): hang up, the call *failed* although it was answered;
- ``hold_s`` after the media came up (``crcgw dial``, test-dial): hang up;
- after a hang-up, no end reported within ``end_timeout_s``: the call ends locally;
- events are kept in ``seq`` order: a state event older than the newest one seen, and anything
  after the end, is ignored.

:class:`CallControl` is the I/O edge: it places calls on a :class:`CallLeg` (the SIP engine or
pool, the H.323 dialler: :mod:`gateway.calllegs`), is fed the events each leg *pushes* to its
listener (nothing polls), arms one timer per call at the machine's next deadline and carries out
the decisions. The daemon (:mod:`gateway.calls`), ``crcgw dial`` and ``crcgw test-dial`` use it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from signaling.callevents import CallEvent, Cause, EventKind
from signaling.callevents import Protocol as CallProtocol
from signaling.dialstring import DialTarget, IvrStep
from signaling.dialstring.ivr import DEFAULT_FIRST_DELAY_S, DEFAULT_GAP_S, split_for_ivr
from signaling.sip.config import CallOptions
from signaling.sip.types import CauseOrigin

__all__ = [
    "Answered",
    "CallControl",
    "CallLeg",
    "CallMachine",
    "CallPolicy",
    "ControlledCall",
    "Decision",
    "Finished",
    "Hangup",
    "PlannedDial",
    "outcome_of",
    "planned_dial",
]

log = logging.getLogger(__name__)

UNKNOWN_KEPT = 256
"""Events of call ids not (yet) known to the controller kept for a call whose id comes back
after its first events (the engine's answer to ``dial`` can follow them)."""

_STATE_RANK = {EventKind.PROGRESS: 1, EventKind.RINGING: 2, EventKind.ANSWERED: 3,
               EventKind.ENDED: 4}
_MEDIA = (EventKind.MEDIA_UP, EventKind.MEDIA_DOWN, EventKind.DTMF)
_SIP_OUTCOMES = {486: "busy", 600: "busy", 408: "timeout", 480: "timeout", 487: "cancelled"}
_H323_OUTCOMES = {17: "busy", 18: "timeout", 19: "timeout", 102: "timeout"}


def outcome_of(cause: Cause | None, connected: bool) -> str:
    """The CDR outcome of a call that ended with ``cause`` (``connected``: answered with
    media)."""
    if connected:
        return "connected"
    if cause is None or cause.code is None:
        return "failed"
    table = _SIP_OUTCOMES if cause.protocol == "sip" else _H323_OUTCOMES
    return table.get(cause.code, "failed")


@dataclass(frozen=True, slots=True)
class PlannedDial:
    """What goes on the wire for a dial request, built once on the way in: ``dial`` (without
    passcode and host key when they go by IVR), ``steps`` (the IVR entries) and ``shown`` (the
    dial string without secrets, for logs, ports and CDRs)."""

    dial: DialTarget | str
    shown: str
    steps: tuple[IvrStep, ...] = ()


def planned_dial(
    target: DialTarget | str, *, ivr: bool, first_delay_s: float = DEFAULT_FIRST_DELAY_S,
    gap_s: float = DEFAULT_GAP_S,
) -> PlannedDial:
    """The dial of ``target`` (a Zoom dial target or any SIP URI); ``ivr``: passcode and host
    key by DTMF after answer (a Zoom target only; raises ``ValueError`` otherwise)."""
    if not isinstance(target, DialTarget):
        if ivr:
            raise ValueError("IVR entry needs a Zoom dial string or meeting ID, not a SIP URI")
        return PlannedDial(target, target)
    shown = target.without_secrets().dial_string()
    if not ivr:
        return PlannedDial(target, shown)
    dial, steps = split_for_ivr(target, first_delay_s=first_delay_s, gap_s=gap_s)
    return PlannedDial(dial, shown, steps)


@dataclass(frozen=True, slots=True)
class CallPolicy:
    answer_timeout_s: float = 60.0
    media_timeout_s: float = 5.0
    hold_s: float | None = None
    """Hang up this long after the media came up (``None``: stay until asked or ended)."""
    end_timeout_s: float = 40.0
    """After a hang-up, how long the leg has to report the end before it is made here."""


@dataclass(frozen=True, slots=True)
class Hangup:
    reason: str


@dataclass(frozen=True, slots=True)
class Answered:
    at: float
    cause_code: int | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    """The call is over: ``outcome`` for the CDR (``connected``, ``busy``, ``timeout``,
    ``cancelled``, ``failed``), ``connected`` when it was answered and media flowed."""

    at: float
    outcome: str
    cause: Cause
    connected: bool
    answered: bool


Decision = Hangup | Answered | Finished


class CallMachine:
    """One call's controller state; no I/O, time only from the ``now`` it is given."""

    def __init__(self, call_id: str, protocol: CallProtocol, policy: CallPolicy,
                 started_at: float) -> None:
        self.call_id = call_id
        self.protocol: CallProtocol = protocol
        self.policy = policy
        self.started_at = started_at
        self.state = "dialling"
        self.events: list[CallEvent] = []
        self.answered_at: float | None = None
        self.media_at: float | None = None
        self.codec: str | None = None
        self.finished: Finished | None = None
        self._state_seq = 0
        self._media_seq = 0
        self._hangup_at: float | None = None
        self._hangup_reason: str | None = None
        self._hangup_outcome: str | None = None

    # -- input -----------------------------------------------------------------------------------

    def feed(self, event: CallEvent, now: float) -> list[Decision]:
        """Take one event of this call; the decisions it leads to."""
        if self.finished is not None:
            return []  # a late event after the end
        if event.kind in _MEDIA:
            if event.seq <= self._media_seq:
                return []
            self._media_seq = event.seq
        else:
            if event.seq <= self._state_seq:
                return []  # older than the state already known
            self._state_seq = event.seq
        self.events.append(event)
        out: list[Decision] = []
        if event.kind is EventKind.MEDIA_UP:
            self.media_at = self.media_at or event.at
            self.codec = event.codec or self.codec
        elif event.kind in (EventKind.PROGRESS, EventKind.RINGING) and self.state == "dialling":
            self.state = "ringing" if event.kind is EventKind.RINGING else "dialling"
        elif event.kind is EventKind.ANSWERED and self.answered_at is None:
            self.answered_at = event.at
            self.state = "connected"
            out.append(Answered(event.at))
        elif event.kind is EventKind.ENDED:
            out.append(self._finish(event.at, event.cause))
        return out + self.tick(now)

    def hangup(self, now: float, reason: str = "hung up here",
               outcome: str | None = None) -> list[Decision]:
        """Asked to end the call (a person, the gateway stopping)."""
        if self.finished is not None or self._hangup_at is not None:
            return []
        self._hangup_at = now
        self._hangup_reason = reason
        self._hangup_outcome = outcome or ("cancelled" if self.answered_at is None else None)
        return [Hangup(reason)]

    def tick(self, now: float) -> list[Decision]:
        """The decisions the time ``now`` leads to (a deadline passed)."""
        if self.finished is not None:
            return []
        policy = self.policy
        if self._hangup_at is not None:
            if now >= self._hangup_at + policy.end_timeout_s:
                why = f"{self._hangup_reason}; the end was never reported"
                return [self._finish(now, Cause(self.protocol, None, why, CauseOrigin.LOCAL))]
            return []
        if self.answered_at is None:
            if now >= self.started_at + policy.answer_timeout_s:
                return self.hangup(now, f"no answer within {policy.answer_timeout_s:g} s",
                                   "timeout")
            return []
        if self.media_at is None:
            if now >= self.answered_at + policy.media_timeout_s:
                return self.hangup(now, f"answered, but no media within "
                                        f"{policy.media_timeout_s:g} s", "failed")
            return []
        if policy.hold_s is not None and now >= self._media_from() + policy.hold_s:
            return self.hangup(now, "hung up here after the call's duration")
        return []

    def next_deadline(self) -> float | None:
        """When :meth:`tick` may next decide something (``None``: only an event can)."""
        if self.finished is not None:
            return None
        policy = self.policy
        if self._hangup_at is not None:
            return self._hangup_at + policy.end_timeout_s
        if self.answered_at is None:
            return self.started_at + policy.answer_timeout_s
        if self.media_at is None:
            return self.answered_at + policy.media_timeout_s
        if policy.hold_s is not None:
            return self._media_from() + policy.hold_s
        return None

    @property
    def hung_up_here(self) -> bool:
        """Whether this side asked for the end (a BYE or Release Complete of ours)."""
        return self._hangup_at is not None

    # -- output ----------------------------------------------------------------------------------

    def _media_from(self) -> float:
        assert self.answered_at is not None and self.media_at is not None
        return max(self.answered_at, self.media_at)

    def _finish(self, at: float, cause: Cause | None) -> Finished:
        answered = self.answered_at is not None
        connected = answered and self.media_at is not None
        if cause is None:
            cause = Cause(self.protocol, None, "ended", CauseOrigin.LOCAL)
        outcome = outcome_of(cause, connected)
        if self._hangup_reason is not None:
            # our decision ended it: say why, as made here, whatever code the leg reported
            reason = cause.reason
            if self._hangup_reason not in reason:
                reason = f"{self._hangup_reason} ({reason})" if reason else self._hangup_reason
            cause = Cause(cause.protocol, cause.code, reason, CauseOrigin.LOCAL)
            if not connected and self._hangup_outcome is not None:
                outcome = self._hangup_outcome
        elif answered and not connected:
            cause = Cause(cause.protocol, cause.code,
                          f"answered without media: {cause.reason}".strip(), cause.origin)
        self.state = "ended"
        self.finished = Finished(at, outcome, cause, connected, answered)
        return self.finished


class CallLeg(Protocol):
    """A protocol's calls as the controller sees them (:mod:`gateway.calllegs`)."""

    protocol: CallProtocol

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        """Push every call event of this leg to ``listener`` (on the event loop)."""
        ...

    async def place(self, target: DialTarget | str, endpoint: str | None,
                    options: CallOptions, ivr: Sequence[IvrStep]) -> str: ...

    async def hangup(self, call_id: str) -> None: ...

    async def media_report(self, call_id: str) -> dict[str, Any] | None:
        """What the media did (codec, packets, loss, jitter), asked once at the end."""
        ...


@dataclass
class ControlledCall:
    """A call the controller follows; :meth:`wait` for its end."""

    call_id: str
    leg: CallLeg
    machine: CallMachine
    done: asyncio.Future[Finished]
    listeners: list[Callable[[CallEvent], None]] = field(default_factory=list)
    on_decision: Callable[[ControlledCall, Decision], None] | None = None
    media: dict[str, Any] | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    async def wait(self, timeout: float | None = None) -> Finished:
        return await asyncio.wait_for(asyncio.shield(self.done), timeout)


class CallControl:
    """Places calls on legs and follows each with a :class:`CallMachine`, fed by the events the
    legs push. ``clock`` is the monotonic clock the events' ``at`` use."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.calls: dict[str, ControlledCall] = {}
        self._legs: list[CallLeg] = []
        self._unknown: OrderedDict[str, list[CallEvent]] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()

    def attach(self, leg: CallLeg) -> None:
        """Listen to ``leg`` (once per leg)."""
        if any(known is leg for known in self._legs):
            return
        self._legs.append(leg)
        leg.subscribe(self._on_event)

    async def place(
        self,
        leg: CallLeg,
        target: DialTarget | str,
        *,
        endpoint: str | None = None,
        options: CallOptions | None = None,
        ivr: Sequence[IvrStep] = (),
        policy: CallPolicy | None = None,
        listener: Callable[[CallEvent], None] | None = None,
        on_decision: Callable[[ControlledCall, Decision], None] | None = None,
    ) -> ControlledCall:
        """Dial ``target`` on ``leg``; the call, followed from its first event."""
        self.attach(leg)
        options = options or CallOptions()
        policy = policy or CallPolicy(answer_timeout_s=options.timeout_s)
        started = self.clock()
        call_id = await leg.place(target, endpoint, options, ivr)
        machine = CallMachine(call_id, leg.protocol, policy, started)
        loop = asyncio.get_running_loop()
        call = ControlledCall(call_id, leg, machine, loop.create_future(),
                              [listener] if listener else [], on_decision)
        self.calls[call_id] = call
        for event in self._unknown.pop(call_id, []):
            self._feed(call, event)
        if not call.done.done():
            self._arm(call)
        return call

    def hangup(self, call: ControlledCall, reason: str = "hung up here") -> None:
        """Ask for the end of ``call``; :meth:`ControlledCall.wait` for it."""
        self._act(call, call.machine.hangup(self.clock(), reason))

    # -- events in -------------------------------------------------------------------------------

    def _on_event(self, event: CallEvent) -> None:
        call = self.calls.get(event.call_id)
        if call is None:
            self._unknown.setdefault(event.call_id, []).append(event)
            self._unknown.move_to_end(event.call_id)
            while len(self._unknown) > UNKNOWN_KEPT:
                self._unknown.popitem(last=False)
            return
        self._feed(call, event)

    def _feed(self, call: ControlledCall, event: CallEvent) -> None:
        before = len(call.machine.events)
        decisions = call.machine.feed(event, self.clock())
        if len(call.machine.events) > before:
            for listener in call.listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("call event listener failed")
        self._act(call, decisions)

    def _tick(self, call: ControlledCall) -> None:
        call.timer = None
        self._act(call, call.machine.tick(self.clock()))

    # -- decisions out ---------------------------------------------------------------------------

    def _act(self, call: ControlledCall, decisions: list[Decision]) -> None:
        for decision in decisions:
            if call.on_decision is not None:
                try:
                    call.on_decision(call, decision)
                except Exception:
                    log.exception("call decision hook failed")
            if isinstance(decision, Hangup):
                self._spawn(self._hangup(call), f"hangup-{call.call_id}")
            elif isinstance(decision, Finished):
                self._spawn(self._close(call, decision), f"close-{call.call_id}")
        if call.machine.finished is None:
            self._arm(call)
        elif call.timer is not None:
            call.timer.cancel()
            call.timer = None

    def _arm(self, call: ControlledCall) -> None:
        if call.timer is not None:
            call.timer.cancel()
            call.timer = None
        deadline = call.machine.next_deadline()
        if deadline is not None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, deadline - self.clock()) + 0.001
            call.timer = loop.call_later(delay, self._tick, call)

    def _spawn(self, work: Any, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _hangup(self, call: ControlledCall) -> None:
        try:
            await call.leg.hangup(call.call_id)
        except Exception as exc:  # noqa: BLE001 - it ended meanwhile, or its engine is gone
            log.info("call %s: hang-up not sent: %s", call.call_id, exc)

    async def _close(self, call: ControlledCall, finished: Finished) -> None:
        try:
            call.media = await asyncio.wait_for(call.leg.media_report(call.call_id), 10)
        except Exception as exc:  # noqa: BLE001 - the report is a bonus; the end counts
            log.info("call %s: no media report: %s", call.call_id, exc)
        self.calls.pop(call.call_id, None)
        if not call.done.done():
            call.done.set_result(finished)

    async def close(self) -> None:
        """Wait for the hang-ups and end reports under way."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
