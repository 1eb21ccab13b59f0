"""Drivers for the SIP state machines in unit tests: a fake clock and a fake stack."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from signaling.sip.callio import (
    CallInput,
    CallTimers,
    Command,
    HangupCall,
    InvState,
    ReadRtp,
    RtpCount,
    StateSeen,
    WireSeen,
)
from signaling.sip.callmachine import SipCall
from signaling.sip.dtmf import DtmfSend
from signaling.sip.events import CallStateChanged, EngineEvent
from signaling.sip.types import CallPhase, Direction
from signaling.sip.wire import CallWire, WireMessage

CID = "abc@host"


def wire(
    at: float,
    sent: bool,
    method: str,
    code: int | None = None,
    cseq: int = 1,
    **extra: object,
) -> WireSeen:
    return WireSeen(WireMessage(at, sent, method, cseq, CID, code, "", **extra))  # type: ignore[arg-type]


@dataclass
class Driver:
    """Feeds one :class:`SipCall` and keeps everything it said. ``stack`` plays the SIP
    stack: a hang-up becomes DISCONNECTED (487 before answer, 200 after) and a BYE on the
    wire; a counter read answers ``rx``."""

    call: SipCall
    now: float = 0.0
    commands: list[Command] = field(default_factory=list)
    events: list[EngineEvent] = field(default_factory=list)
    stack: bool = False
    rx: int = 0

    @classmethod
    def outgoing(
        cls, timers: CallTimers | None = None, plan: tuple[DtmfSend, ...] = (), **kw: object
    ) -> Driver:
        seq = itertools.count(1)
        call = SipCall(
            "call-1",
            "room",
            Direction.OUTGOING,
            timers or CallTimers(setup_timeout_s=60),
            seq.__next__,
            plan=plan,
            wire=CallWire(),
        )
        driver = cls(call, **kw)  # type: ignore[arg-type]
        driver._take(call.dial(driver.now))
        return driver

    def _take(self, step: tuple[list[Command], list[EngineEvent]]) -> None:
        commands, events = step
        self.commands += commands
        self.events += events
        if self.stack:
            for command in commands:
                self._play(command)

    def _play(self, command: Command) -> None:
        if isinstance(command, HangupCall) and not self.call.ended:
            answered = self.call.confirmed_at is not None
            if answered:
                self.feed(wire(self.now, True, "BYE", cseq=9))
            self.feed(StateSeen(InvState.DISCONNECTED, 200 if answered else 487, ""))
        elif isinstance(command, ReadRtp):
            self.feed(RtpCount(self.rx))

    def feed(self, event: CallInput) -> Driver:
        self._take(self.call.handle(event, self.now))
        return self

    def at(self, now: float) -> Driver:
        """Advance the clock to ``now``, running every timeout due on the way."""
        while True:
            due = self.call.deadline
            if due is None or due > now:
                break
            self.now = max(self.now, due)
            self._take(self.call.tick(self.now))
        self.now = max(self.now, now)
        return self

    def phases(self) -> list[CallPhase]:
        return [e.phase for e in self.events if isinstance(e, CallStateChanged)]

    def last_state(self) -> CallStateChanged:
        return [e for e in self.events if isinstance(e, CallStateChanged)][-1]

    def of(self, kind: type) -> list[object]:
        return [c for c in self.commands if isinstance(c, kind)] + [
            e for e in self.events if isinstance(e, kind)
        ]
