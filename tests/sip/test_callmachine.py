"""The SIP call machine without pjsua2: event sequences in, commands and events out, fake clock."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.sip.callio import (
    AnswerCall,
    CallTimers,
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
    StreamFigures,
)
from signaling.sip.callmachine import SipCall
from signaling.sip.dtmf import DtmfSend
from signaling.sip.events import (
    ByeOutcome,
    CallStateChanged,
    DtmfReceived,
    IncomingCall,
    MediaStateChanged,
)
from signaling.sip.sessiontimer import SessionTimerPolicy, TimerUse
from signaling.sip.types import CallPhase, CauseOrigin, Direction, DtmfMethod
from signaling.sip.wire import CallWire
from tests.sip.machines import Driver, wire

P = CallPhase
AUDIO = MediaSeen(True, "PCMU", 8000, code=200, reason="OK")
SESSION = SessionTimerPolicy(TimerUse.OPTIONAL, expires_s=90, min_se_s=90)


def answered(d: Driver, at: float = 0.1, **extra: object) -> Driver:
    """INVITE out, 100, 180, 200 (with ``extra`` on the 200), media, ACK: connected at ``at``."""
    d.feed(wire(0.0, True, "INVITE")).feed(StateSeen(InvState.CALLING))
    d.at(0.01).feed(wire(0.01, False, "INVITE", 100)).feed(InviteAnswered(100))
    d.at(0.02).feed(wire(0.02, False, "INVITE", 180)).feed(InviteAnswered(180))
    d.feed(StateSeen(InvState.EARLY, 180, "Ringing"))
    d.at(at).feed(wire(at, False, "INVITE", 200, **extra)).feed(InviteAnswered(200))
    d.feed(StateSeen(InvState.CONNECTING, 200, "OK")).feed(AUDIO)
    d.feed(StateSeen(InvState.CONFIRMED, 200, "OK"))
    return d


def test_a_normal_call_goes_through_every_phase_and_its_bye_is_answered() -> None:
    d = answered(Driver.outgoing())
    assert d.phases() == [P.CALLING, P.TRYING, P.RINGING, P.CONNECTING, P.CONNECTED]
    assert [e.seq for e in d.events if isinstance(e, CallStateChanged)] == [1, 2, 3, 4, 5]
    d.at(10).feed(HangupAsked())
    assert d.commands[-1] == HangupCall(None)
    d.feed(wire(10.0, True, "BYE", cseq=2)).feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))
    d.at(10.004).feed(wire(10.004, False, "BYE", 200, cseq=2))
    end = d.last_state()
    assert (end.phase, end.origin, end.explanation) == (P.DISCONNECTED, CauseOrigin.LOCAL, None)
    (bye,) = d.of(ByeOutcome)
    assert isinstance(bye, ByeOutcome)
    assert (bye.code, bye.origin, bye.ms) == (200, CauseOrigin.RECEIVED, 4.0)
    assert isinstance(d.commands[-1], ReleaseCall)
    d.feed(wire(10.01, False, "BYE", 200, cseq=2))  # a retransmitted answer: told once
    assert len(d.of(ByeOutcome)) == 1
    stats = d.call.stats(StreamFigures(rx_packets=500, tx_packets=499), 99.0)
    assert (stats.invite_to_provisional_ms, stats.invite_to_ringing_ms) == (10.0, 20.0)
    assert stats.invite_to_200_ms == 100.0 and stats.connected_s == 9.9
    assert d.call.finished and d.call.deadline is None


def test_the_stacks_own_response_times_serve_when_the_wire_tap_saw_nothing() -> None:
    seq = itertools.count()
    call = SipCall("c", "e", Direction.OUTGOING, CallTimers(), seq.__next__)
    call.dial(1.0)
    call.handle(InviteAnswered(183), 1.2)
    call.handle(InviteAnswered(200), 1.5)
    stats = call.stats(None, 2.0)
    assert (stats.invite_to_ringing_ms, stats.invite_to_200_ms, stats.rx_packets) == (
        200.0,
        500.0,
        0,
    )


def test_setup_timeout_cancels_and_the_cause_is_local() -> None:
    d = Driver.outgoing(CallTimers(setup_timeout_s=5))
    d.feed(wire(0.0, True, "INVITE")).feed(StateSeen(InvState.CALLING))
    assert d.call.deadline == 5
    d.at(4.99)
    assert not d.of(HangupCall)
    d.at(5.0)
    assert d.commands[-1] == HangupCall(None)
    d.feed(StateSeen(InvState.DISCONNECTED, 487, "Request Terminated"))
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation == "no answer within 5 s (487 Request Terminated, made locally)"


def test_late_and_repeated_events_change_nothing() -> None:
    d = answered(Driver.outgoing())
    d.feed(StateSeen(InvState.CONFIRMED, 200, "OK")).feed(AUDIO)  # repeated
    assert d.phases().count(P.CONNECTED) == 1
    d.feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))
    n = len(d.events)
    for late in (
        StateSeen(InvState.DISCONNECTED, 500, "x"),
        StateSeen(InvState.CONFIRMED, 200, "OK"),
        StateSeen(InvState.EARLY, 180, "Ringing"),
        InviteAnswered(200),
        RtpCount(5),
    ):
        d.feed(late)
    assert len(d.events) == n
    d.feed(HangupAsked())  # the owner may still ask; the stack answers as it sees fit
    assert d.commands[-1] == HangupCall(None)
    assert d.last_state().phase is P.DISCONNECTED


def test_bye_never_answered_ends_with_its_own_timeout() -> None:
    d = answered(Driver.outgoing(CallTimers(bye_timeout_s=2)))
    assert not d.call.ending
    d.at(3).feed(HangupAsked()).feed(wire(3.0, True, "BYE", cseq=2))
    assert d.call.ending and not d.call.ended
    d.feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))  # pjsua: as soon as the BYE is out
    assert d.call.ended and not d.call.ending
    assert not d.of(ByeOutcome) and not d.call.finished
    d.at(4.9)
    assert not d.of(ByeOutcome)
    d.at(5.0)
    (bye,) = d.of(ByeOutcome)
    assert isinstance(bye, ByeOutcome)
    assert (bye.code, bye.origin, bye.ms) == (None, CauseOrigin.LOCAL, 2000.0)
    assert bye.reason == "no answer to the BYE within 2 s"
    d.feed(wire(6.0, False, "BYE", 200, cseq=2))  # too late: the outcome stands
    assert len(d.of(ByeOutcome)) == 1


def test_200_without_sdp_is_ended_locally_after_the_grace() -> None:
    d = Driver.outgoing(CallTimers(setup_timeout_s=60, no_media_grace_s=2))
    d.feed(wire(0.0, True, "INVITE")).at(0.1).feed(wire(0.1, False, "INVITE", 200))
    d.feed(StateSeen(InvState.CONNECTING, 200, "OK")).feed(StateSeen(InvState.CONFIRMED, 200))
    assert P.CONNECTED not in d.phases()
    d.at(2.1)
    assert d.commands[-1] == HangupCall(None)
    d.feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation is not None
    assert end.explanation.startswith("the call was answered but no audio was negotiated")


def test_no_common_codec_is_a_failed_call_with_a_local_cause() -> None:
    """pjsip refuses the answer's SDP itself: ACK and BYE go out, DISCONNECTED 488."""
    d = Driver.outgoing()
    d.feed(wire(0.0, True, "INVITE")).at(0.1).feed(wire(0.1, False, "INVITE", 200))
    d.feed(wire(0.1, True, "BYE", cseq=2))
    d.feed(StateSeen(InvState.DISCONNECTED, 488, "Not Acceptable Here"))
    assert P.CONNECTED not in d.phases()
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation is not None and "no codec in common" in end.explanation


