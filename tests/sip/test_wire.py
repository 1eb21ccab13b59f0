"""The wire tap's pure parts: pjsip message log lines, one call's wire marks, RTP inactivity."""

from __future__ import annotations

import pytest

from signaling.pjsua._wiretap import parse_message_log
from signaling.sip.explain import explain_call_end
from signaling.sip.inactivity import RtpWatch
from signaling.sip.types import CauseOrigin
from signaling.sip.wire import CallWire, WireMessage

TX_INVITE = (
    "pjsua_core.c TX 947 bytes Request msg INVITE/cseq=20489 (tdta0x7fa0) to UDP "
    "127.0.0.1:45062:\nINVITE sip:x@127.0.0.1:45062 SIP/2.0\nVia: SIP/2.0/UDP 127.0.0.1\n"
    "Call-ID: abc-123\nCSeq: 20489 INVITE\n\n--end msg--"
)
RX_486 = (
    "pjsua_core.c RX 300 bytes Response msg 486/INVITE/cseq=20489 (rdata0x7fa0) from UDP "
    "127.0.0.1:45062:\nSIP/2.0 486 Busy Here\ni: abc-123\nCSeq: 20489 INVITE\n\n--end msg--"
)


def test_parse_request_and_compact_call_id() -> None:
    msg = parse_message_log(TX_INVITE, 1.5)
    assert msg == WireMessage(1.5, True, "INVITE", 20489, "abc-123")
    answer = parse_message_log(RX_486, 2.0)
    assert answer is not None and not answer.sent
    assert (answer.code, answer.reason, answer.method) == (486, "Busy Here", "INVITE")


@pytest.mark.parametrize(
    "line",
    [
        "sip_endpoint.c Module mod-pjsua registered",
        "pjsua_core.c TX 947 bytes Request msg INVITE/cseq=1 (tdta) to UDP 1.2.3.4:5:\n(no id)",
        "",
    ],
)
def test_other_log_lines_are_not_messages(line: str) -> None:
    assert parse_message_log(line, 0.0) is None


def _msg(at: float, sent: bool, method: str, cseq: int, code: int | None = None) -> WireMessage:
    return WireMessage(at, sent, method, cseq, "c", code, "x" if code else "")


def test_call_wire_marks_first_invite_and_responses() -> None:
    wire = CallWire()
    wire.add(_msg(10.0, True, "INVITE", 1))
    wire.add(_msg(10.5, True, "INVITE", 1))  # a retransmission does not move the start
    wire.add(_msg(10.1, False, "INVITE", 1, 100))
    wire.add(_msg(10.2, False, "INVITE", 1, 180))
    wire.add(_msg(10.3, False, "INVITE", 1, 200))
    assert wire.invite_sent_at == 10.0
    assert (wire.provisional_at, wire.ringing_at, wire.ok_at()) == (10.1, 10.2, 10.3)
    assert wire.received_final(200) and not wire.received_final(487)


def test_call_wire_bye_outcome_only_for_our_bye() -> None:
    wire = CallWire()
    wire.add(_msg(1.0, True, "INVITE", 1))
    assert not wire.add(_msg(2.0, True, "BYE", 2))
    assert not wire.add(_msg(2.1, False, "BYE", 9, 200))  # another CSeq: not ours
    assert not wire.add(_msg(2.1, False, "BYE", 2, 100))  # provisional: not final
    assert wire.add(_msg(2.2, False, "BYE", 2, 481))
    assert wire.bye_response is not None and wire.bye_response.code == 481
    assert wire.far_end_ended_at is None


def test_far_end_bye_is_noted() -> None:
    wire = CallWire()
    wire.add(_msg(1.0, False, "BYE", 5))
    assert wire.far_end_ended_at == 1.0


def test_rtp_watch() -> None:
    watch = RtpWatch(2.0, now=100.0)
    assert not watch.observe(0, 100.5)
    assert not watch.observe(0, 101.9)
    assert watch.observe(0, 102.0)  # nothing at all since the call connected
    watch = RtpWatch(2.0, now=100.0)
    assert not watch.observe(50, 101.0)
    assert not watch.observe(90, 102.5)
    assert not watch.observe(90, 104.4)
    assert watch.observe(90, 104.5)
    assert watch.silent_s(105.0) == pytest.approx(2.5)
    with pytest.raises(ValueError):
        RtpWatch(0, 0.0)


def test_explanations_say_where_the_code_came_from() -> None:
    local = explain_call_end(415, "SDP negotiation failed", False, CauseOrigin.LOCAL)
    assert local == "no codec in common with the far end (415 SDP negotiation failed, made locally)"
    got = explain_call_end(486, "Busy Here", False, CauseOrigin.RECEIVED) or ""
    assert "busy" in got and "received from the far end" in got
    assert explain_call_end(200, "OK", True, CauseOrigin.LOCAL) is None


def test_call_wire_after_a_challenge() -> None:
    wire = CallWire()
    wire.add(_msg(1.0, True, "INVITE", 1))
    wire.add(_msg(1.1, False, "INVITE", 1, 407))
    wire.add(_msg(1.2, True, "INVITE", 2))
    wire.add(_msg(1.5, False, "INVITE", 2, 200))
    assert wire.invite_sent_at == 1.0  # set-up time includes the challenge round
    assert wire.ok_at() == 1.5
    assert wire.received_final(407) and wire.received_final(200)
