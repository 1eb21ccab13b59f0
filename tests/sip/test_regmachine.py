"""The registration machine and the RFC 4028 session timer without pjsua2, fake clock."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.pjsua._wiretap import parse_message_log
from signaling.sip.config import EndpointConfig, RetryPolicy
from signaling.sip.errors import SipConfigError
from signaling.sip.events import RegistrationChanged
from signaling.sip.registration import (
    Registration,
    SetRegistration,
    TlsProblemLog,
    refresh_lead_s,
)
from signaling.sip.sessiontimer import SessionTimer, SessionTimerPolicy, TimerUse, bye_lead_s
from signaling.sip.types import RegState, Transport

NO_JITTER = RetryPolicy(initial_s=2, max_s=60, jitter=0)


def machine(transport: Transport = Transport.UDP, tls: TlsProblemLog | None = None) -> Registration:
    config = EndpointConfig("room1", "room1", "pw", registrar="10.0.0.5", transport=transport)
    seq = itertools.count(1)
    return Registration(
        config,
        transport,
        retry=NO_JITTER,
        register_timeout_s=32,
        stamp=seq.__next__,
        tls_problems=tls,
    )


def states(events: list[RegistrationChanged]) -> list[RegState]:
    return [e.status.state for e in events]


def test_register_then_refresh_before_expiry() -> None:
    reg = machine()
    assert reg.status.state is RegState.UNREGISTERED and reg.want_registered
    _, events = reg.started(True, 0.0)
    assert states(events) == [RegState.REGISTERING] and events[0].status.attempts == 1
    assert reg.deadline == 32.0  # the REGISTER's own timeout
    _, events = reg.answered(200, "OK", 300, 0.05)
    status = events[0].status
    assert (status.state, status.expires_s, status.duration_ms) == (RegState.REGISTERED, 300, 50.0)
    assert reg.deadline == 332.05  # expiry watch: expiry plus the REGISTER timeout
    assert refresh_lead_s(300) == 5 and refresh_lead_s(6) == 2 and refresh_lead_s(1) == 1
    _, events = reg.started(True, 295.05)  # the stack refreshes 5 s early
    assert events == []  # still registered: no "registering" flicker
    _, events = reg.answered(200, "OK", 300, 295.1)
    assert states(events) == [RegState.REGISTERED] and reg.deadline == pytest.approx(627.1)
    seqs = [reg.status.seq]
    assert seqs[0] > 1


def test_no_answer_fails_as_408_then_retries_with_backoff() -> None:
    reg = machine()
    reg.started(True, 0.0)
    commands, events = reg.tick(31.9)
    assert (commands, events) == ([], [])
    commands, events = reg.tick(32.0)
    assert states(events) == [RegState.FAILED]
    assert events[0].status.code == 408 and "32" in (events[0].status.explanation or "")
    assert reg.deadline == 34.0  # first retry after 2 s
    commands, _ = reg.tick(34.0)
    assert commands == [SetRegistration(True)]
    _, late = reg.answered(408, "Request Timeout", 0, 34.0)  # pjsip's own late 408: dropped
    assert late == []
    delays = []
    now = 34.0
    for _ in range(6):
        reg.started(True, now)
        reg.answered(503, "Service Unavailable", 0, now + 0.01)
        assert reg.deadline is not None
        delays.append(round(reg.deadline - (now + 0.01), 3))
        now = reg.deadline
        assert reg.tick(now)[0] == [SetRegistration(True)]
    assert delays == [4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


def test_success_resets_the_backoff_and_unregistering_stops_retries() -> None:
    reg = machine()
    reg.started(True, 0)
    reg.answered(403, "Forbidden", 0, 0.1)
    reg.started(True, 2.1)
    reg.answered(200, "OK", 60, 2.2)
    assert reg.failures == 0
    assert reg.want(False) == ([SetRegistration(False)], [])
    reg.started(False, 3.0)
    _, events = reg.answered(200, "OK", 0, 3.1)
    assert states(events) == [RegState.UNREGISTERED] and reg.deadline is None
    reg.started(True, 4)
    reg.answered(500, "x", 0, 4.1)  # failures while unwanted are not retried
    assert reg.deadline is None


def test_a_dropped_connection_re_registers_soon() -> None:
    reg = machine(Transport.TCP)
    reg.started(True, 0)
    reg.answered(200, "OK", 600, 0.1)
    reg.transport_lost(10.0)
    assert reg.deadline == 12.0
    assert reg.tick(12.0)[0] == [SetRegistration(True)]
    udp = machine(Transport.UDP)
    udp.started(True, 0)
    udp.answered(200, "OK", 600, 0.1)
    udp.transport_lost(10.0)
    assert udp.deadline == 632.1  # UDP has no connection to lose


def test_an_expiry_without_refresh_is_a_failure_and_re_registers() -> None:
    reg = machine()
    reg.started(True, 0)
    reg.answered(200, "OK", 60, 0.0)
    assert reg.tick(91.9) == ([], [])
    commands, events = reg.tick(92.0)
    assert states(events) == [RegState.FAILED]
    assert events[0].status.reason == "the registration expired and was not refreshed"
    assert reg.tick(94.0)[0] == [SetRegistration(True)]


def test_deferred_register_backs_off() -> None:
    reg = machine()
    reg.deferred(5.0)
    assert reg.deadline == 7.0 and reg.failures == 1


def test_tls_failures_name_recent_certificate_problems() -> None:
    log = TlsProblemLog(ttl_s=10)
    reg = machine(Transport.TLS, log)
    log.seen("10.0.0.5:5061", ("untrusted",), 1.0)
    reg.started(True, 1.0)
    _, events = reg.answered(503, "SSL error", 0, 2.0)
    assert "not signed by a trusted CA" in (events[0].status.explanation or "")
    assert log.recent("elsewhere", 5.0) == ("untrusted",)  # the last seen anywhere
    assert log.recent("10.0.0.5:5061", 11.5) == ()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 400),
            st.sampled_from(["start", "renew-off", "ok", "fail", "408", "lost", "want", "unwant"]),
        ),
        max_size=40,
    )
)
def test_random_registration_events_never_crash(steps: list[tuple[float, str]]) -> None:
    reg = machine(Transport.TCP)
    reg._rng = random.Random(1)
    now = 0.0
    last_seq = reg.status.seq
    for gap, what in steps:
        now += gap
        reg.tick(now)
        if what == "start":
            reg.started(True, now)
        elif what == "renew-off":
            reg.started(False, now)
        elif what == "ok":
            reg.answered(200, "OK", 120, now)
        elif what in ("fail", "408"):
            reg.answered(int(what) if what == "408" else 503, "x", 0, now)
        elif what == "lost":
            reg.transport_lost(now)
        else:
            reg.want(what == "want")
        assert reg.status.seq >= last_seq
        last_seq = reg.status.seq
        due = reg.deadline
        assert due is None or due >= now - 400  # never a deadline far in the past
    reg.want(False)
    reg.tick(now + 10_000)
    assert reg.deadline is None  # nothing left to do once unwanted


# -- RFC 4028 ----------------------------------------------------------------------------------


def test_policy_checks_rfc_4028_bounds() -> None:
    with pytest.raises(SipConfigError, match="90"):
        SessionTimerPolicy(min_se_s=60)
    with pytest.raises(SipConfigError):
        SessionTimerPolicy(expires_s=100, min_se_s=120)
    assert not SessionTimerPolicy(TimerUse.OFF).enabled
    assert bye_lead_s(90) == 30 and bye_lead_s(1800) == 32


@pytest.mark.parametrize(
    ("expires", "refresher", "we_are_uac", "we_refresh", "refresh", "bye"),
    [
        (90, "uac", True, True, 45, 90),  # we asked, we refresh: give up at expiry
        (90, "uas", True, False, None, 60),  # they refresh: BYE 30 s before expiry
        (1800, "uac", False, False, None, 1768),  # we answered their request
        (1800, "uas", False, True, 900, 1800),
        (600, None, True, True, 300, 600),  # no refresher named: the requester's answerer
    ],
)
def test_who_refreshes_and_when(
    expires: int,
    refresher: str | None,
    we_are_uac: bool,
    we_refresh: bool,
    refresh: float | None,
    bye: float,
) -> None:
    timer = SessionTimer(SessionTimerPolicy())
    timer.answered(expires, refresher, we_are_uac, 0.0)
    assert timer.active and timer.we_refresh is we_refresh
    assert timer.refresh_due() == refresh and timer.bye_due() == bye
    assert not timer.expired(bye - 0.01) and timer.expired(bye)


def test_no_session_expires_means_no_timer_unless_always() -> None:
    timer = SessionTimer(SessionTimerPolicy())
    timer.answered(None, None, True, 0)
    assert not timer.active and timer.bye_due() is None and not timer.expired(1e9)
    always = SessionTimer(SessionTimerPolicy(TimerUse.ALWAYS, expires_s=300))
    always.answered(None, None, True, 0)
    assert always.active and always.we_refresh and always.refresh_due() == 150


def test_422_raises_the_interval_to_min_se() -> None:
    timer = SessionTimer(SessionTimerPolicy(expires_s=100))
    assert timer.too_small(300) == 300 and timer.min_se_s == 300
    assert timer.too_small(None) == 300  # a 422 without Min-SE changes nothing more


def test_the_wire_tap_reads_session_timer_headers() -> None:
    text = (
        "RX 500 bytes Response msg 200/INVITE/cseq=5 (rdata0x1) from UDP 127.0.0.1:5060:\n"
        "SIP/2.0 200 OK\r\nCall-ID: x1\r\nSession-Expires: 90;refresher=uas\r\n"
        "Min-SE: 90\r\nRequire: timer\r\n\r\n"
    )
    msg = parse_message_log(text, 1.0)
    assert msg is not None
    assert (msg.session_expires, msg.refresher, msg.min_se) == (90, "uas", 90)
    compact = parse_message_log(text.replace("Session-Expires: 90;refresher=uas", "x: 120"), 1.0)
    assert compact is not None and (compact.session_expires, compact.refresher) == (120, None)


def test_a_session_expires_below_our_min_se_runs_no_timer() -> None:
    timer = SessionTimer(SessionTimerPolicy(min_se_s=120))
    timer.answered(90, "uac", True, 0.0)
    assert not timer.active
    timer.answered(120, "uac", True, 0.0)
    assert timer.active and timer.refresh_due() == 60