@pytest.mark.parametrize(
    ("far_end", "code", "origin"),
    [
        (["183", "486"], 486, CauseOrigin.RECEIVED),  # busy after session progress
        (["BYE"], 200, CauseOrigin.RECEIVED),  # the far end hung up
        (["100"], 408, CauseOrigin.LOCAL),  # pjsip's own timeout
    ],
)
def test_origin_follows_the_wire(far_end: list[str], code: int, origin: CauseOrigin) -> None:
    d = Driver.outgoing()
    d.feed(wire(0.0, True, "INVITE"))
    if far_end == ["BYE"]:
        answered(d)
    for i, what in enumerate(far_end):
        at = 1.0 + i
        d.at(at)
        if what == "BYE":
            d.feed(wire(at, False, "BYE", cseq=7))
        else:
            d.feed(wire(at, False, "INVITE", int(what)))
    d.feed(StateSeen(InvState.DISCONNECTED, code, "x"))
    assert d.last_state().origin is origin


def test_far_end_bye_after_our_hangup_is_still_local() -> None:
    d = answered(Driver.outgoing())
    d.at(2).feed(HangupAsked()).at(2.5).feed(wire(2.5, False, "BYE", cseq=7))
    d.feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))
    assert d.last_state().origin is CauseOrigin.LOCAL


