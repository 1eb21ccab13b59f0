"""The SIP request reader: exact judgements on known inputs, and no crash on any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.sip.grammar import uri_user
from signaling.sip.request import NotARequest, SipRequest, build_response, split_stream
from tests.gateway.sipclient import invite


def test_a_plain_invite_reads_cleanly() -> None:
    req = SipRequest.parse(invite("87654321012*4321", 5062, branch="z9hG4bKabc", call_id="c1"))
    assert (req.method, req.uri, req.problem) == ("INVITE", "sip:87654321012*4321@127.0.0.1", None)
    assert req.transaction_key == ("z9hG4bKabc", "127.0.0.1:5062")
    assert req.call_id == "c1" and req.cseq_number == 1 and not req.to_has_tag
    assert uri_user(req.uri) == ("sip", "87654321012*4321")
    assert uri_user("sip:host") == ("sip", None) and uri_user("tel:+1") == ("tel", None)
    assert uri_user("sips:%38%37@h") == ("sips", "87")


def test_responses_copy_the_dialog_headers_and_stamp_the_via() -> None:
    req = SipRequest.parse(invite("1", 5062, branch="z9hG4bKabc"))
    text = build_response(req, 302, "Moved Temporarily", source=("192.0.2.7", 40000),
                          to_tag="t1", headers=[("Contact", "<sip:x@y>")]).decode()
    lines = text.split("\r\n")
    assert lines[0] == "SIP/2.0 302 Moved Temporarily"
    assert lines[1] == ("Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bKabc;rport=40000;"
                        "received=192.0.2.7")
    assert "To: <sip:1@127.0.0.1>;tag=t1" in lines and "Contact: <sip:x@y>" in lines
    assert text.endswith("Content-Length: 0\r\n\r\n")
    trying = build_response(req, 100, "Trying", to_tag="t1").decode()
    assert "tag=t1" not in trying


def test_problems() -> None:
    good = invite("1", 5062)
    cases = {
        good.replace(b"CSeq: 1 INVITE", b"CSeq: 1 BYE"): (400, "CSeq Method Does Not Match"),
        good.replace(b"SIP/2.0\r\n", b"SIP/3.0\r\n", 1): (505, "Version Not Supported"),
        good.replace(b"Content-Length: 0", b"Content-Length: 10"): (400,
                                                                   "Content-Length Exceeds Body"),
        good.replace(b"Call-ID:", b"X-Call-ID:"): (400, "Missing Call-ID"),
        good.replace(b"INVITE sip", b"INVITE  sip"): (400, "Malformed Request-Line"),
    }
    for data, problem in cases.items():
        assert SipRequest.parse(data).problem == problem
    for data in (b"SIP/2.0 200 OK\r\n\r\n", b"hello", b"", b"\r\n\r\n"):
        try:
            SipRequest.parse(data)
        except NotARequest:
            continue
        raise AssertionError(data)


def test_stream_framing() -> None:
    one, two = invite("1", 5062), invite("2", 5062)
    message, rest, fatal = split_stream(b"\r\n" + one + two[:10])
    assert (message, rest, fatal) == (one, two[:10], False)
    assert split_stream(two[:10]) == (None, two[:10], False)
    bad = one.replace(b"Content-Length: 0", b"Content-Length: x")
    message, rest, fatal = split_stream(bad)
    assert fatal and rest == b"" and message is not None


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_or_refused_never_crash(data: bytes) -> None:
    try:
        req = SipRequest.parse(data)
    except NotARequest:
        return
    assert build_response(req, 400, "Bad Request", source=("127.0.0.1", 1)).startswith(b"SIP/2.0")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    b"Via: SIP/2.0/UDP h;branch=z9hG4bK1", b"Via: ;;,", b"From: \"a <sip:a@b>", b"To: <sip:b@c>",
    b"Call-ID: x", b"CSeq: 1 INVITE", b"CSeq: 99999999999 INVITE", b"Content-Length: 5",
    b"Content-Length: -1", b"l: 0", b"v: SIP/2.0/TCP [::1]:5060;rport", b" folded", b"garbage",
]), max_size=12), st.sampled_from([b"INVITE sip:1@h SIP/2.0", b"OPTIONS x SIP/2.0", b"X"]))
def test_header_soup_never_crashes(headers: list[bytes], start: bytes) -> None:
    data = b"\r\n".join([start, *headers]) + b"\r\n\r\nbody"
    try:
        req = SipRequest.parse(data)
    except NotARequest:
        return
    build_response(req, 400, "Bad Request", source=("::1", 5), to_tag="x")
    split_stream(data)
