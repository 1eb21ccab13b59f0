"""The call controller's decisions (gateway.callcontrol), fed events with a fake clock, and the
translators into the call-event vocabulary (signaling.callevents)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from gateway.callcontrol import (
    Answered,
    CallControl,
    CallMachine,
    CallPolicy,
    Finished,
    Hangup,
)
from signaling.callevents import CallEvent, Cause, EventKind, Sequencer, from_h323, from_sip
from signaling.dialstring import DialTarget, IvrStep
from signaling.h323.call import CallEvent as H323Event
from signaling.sip.config import CallOptions
from signaling.sip.events import CallStateChanged, DtmfReceived, MediaStateChanged
from signaling.sip.types import CallPhase, CauseOrigin, DtmfMethod


class Story:
    """Events of one call, numbered in order, at times the test chooses."""

    def __init__(self, protocol: str = "sip") -> None:
        self.seq = 0
        self.protocol = protocol

    def __call__(self, kind: EventKind, at: float, cause: Cause | None = None,
                 seq: int | None = None) -> CallEvent:
        self.seq += 1
        return CallEvent("c1", kind, at, self.seq if seq is None else seq,
                         self.protocol,  # type: ignore[arg-type]
                         cause, codec="PCMU" if kind is EventKind.MEDIA_UP else None)


def received(code: int, reason: str, protocol: str = "sip") -> Cause:
    return Cause(protocol, code, reason, CauseOrigin.RECEIVED)  # type: ignore[arg-type]


def machine(**policy: Any) -> CallMachine:
    return CallMachine("c1", "sip", CallPolicy(**{"answer_timeout_s": 30, **policy}), 0.0)


def test_ringing_answered_media_ended_is_a_connected_call() -> None:
    m, ev = machine(), Story()
    assert m.feed(ev(EventKind.PROGRESS, 0.01), 0.01) == []
    assert m.feed(ev(EventKind.RINGING, 0.5), 0.5) == [] and m.state == "ringing"
    assert m.feed(ev(EventKind.ANSWERED, 2.0), 2.0) == [Answered(2.0)]
    assert m.state == "connected" and m.next_deadline() == 2.0 + 5.0  # media wanted by then
    m.feed(ev(EventKind.MEDIA_UP, 2.1), 2.1)
    assert m.next_deadline() is None and m.tick(1000.0) == []  # no hold: stays up
    out = m.feed(ev(EventKind.ENDED, 60.0, received(200, "BYE from the far end")), 60.0)
    assert out == [Finished(60.0, "connected", received(200, "BYE from the far end"), True, True)]
    assert [e.kind for e in m.events] == [EventKind.PROGRESS, EventKind.RINGING,
                                          EventKind.ANSWERED, EventKind.MEDIA_UP, EventKind.ENDED]


def test_failure_causes_keep_whether_received_or_local() -> None:
    m, ev = machine(), Story()
    busy = m.feed(ev(EventKind.ENDED, 1.0, received(486, "Busy Here")), 1.0)
    assert busy == [Finished(1.0, "busy", received(486, "Busy Here"), False, False)]
    m, ev = machine(), Story()
    local = Cause("sip", 408, "no response to the INVITE", CauseOrigin.LOCAL)
    (end,) = m.feed(ev(EventKind.ENDED, 32.0, local), 32.0)
    assert isinstance(end, Finished) and end.outcome == "timeout"
    assert end.cause.origin is CauseOrigin.LOCAL
    m = CallMachine("c1", "h323", CallPolicy(), 0.0)
    ev = Story("h323")
    (end,) = m.feed(ev(EventKind.ENDED, 1.0, received(17, "user busy", "h323")), 1.0)
    assert isinstance(end, Finished) and end.outcome == "busy"
    assert end.cause.text() == "cause 17 user busy (received)"


def test_no_answer_in_time_is_hung_up_here_and_ends_as_a_local_timeout() -> None:
    m, ev = machine(answer_timeout_s=10), Story()
    m.feed(ev(EventKind.RINGING, 1.0), 1.0)
    assert m.tick(9.9) == [] and m.next_deadline() == 10.0
    assert m.tick(10.0) == [Hangup("no answer within 10 s")]
    assert m.tick(11.0) == []  # asked once
    (end,) = m.feed(ev(EventKind.ENDED, 10.1, Cause("sip", 487, "Request Terminated",
                                                    CauseOrigin.RECEIVED)), 10.1)
    assert isinstance(end, Finished) and end.outcome == "timeout" and not end.answered
    assert end.cause.origin is CauseOrigin.LOCAL and "no answer within 10 s" in end.cause.reason


def test_answered_without_media_is_a_failed_call() -> None:
    """The far end answered with no common codec: pjsip ends it itself (415, made here)."""
    m, ev = machine(), Story()
    m.feed(ev(EventKind.ANSWERED, 1.0), 1.0)
    pjsip = Cause("sip", 415, "Unsupported Media Type", CauseOrigin.LOCAL)
    (end,) = m.feed(ev(EventKind.ENDED, 1.01, pjsip), 1.01)
    assert isinstance(end, Finished)
    assert (end.outcome, end.connected, end.answered) == ("failed", False, True)
    assert end.cause.reason.startswith("answered without media")
    # and when nothing ends it, the controller does after media_timeout_s
    m, ev = machine(media_timeout_s=3), Story()
    m.feed(ev(EventKind.ANSWERED, 1.0), 1.0)
    assert m.tick(3.9) == []
    assert m.tick(4.0) == [Hangup("answered, but no media within 3 s")]
    (end,) = m.feed(ev(EventKind.ENDED, 4.1, Cause("sip", 200, "OK", CauseOrigin.RECEIVED)), 4.1)
    assert isinstance(end, Finished) and end.outcome == "failed" and not end.connected


def test_events_out_of_order_and_after_the_end_are_ignored() -> None:
    m = machine()
    m.feed(CallEvent("c1", EventKind.ANSWERED, 2.0, 20, "sip"), 2.0)
    # a ringing that was sent before the answer but arrives after it
    assert m.feed(CallEvent("c1", EventKind.RINGING, 1.0, 10, "sip"), 2.1) == []
    assert m.state == "connected" and [e.seq for e in m.events] == [20]
    m.feed(CallEvent("c1", EventKind.MEDIA_UP, 2.0, 15, "sip", codec="PCMA"), 2.2)  # own order
    assert m.media_at == 2.0
    end = m.feed(CallEvent("c1", EventKind.ENDED, 5.0, 30, "sip", received(200, "BYE")), 5.0)
    assert isinstance(end[0], Finished)
    late = CallEvent("c1", EventKind.ENDED, 6.0, 40, "sip",
                     Cause("sip", 500, "late", CauseOrigin.LOCAL))
    assert m.feed(late, 6.0) == [] and m.feed(CallEvent("c1", EventKind.MEDIA_DOWN, 6.0, 41,
                                                        "sip"), 6.0) == []
    assert m.finished is not None and m.finished.cause.code == 200 and len(m.events) == 3


def test_hold_hangs_up_after_the_duration_and_a_lost_end_is_made_here() -> None:
    m, ev = machine(hold_s=5, end_timeout_s=8), Story()
    m.feed(ev(EventKind.ANSWERED, 1.0), 1.0)
    m.feed(ev(EventKind.MEDIA_UP, 1.2), 1.2)
    assert m.next_deadline() == pytest.approx(6.2)
    assert m.tick(6.2) == [Hangup("hung up here after the call's duration")]
    assert m.next_deadline() == pytest.approx(14.2)
    (end,) = m.tick(14.2)
    assert isinstance(end, Finished) and end.outcome == "connected"
    assert end.cause.origin is CauseOrigin.LOCAL and "never reported" in end.cause.reason


def test_a_person_hanging_up_before_the_answer_cancels() -> None:
    m, ev = machine(), Story()
    m.feed(ev(EventKind.RINGING, 1.0), 1.0)
    assert m.hangup(2.0) == [Hangup("hung up here")]
    (end,) = m.feed(ev(EventKind.ENDED, 2.1, Cause("sip", 487, "Request Terminated",
                                                   CauseOrigin.LOCAL)), 2.1)
    assert isinstance(end, Finished) and end.outcome == "cancelled"


def test_sip_engine_events_translate() -> None:
    end = from_sip(CallStateChanged(3.0, "1/c", "room", CallPhase.DISCONNECTED, 415,
                                    "Unsupported Media Type", seq=99,
                                    explanation="no common codec", origin=CauseOrigin.LOCAL))
    assert end is not None and end.kind is EventKind.ENDED and end.seq == 99
    assert end.cause == Cause("sip", 415, "no common codec", CauseOrigin.LOCAL)
    ring = from_sip(CallStateChanged(1.0, "1/c", "room", CallPhase.EARLY_MEDIA, 183, "Progress",
                                     seq=5))
    assert ring is not None and ring.kind is EventKind.RINGING
    assert from_sip(CallStateChanged(1.0, "1/c", "room", CallPhase.CALLING, seq=4)) is None
    media = from_sip(MediaStateChanged(2.0, "1/c", True, "PCMU", 8000))
    assert media is not None and media.kind is EventKind.MEDIA_UP and media.codec == "PCMU"
    assert media.seq == 2_000_000_000
    digit = from_sip(DtmfReceived(2.5, "1/c", "5", DtmfMethod.RFC4733))
    assert digit is not None and digit.kind is EventKind.DTMF and digit.digit == "5"


def test_h323_events_translate_and_are_numbered_in_order() -> None:
    seq = Sequencer()
    a, b = seq.next(1.0), seq.next(1.0)
    assert b > a
    said = from_h323("h", H323Event("alerting"), 1.0, a)
    assert said is not None and said.kind is EventKind.RINGING and said.protocol == "h323"
    up = from_h323("h", H323Event("fast-start", reason="PCMU", detail="127.0.0.1:4000"), 1.0, b)
    assert up is not None and up.kind is EventKind.MEDIA_UP and up.codec == "PCMU"
    end = from_h323("h", H323Event("released", 17, "inConf"), 2.0, seq.next())
    assert end is not None and end.cause is not None
    assert end.cause.origin is CauseOrigin.RECEIVED and end.cause.code == 17
    assert from_h323("h", H323Event("h245-ready"), 2.0, seq.next()) is None


class PushLeg:
    """A leg whose events the test pushes (as the engines' listeners do)."""

    protocol = "sip"

    def __init__(self) -> None:
        self.listeners: list[Callable[[CallEvent], None]] = []
        self.hangups: list[str] = []
        self.early: list[CallEvent] = []

    def subscribe(self, listener: Callable[[CallEvent], None]) -> None:
        self.listeners.append(listener)

    def push(self, event: CallEvent) -> None:
        for listener in self.listeners:
            listener(event)

    async def place(self, target: DialTarget | str, endpoint: str | None,
                    options: CallOptions, ivr: Sequence[IvrStep]) -> str:
        for event in self.early:  # events that arrive before dial() returns the id
            self.push(event)
        return "c1"

    async def hangup(self, call_id: str) -> None:
        self.hangups.append(call_id)

    async def media_report(self, call_id: str) -> dict[str, Any] | None:
        return {"rx_packets": 10}


def test_the_controller_follows_pushed_events_and_acts_on_its_timers() -> None:
    async def scenario() -> tuple[Finished, PushLeg, list[EventKind], dict[str, Any] | None]:
        leg = PushLeg()
        loop = asyncio.get_running_loop()
        leg.early = [CallEvent("c1", EventKind.RINGING, loop.time(), 1, "sip")]
        control = CallControl(clock=loop.time)
        seen: list[EventKind] = []
        call = await control.place(leg, "sip:x@127.0.0.1",  # type: ignore[arg-type]
                                   policy=CallPolicy(answer_timeout_s=30, hold_s=0.2),
                                   listener=lambda e: seen.append(e.kind))
        leg.push(CallEvent("c1", EventKind.ANSWERED, loop.time(), 2, "sip"))
        leg.push(CallEvent("c1", EventKind.MEDIA_UP, loop.time(), 3, "sip", codec="PCMU"))
        for _ in range(200):  # the hold timer asks the leg to hang up
            if leg.hangups:
                break
            await asyncio.sleep(0.05)
        leg.push(CallEvent("c1", EventKind.ENDED, loop.time(), 4, "sip",
                           Cause("sip", 200, "OK", CauseOrigin.RECEIVED)))
        finished = await call.wait(10)
        await control.close()
        return finished, leg, seen, call.media

    finished, leg, seen, media = asyncio.run(scenario())
    assert leg.hangups == ["c1"]
    assert seen == [EventKind.RINGING, EventKind.ANSWERED, EventKind.MEDIA_UP, EventKind.ENDED]
    assert finished.outcome == "connected" and finished.cause.origin is CauseOrigin.LOCAL
    assert media == {"rx_packets": 10}