def test_dtmf_plan_runs_after_answer_and_stops_at_the_end() -> None:
    plan = (DtmfSend(1.0, "123#"), DtmfSend(3.0, "99", secret=True), DtmfSend(9.0, "7"))
    d = Driver.outgoing(plan=plan)
    answered(d, at=0.5)
    d.at(1.49)
    assert not d.of(SendDigits)
    d.at(1.5)
    assert d.of(SendDigits) == [SendDigits(plan[0], DtmfMethod.RFC4733)]
    d.at(3.5)
    assert len(d.of(SendDigits)) == 2
    d.feed(StateSeen(InvState.DISCONNECTED, 200, "OK"))
    d.at(20)
    assert len(d.of(SendDigits)) == 2  # the third was due after the end


def test_digits_received_are_events() -> None:
    d = answered(Driver.outgoing())
    d.at(2).feed(DtmfSeen("5", DtmfMethod.SIP_INFO, 100))
    assert d.events[-1] == DtmfReceived(2, "call-1", "5", DtmfMethod.SIP_INFO, 100)


def test_rtp_inactivity_ends_the_call_locally() -> None:
    d = answered(Driver.outgoing(CallTimers(rtp_timeout_s=3, rtp_check_s=1), stack=True))
    for second in range(1, 4):
        d.rx = 50 * second
        d.at(0.1 + second)
    assert not d.call.ended
    d.at(20)  # packets stop at 150
    assert d.call.ended
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation is not None and end.explanation.startswith("no RTP from the far end")
    assert 6.0 <= d.call.hung_up_at <= 7.2  # type: ignore[operator]
    assert d.of(ReadRtp)


def test_early_media_before_the_answer() -> None:
    d = Driver.outgoing()
    d.feed(wire(0.0, True, "INVITE")).feed(StateSeen(InvState.CALLING))
    d.feed(StateSeen(InvState.EARLY, 183, "Session Progress")).feed(AUDIO)
    assert d.phases()[-1] is P.EARLY_MEDIA
    d.feed(StateSeen(InvState.CONFIRMED, 200, "OK"))
    assert d.phases()[-1] is P.CONNECTED
    assert isinstance(d.events[-2], MediaStateChanged) or P.CONNECTED in d.phases()


def test_audio_negotiated_after_the_ack_connects_the_call() -> None:
    d = Driver.outgoing()
    d.feed(StateSeen(InvState.CONFIRMED, 200, "OK"))
    assert P.CONNECTED not in d.phases()
    d.feed(AUDIO)
    assert d.phases()[-1] is P.CONNECTED
    d.at(10)
    assert not d.of(HangupCall)  # the no-media grace was called off


def test_incoming_call_rings_then_is_refused_with_480() -> None:
    seq = itertools.count()
    call = SipCall(
        "in-1",
        "room",
        Direction.INCOMING,
        CallTimers(setup_timeout_s=30),
        seq.__next__,
        remote_uri="sip:a@b",
        wire=CallWire(),
    )
    d = Driver(call)
    d._take(call.offered(0.0, "sip:room@gw", auto_answer=False))
    assert d.commands == [AnswerCall(180)]
    assert d.events == [IncomingCall(0.0, "in-1", "room", "sip:a@b", "sip:room@gw")]
    d.at(30)
    assert d.commands[-1] == HangupCall(480)
    d.feed(StateSeen(InvState.DISCONNECTED, 480, "Temporarily Unavailable"))
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation is not None and end.explanation.startswith("nobody answered")


def test_auto_answered_incoming_call_has_no_ring_timeout() -> None:
    seq = itertools.count()
    call = SipCall("in-2", "room", Direction.INCOMING, CallTimers(setup_timeout_s=3), seq.__next__)
    commands, _ = call.offered(0.0, "", auto_answer=True)
    assert commands == [AnswerCall(200)] and call.deadline is None


# -- RFC 4028 session timers -------------------------------------------------------------------


