"""The bulk SIP datagram reader (gateway/analysis/sip_datagrams.py) against the full parse of
signaling/sipmsg.py: every figure the calls are built from must be the same, on ordinary
messages (where the scan answers), odd ones (folded lines, compact forms, non-ASCII: the full
parse answers) and the RFC 4475 torture messages when ../shared is present."""

from __future__ import annotations

import pytest

from gateway.analysis.sip_datagrams import SCANNED_HEADERS, scan_message
from signaling.sipmsg import COMPACT_FORMS, SipMessage
from tests.analysis.conftest import SHARED_PCAPS

TORTURE = SHARED_PCAPS.parent / "rfc4475"

_INVITE = (
    "INVITE sip:bob@example.org SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1\r\n"
    "From: \"Alice\" <sip:alice@example.org;tag=uri-param>;tag=a1\r\n"
    "To: <sip:bob@example.org>\r\n"
    "Call-ID: abc@10.0.0.1\r\n"
    "CSeq: 1 INVITE\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 31\r\n\r\n"
    "v=0\r\nc=IN IP4 10.0.0.1\r\nt: 0 0\r\n"
)

ODD = {
    "ordinary": _INVITE,
    "compact forms": (
        "SIP/2.0 180 Ringing\r\ni: compact@x\r\nf: <sip:a@x>;tag=1\r\nt: <sip:b@x> ;tag=2\r\n"
        "CSeq: 7 invite\r\nc: Application/SDP ; charset=x\r\nl: 0\r\n\r\n"),
    "first of repeated headers, compact then full": (
        "BYE sip:b@x SIP/2.0\r\ni: first@x\r\nCall-ID: second@x\r\nCSEQ: 2 BYE\r\n"
        "cseq: 3 BYE\r\nFrom: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\n\r\n"),
    "whitespace around names and values": (
        "OPTIONS sip:b@x SIP/2.0\r\nCall-ID \t:   spaced@x  \r\nCSeq\x0b: 4 OPTIONS\r\n"
        "From:<sip:a@x>\r\nTo :<sip:b@x>\r\nContact: <sip:c@x>\r\nX-Call-ID: not-this\r\n\r\n"),
    "bare LF line ends": "SIP/2.0 200 OK\ncall-id: lf@x\ncseq: 1 INVITE\nto: <sip:b@x>;tag=9\n\n",
    "folded header (full parse)": (
        "INVITE sip:b@x SIP/2.0\r\nCall-ID: fold@x\r\nTo: <sip:b@x>\r\n ;tag=folded\r\n"
        "CSeq: 1 INVITE\r\nFrom: <sip:a@x>;tag=1\r\n\r\n"),
    "non-ASCII header (full parse)": (
        "MESSAGE sip:b@x SIP/2.0\r\nCall-ID: utf8@x\r\nFrom: \"J\u00fcrgen\" <sip:j@x>;tag=1\r\n"
        "To: <sip:b@x>\r\nCSeq: 1 MESSAGE\r\nContent-Type: text/plain\r\n\r\nhi"),
    "missing headers": "INFO sip:b@x SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n",
    "not SIP": "GET / HTTP/1.1\r\nHost: x\r\nCall-ID: nope\r\n\r\n",
    "header-like body": (
        "NOTIFY sip:b@x SIP/2.0\r\nCall-ID: n@x\r\nCSeq: 5 NOTIFY\r\n"
        "Content-Type: message/sipfrag\r\n\r\nSIP/2.0 200 OK\r\nCall-ID: inner@x\r\n"),
}


def _same(raw: bytes) -> SipMessage:
    fast = scan_message(raw, 1.5, "10.0.0.1:5060", "10.0.0.2:5060", "UDP", 7)
    full = SipMessage.parse(raw, time_s=1.5, src="10.0.0.1:5060", dst="10.0.0.2:5060",
                            transport="UDP", frame=7)
    for attr in ("kind", "method", "status_code", "reason", "call_id", "cseq", "from_uri",
                 "to_uri", "from_tag", "to_tag", "content_type", "has_sdp", "label", "body",
                 "start_line", "header_block"):
        assert getattr(fast, attr) == getattr(full, attr), attr
    names = set(SCANNED_HEADERS) | set(COMPACT_FORMS) | {"via", "contact", "content-length"}
    for name in sorted(names):
        assert fast.header(name) == full.header(name), name
        assert fast.header(name.upper()) == full.header(name), name
    return fast


@pytest.mark.parametrize("name", sorted(ODD))
def test_scan_equals_full_parse(name: str) -> None:
    fast = _same(ODD[name].encode())
    scanned = "_scanned" in fast.__dict__
    assert scanned == ("full parse" not in name), "the scan answers exactly the plain blocks"


def test_scan_answers_without_the_full_parse() -> None:
    fast = scan_message(_INVITE.encode(), 0.0, "a", "b", "UDP", 1)
    assert (fast.call_id, fast.cseq, fast.from_tag) == ("abc@10.0.0.1", (1, "INVITE"), "a1")
    assert "headers" not in fast.__dict__ and "first_values" not in fast.__dict__
    assert fast.header("via") == "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1"
    assert "first_values" in fast.__dict__  # another header: the full parse, as before


@pytest.mark.skipif(not TORTURE.is_dir(), reason="shared/testdata/rfc4475 not present")
def test_scan_equals_full_parse_on_rfc4475_torture_messages() -> None:
    files = sorted(TORTURE.glob("*/*.dat"))
    assert len(files) > 40
    scanned = sum("_scanned" in _same(f.read_bytes()).__dict__ for f in files)
    assert scanned > 10  # most are plain enough for the scan
