"""signaling.sipmsg and signaling.ladder on hand-made messages (and RFC 4475 torture messages)."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from gateway.analysis.diagram import ladder_svg
from signaling.ladder import H225Message, h225_calls, render_ladder, sip_calls, sip_other_dialogs
from signaling.sipmsg import SipMessage, info_dtmf, parse_sdp

TORTURE = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "rfc4475"
A, P, B = "10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"
SDP = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"


def msg(t: float, src: str, dst: str, first: str, cseq: str, to_tag: str = "",
        body: str = "", ctype: str = "", extra: str = "") -> SipMessage:
    lines = [first, "Via: SIP/2.0/UDP x", "f: <sip:alice@a>;tag=1",
             "t: <sip:bob@b>" + (f";tag={to_tag}" if to_tag else ""), "i: call-1",
             f"CSeq: {cseq}"]
    if ctype:
        lines.append(f"c: {ctype}")
    if extra:
        lines.append(extra)
    raw = "\r\n".join(lines) + f"\r\nl: {len(body)}\r\n\r\n" + body
    return SipMessage.parse(raw, time_s=t, src=src, dst=dst)


def call_messages() -> list[SipMessage]:
    return [
        msg(10.000, A, P, "INVITE sip:bob@b SIP/2.0", "1 INVITE", body=SDP,
            ctype="application/sdp"),
        msg(10.002, P, A, "SIP/2.0 407 Proxy Authentication Required", "1 INVITE", "p"),
        msg(10.003, A, P, "ACK sip:bob@b SIP/2.0", "1 ACK", "p"),
        msg(10.004, A, P, "INVITE sip:bob@b SIP/2.0", "2 INVITE", body=SDP,
            ctype="application/sdp", extra="Proxy-Authorization: Digest x"),
        msg(10.005, P, A, "SIP/2.0 100 Trying", "2 INVITE"),
        msg(10.100, P, A, "SIP/2.0 180 Ringing", "2 INVITE", "b"),
        msg(10.500, P, A, "SIP/2.0 200 OK", "2 INVITE", "b", SDP, "application/sdp"),
        msg(10.501, A, P, "ACK sip:bob@b SIP/2.0", "2 ACK", "b"),
        msg(12.000, A, P, "INFO sip:bob@b SIP/2.0", "3 INFO", "b", "Signal=4\r\nDuration=100",
            "application/dtmf-relay"),
        msg(12.001, P, A, "SIP/2.0 200 OK", "3 INFO", "b"),
        msg(13.000, A, P, "INFO sip:bob@b SIP/2.0", "4 INFO", "b", "11", "application/dtmf"),
        msg(14.000, A, P, "INVITE sip:bob@b SIP/2.0", "5 INVITE", "b", SDP, "application/sdp"),
        msg(14.010, P, A, "SIP/2.0 200 OK", "5 INVITE", "b"),
        msg(20.000, P, A, "BYE sip:alice@a SIP/2.0", "1 BYE", "b"),
        msg(20.001, A, P, "SIP/2.0 200 OK", "1 BYE", "b"),
    ]


def test_message_parsing_compact_forms_and_folding() -> None:
    m = SipMessage.parse(
        "INVITE sip:x SIP/2.0\r\ni: abc\r\nSubject: one\r\n  two\r\nCSeq: 7 invite\r\n\r\n"
    )
    assert (m.kind, m.method, m.call_id, m.cseq) == ("request", "INVITE", "abc", (7, "INVITE"))
    assert m.header("subject") == "one two"
    r = SipMessage.parse(b"SIP/2.0 486 Busy Here\r\nTo: <sip:b@c;tag=x>;tag=real\r\n\r\n")
    assert (r.kind, r.status_code, r.reason, r.to_tag) == ("response", 486, "Busy Here", "real")
    junk = SipMessage.parse(b"\x00\xff garbage")
    assert junk.kind == "unknown" and junk.method is None and junk.cseq == (-1, "")


def test_sdp_and_info_dtmf() -> None:
    sdp = parse_sdp(SDP)
    assert sdp.endpoints() == {("10.0.0.1", 4000)}
    assert sdp.rtpmap == {101: ("telephone-event", 8000)}
    assert sdp.media[0].formats == (0, 101)
    assert info_dtmf(call_messages()[8]) == "4"
    assert info_dtmf(call_messages()[10]) == "#"
    assert info_dtmf(call_messages()[0]) == ""


def test_call_summary() -> None:
    (call,) = sip_calls(call_messages())
    assert call.call_id == "call-1" and call.from_uri == "sip:alice@a"
    assert call.setup_ms == pytest.approx(500.0)
    assert call.final_code == 200 and call.final == "200 OK"
    assert call.auth_challenges == 1
    assert call.reinvites == 1
    assert call.dtmf_info == "4#"
    assert call.messages == 15
    assert call.ended_by == P
    assert ("10.0.0.1", 4000) in call.media_endpoints
    assert (101, "telephone-event", 8000) in call.rtpmap


def test_failed_call_reports_final_response() -> None:
    msgs = call_messages()[:3]
    (call,) = sip_calls(msgs)
    assert call.setup_ms is None and call.final_code == 407


def test_register_is_not_a_call() -> None:
    reg = [
        msg(1.0, A, P, "REGISTER sip:b SIP/2.0", "1 REGISTER"),
        msg(1.1, P, A, "SIP/2.0 401 Unauthorized", "1 REGISTER"),
        msg(1.2, A, P, "REGISTER sip:b SIP/2.0", "2 REGISTER"),
        msg(1.3, P, A, "SIP/2.0 200 OK", "2 REGISTER"),
    ]
    assert sip_calls(reg) == []
    (other,) = sip_other_dialogs(reg)
    assert (other.method, other.messages, other.final_codes) == ("REGISTER", 4, (200, 401))


def test_h225_calls_by_call_reference() -> None:
    msgs = [
        H225Message(1.0, "10.1.1.1:1720", "10.1.1.2:1720", 0x77F4, 0x05),
        H225Message(1.1, "10.1.1.2:1720", "10.1.1.1:1720", 0x77F4, 0x02),
        H225Message(1.2, "10.1.1.2:1720", "10.1.1.1:1720", 0x77F4, 0x01),
        H225Message(2.0, "10.1.1.2:1720", "10.1.1.1:1720", 0x77F4, 0x07),
        H225Message(9.0, "10.1.1.1:1720", "10.1.1.2:1720", 0x77F4, 0x5A),
        H225Message(3.0, "10.1.1.9:1720", "10.1.1.2:1720", 0x0001, 0x05),
        H225Message(3.5, "10.1.1.2:1720", "10.1.1.9:1720", 0x0001, 0x5A),
    ]
    first, second = h225_calls(msgs)
    assert first.setup_ms == pytest.approx(1000.0) and first.final == "Connect"
    assert [e.label for e in first.events] == [
        "Setup", "CallProceeding", "Alerting", "Connect", "ReleaseComplete"]
    assert second.setup_ms is None and second.final == "ReleaseComplete"


def test_text_ladder_and_svg() -> None:
    (call,) = sip_calls(call_messages())
    text = render_ladder(call)
    lines = text.splitlines()
    assert A in lines[1] and P in lines[1]
    assert "-INVITE (SDP)-" in lines[2] and lines[2].rstrip().endswith(">|")
    assert "<" in lines[3] and "407 Proxy" in lines[3]
    assert lines[2].lstrip().startswith("0.000")
    svg = ladder_svg([call])
    root = ElementTree.fromstring(svg)
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "BYE" in labels and "INFO dtmf 4" in labels
    assert ElementTree.fromstring(ladder_svg([])) is not None


def test_rfc4475_torture_messages_never_break_the_reader() -> None:
    if not TORTURE.is_dir():
        pytest.skip("../shared/testdata/rfc4475 is absent")
    files = sorted(TORTURE.rglob("*.dat"))
    assert files
    messages = [SipMessage.parse(p.read_bytes(), time_s=float(i), src=A, dst=B)
                for i, p in enumerate(files)]
    assert sum(m.kind != "unknown" for m in messages) > len(files) * 0.8
    for m in messages:
        _ = (m.label, m.cseq, m.from_tag, m.to_tag, m.has_sdp, info_dtmf(m))
    calls = sip_calls(messages)
    assert all(c.messages >= 1 for c in calls)
    for c in calls:
        render_ladder(c)
    ElementTree.fromstring(ladder_svg(calls))