def session_call(
    refresher: str | None, expires: int | None = 90, rtp: float | None = None
) -> Driver:
    timers = CallTimers(setup_timeout_s=60, rtp_timeout_s=rtp, session=SESSION)
    d = Driver.outgoing(timers)
    return answered(d, session_expires=expires, refresher=refresher)


def test_a_peer_with_timers_is_refreshed_by_us_and_rtp_is_watched_too() -> None:
    d = session_call("uac", rtp=5)
    session = d.call.session
    assert session is not None and session.active and session.we_refresh
    assert d.call.rtp_watch is not None and session.refresh_due() == pytest.approx(45.1)
    for n, at in enumerate((45.1, 90.1, 135.1), start=2):  # the stack refreshes each time
        d.at(at).feed(wire(at, True, "INVITE", cseq=n)).feed(
            wire(at + 0.01, False, "INVITE", 200, cseq=n, session_expires=90, refresher="uac")
        )
    assert not d.of(HangupCall) and not d.call.ended
    assert session.refresh_due() == pytest.approx(180.11)


def test_a_peer_without_timers_is_watched_by_rtp() -> None:
    d = session_call(None, expires=None, rtp=5)
    assert d.call.session is not None and not d.call.session.active
    assert d.call.rtp_watch is not None


def test_the_far_end_that_stops_refreshing_gets_a_bye_at_expiry() -> None:
    d = session_call("uas")  # the far end refreshes
    session = d.call.session
    assert session is not None and not session.we_refresh
    assert session.bye_due() == pytest.approx(60.1)  # 90 - min(32, 30)
    d.at(50).feed(wire(50, False, "UPDATE", cseq=5)).feed(
        wire(50, True, "UPDATE", 200, cseq=5, session_expires=90, refresher="uac")
    )  # an UPDATE refresh from the far end (it is the uac of that one)
    assert not session.we_refresh and session.bye_due() == pytest.approx(110)
    d.at(110.2)  # the stack sent its BYE at 110; DISCONNECTED follows
    d.feed(wire(110.2, True, "BYE", cseq=6)).feed(StateSeen(InvState.DISCONNECTED, 408, "x"))
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert end.explanation is not None
    assert end.explanation.startswith("the far end did not refresh the session within 90 s")


def test_the_machine_ends_an_expired_session_the_stack_forgot() -> None:
    d = session_call("uas")
    d.stack = True
    d.at(62.0)
    assert not d.of(HangupCall)
    d.at(62.2)
    assert d.of(HangupCall) and d.call.ended
    assert "did not refresh the session" in (d.last_state().explanation or "")


def test_refresh_answered_422_is_retried_with_min_se() -> None:
    d = session_call("uac")
    session = d.call.session
    assert session is not None
    d.at(45.1).feed(wire(45.1, True, "INVITE", cseq=2))
    d.feed(wire(45.11, False, "INVITE", 422, cseq=2, min_se=120))
    assert session.offer_s == 120 and session.refresh_pending_since is None
    assert not d.call.ended and not d.of(HangupCall)  # a 422 does not end the dialog
    d.feed(wire(45.12, True, "INVITE", cseq=3, session_expires=120))
    d.feed(wire(45.13, False, "INVITE", 200, cseq=3, session_expires=120, refresher="uac"))
    assert session.interval_s == 120 and session.refresh_due() == pytest.approx(105.13)
    d.at(120)
    assert not d.of(HangupCall)


def test_a_refresh_without_answer_ends_the_session() -> None:
    d = session_call("uac")
    d.at(45.1).feed(wire(45.1, True, "INVITE", cseq=2))
    d.at(77.2).feed(StateSeen(InvState.DISCONNECTED, 408, "Request Timeout"))
    end = d.last_state()
    assert end.origin is CauseOrigin.LOCAL
    assert (end.explanation or "").startswith("the far end did not answer the session refresh")


# -- random sequences --------------------------------------------------------------------------

