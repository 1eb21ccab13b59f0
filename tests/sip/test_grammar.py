"""The SIP grammar shared by the strict reader (signaling.sip.request) and the lenient capture
reader (signaling.sipmsg): the helpers, and the two readers agreeing on the same messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.sip.grammar import (
    balanced,
    cseq_parts,
    header_key,
    parse_headers,
    split_commas,
    split_head_body,
    tag_of,
    uri_host_port,
    uri_of,
    uri_user,
    via_branch,
    via_sent_by,
)
from signaling.sip.request import NotARequest, SipRequest
from signaling.sipmsg import SipMessage

TORTURE = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "rfc4475"

FOLDED = (
    b"INVITE sip:87654321012@zoomcrc.com SIP/2.0\r\n"
    b"v: SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK77;rport, SIP/2.0/TCP h2;branch=z9hG4bK1\r\n"
    b"Max-Forwards: 70\r\n"
    b"f: \"Room, One\" <sip:room@example.com;tag=uri-param>;tag=abc\r\n"
    b"t: <sip:87654321012@zoomcrc.com>\r\n"
    b"i: folded-1@example.com\r\n"
    b"CSeq: 7\r\n INVITE\r\n"
    b"Subject: first line\r\n\tsecond line\r\n"
    b"l: 4\r\n\r\nbody"
)


def test_header_lines_unfold_and_compact_forms_expand() -> None:
    head, body = split_head_body(FOLDED)
    assert body == b"body"
    headers = dict(parse_headers(head.decode().partition("\n")[2]))
    assert headers["cseq"] == "7 INVITE"
    assert headers["subject"] == "first line second line"
    assert headers["call-id"] == "folded-1@example.com"
    assert headers["content-length"] == "4"
    assert header_key(" I ") == "call-id" and header_key("X-Custom") == "x-custom"
    assert split_head_body(b"OPTIONS sip:a SIP/2.0\nVia: x\n\nbody") == (
        b"OPTIONS sip:a SIP/2.0\nVia: x", b"body")


def test_values_tags_uris_and_vias() -> None:
    assert split_commas('"a, b" <sip:x,y@h>, <sip:z@h>') == ['"a, b" <sip:x,y@h>', "<sip:z@h>"]
    assert balanced('"q \\" <" <sip:a@b>') and not balanced('<sip:a@b') and not balanced('"open')
    assert tag_of('"N" <sip:a@b;tag=inside>;tag=outside') == "outside"
    assert tag_of("<sip:a@b;tag=inside>") is None and tag_of("<sip:a@b>;tag=") == ""
    assert uri_of('"N" <sip:a@b:5060;transport=tcp>;tag=1') == "sip:a@b:5060;transport=tcp"
    assert uri_of("sip:a@b;tag=1") == "sip:a@b"
    assert uri_user("sip:87654321012%2A4321;phone=x@h") == ("sip", "87654321012*4321")
    assert uri_user("SIPS:host") == ("sips", None) and uri_user("nothing") == ("", None)
    assert uri_host_port("<sip:u@[::1]:5062;transport=tcp>") == "[::1]:5062"
    assert uri_host_port("sip:h.example:5060?Subject=x") == "h.example:5060"
    assert uri_host_port("123456789.1@zoomcrc.com") == "zoomcrc.com"
    assert cseq_parts("7 INVITE") == (7, "INVITE") and cseq_parts("x INVITE") == (-1, "")
    assert cseq_parts("7") == (-1, "")
    via = "SIP / 2.0 / UDP [2001:db8::9]:5062 ;branch=z9hG4bK77;rport"
    assert via_sent_by(via) == "[2001:db8::9]:5062" and via_branch(via) == "z9hG4bK77"
    assert via_branch("SIP/2.0/UDP h") == "" and via_sent_by("garbage") == ""


def _agree(raw: bytes) -> None:
    """What both readers make of one message is the same, wherever the strict one reads it."""
    lenient = SipMessage.parse(raw)
    try:
        strict = SipRequest.parse(raw)
    except NotARequest:
        assert lenient.kind != "request" or lenient.header("via") is None
        return
    if not strict.method:
        return  # the strict reader refuses the request line; the lenient one may still read it
    assert lenient.kind == "request" and lenient.method == strict.method.upper()
    assert lenient.headers == strict.headers
    assert lenient.call_id == (strict.header("call-id") or "")
    if strict.problem is None:
        assert lenient.call_id.strip() == strict.call_id
        assert lenient.cseq == (strict.cseq_number, strict.method.upper())
        assert (lenient.to_tag is not None) == strict.to_has_tag


def test_both_readers_agree_on_a_folded_compact_request() -> None:
    _agree(FOLDED)
    strict = SipRequest.parse(FOLDED)
    assert strict.problem is None and strict.body == b"body"
    assert strict.sent_by == "[2001:db8::9]:5062" and strict.branch == "z9hG4bK77"
    assert strict.header("I") == "folded-1@example.com"  # compact names work for lookups too
    lenient = SipMessage.parse(FOLDED)
    assert lenient.from_tag == "abc" and lenient.to_tag is None
    assert lenient.from_uri == "sip:room@example.com;tag=uri-param"


def test_both_readers_agree_on_every_rfc4475_message() -> None:
    if not TORTURE.is_dir():
        pytest.skip("../shared/testdata/rfc4475 is absent")
    messages = sorted(TORTURE.glob("*/*.dat"))
    assert len(messages) > 40
    for path in messages:
        _agree(path.read_bytes())


@pytest.mark.parametrize(
    "raw",
    [
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n",
        b"\r\n\r\n",
        b"INVITE sip:a@b SIP/2.0\r\nFrom: <sip:a@b>;tag=1\r\n\r\n",
    ],
)
def test_responses_and_fragments_are_read_by_both_without_raising(raw: bytes) -> None:
    _agree(raw)