_INPUTS = st.one_of(
    st.builds(
        StateSeen,
        st.sampled_from(list(InvState)),
        st.sampled_from([None, 100, 180, 183, 200, 408, 486, 487, 488]),
    ),
    st.builds(InviteAnswered, st.sampled_from([100, 180, 183, 200, 407, 486])),
    st.builds(MediaSeen, st.booleans(), st.just("PCMU"), st.just(8000)),
    st.builds(RtpCount, st.integers(0, 10)),
    st.builds(HangupAsked, st.sampled_from([None, 486])),
    st.builds(DtmfSeen, st.sampled_from("12#"), st.sampled_from(list(DtmfMethod))),
    st.tuples(
        st.booleans(),
        st.sampled_from(["INVITE", "BYE", "UPDATE", "CANCEL"]),
        st.sampled_from([None, 100, 180, 200, 422, 481]),
        st.sampled_from([None, 90, 120]),
        st.sampled_from([None, "uac", "uas"]),
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 40), _INPUTS), max_size=30),
    st.sampled_from([Direction.OUTGOING, Direction.INCOMING]),
    st.booleans(),
)
def test_random_sequences_never_crash_and_always_end(
    steps: list[tuple[float, object]], direction: Direction, timers_on: bool
) -> None:
    seq = itertools.count(1)
    timers = CallTimers(
        setup_timeout_s=30,
        rtp_timeout_s=10,
        bye_timeout_s=32,
        session=SESSION if timers_on else None,
    )
    call = SipCall(
        "c", "e", direction, timers, seq.__next__, plan=(DtmfSend(1, "1"),), wire=CallWire()
    )
    d = Driver(call, stack=True)
    if direction is Direction.OUTGOING:
        d._take(call.dial(0.0))
    else:
        d._take(call.offered(0.0, "", auto_answer=False))
    cseq = itertools.count(2)
    for gap, item in steps:
        d.at(d.now + gap)
        if isinstance(item, tuple):
            sent, method, code, expires, refresher = item
            d.feed(
                wire(
                    d.now,
                    sent,
                    method,
                    code,
                    cseq=next(cseq) if code is None else 1,
                    session_expires=expires,
                    refresher=refresher,
                )
            )
        else:
            d.feed(item)  # type: ignore[arg-type]
    d.at(d.now + 10_000)  # every timeout has run, the stack answered every hang-up
    assert call.ended and call.finished and call.deadline is None
    ends = [e for e in d.events if isinstance(e, CallStateChanged) and e.phase is P.DISCONNECTED]
    assert len(ends) == 1 and ends[0].origin is not None
    seqs = [e.seq for e in d.events if isinstance(e, CallStateChanged)]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert isinstance(d.commands[-1], (ReleaseCall, HangupCall, SendDigits, ReadRtp, AnswerCall))
    assert d.of(ReleaseCall)


def test_our_own_missing_refresh_is_named_as_such() -> None:
    d = session_call("uac")
    d.stack = True
    d.at(200)
    assert d.call.ended
    assert (d.last_state().explanation or "").startswith(
        "the session was not refreshed within 90 s"
    )


def test_on_an_incoming_call_our_2xx_sets_the_session_and_the_caller_refreshes() -> None:
    seq = itertools.count()
    call = SipCall(
        "in-3",
        "room",
        Direction.INCOMING,
        CallTimers(setup_timeout_s=30, rtp_timeout_s=None, session=SESSION),
        seq.__next__,
        wire=CallWire(),
    )
    d = Driver(call)
    d._take(call.offered(0.0, "", auto_answer=True))
    d.feed(wire(0.0, False, "INVITE", session_expires=1800))
    d.feed(wire(0.01, True, "INVITE", 200, session_expires=1800, refresher="uac"))
    d.feed(AUDIO).feed(StateSeen(InvState.CONFIRMED, 200, "OK"))
    session = call.session
    assert session is not None and session.active and not session.we_refresh
    assert session.bye_due() == pytest.approx(1800.01 - 32)
    d.at(900).feed(wire(900, False, "INVITE", cseq=3, session_expires=1800))
    d.feed(wire(900.01, True, "INVITE", 200, cseq=3, session_expires=1800, refresher="uac"))
    d.at(1800)
    assert not d.of(HangupCall) and session.bye_due() == pytest.approx(2700.01 - 32)


def test_a_late_tick_reads_rtp_once_not_once_per_missed_second() -> None:
    d = answered(Driver.outgoing(CallTimers(rtp_timeout_s=30, rtp_check_s=1)))
    commands, _ = d.call.tick(20.0)  # the engine thread stalled for 20 s
    assert commands.count(ReadRtp()) == 1 and d.call.deadline == 21.0
    with pytest.raises(ValueError):
        CallTimers(rtp_check_s=0)
