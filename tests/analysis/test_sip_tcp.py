"""SIP over plain TCP reassembled by the analysis (gateway/analysis/sip_tcp.py) against tshark's
own reassembly: the same messages (bytes, frame, time, ends) on every plain link layer, with
messages split over segments, several messages in one segment, keep-alives and
retransmissions; and None (tshark prints, as before) wherever it cannot be exactly tshark's."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.capture_gen import tcp_frame
from gateway.analysis.pcapscan import scan_capture
from gateway.analysis.report import analyse_capture
from gateway.analysis.select import signaling_frames
from gateway.analysis.signaling_capture import read_tshark_signaling
from gateway.analysis.sip_tcp import on_sip_ports, read_sip_tcp
from gateway.analysis.tshark_streams import SIGNALING_NOT_READ_DIRECTLY, TsharkPass, tshark_options
from signaling.sipmsg import SipMessage
from tests.analysis.conftest import need_tshark
from tests.analysis.encapsulate import ENCAPSULATIONS, ethernet
from tests.analysis.synthetic import write_frames, write_synthetic_call
from tests.analysis.test_encapsulations import tshark_invite_call_ids

pytestmark = [need_tshark, pytest.mark.capture]

_ETHERNET = 1


def _key(m: SipMessage) -> tuple[object, ...]:
    return (m.frame, m.time_s, m.src, m.dst, m.transport, m.start_line, m.header_block, m.body)


def _both(path: Path, sip_ports: tuple[int, ...] = ()) -> tuple[list[SipMessage] | None,
                                                                list[SipMessage]]:
    cols = scan_capture(path)
    where = signaling_frames(cols, sip_ports)
    mine = read_sip_tcp(cols, where.reassembly)
    tpass = TsharkPass(path, tshark_options(sip_ports), SIGNALING_NOT_READ_DIRECTLY)
    try:
        result = tpass.result()
    finally:
        tpass.stop()
    theirs = read_tshark_signaling(result.packets, cols, None, frozenset(where.datagrams)).sip
    return mine, theirs


@pytest.mark.parametrize("name", sorted(ENCAPSULATIONS))
def test_reassembled_here_as_tshark_reassembles(tmp_path: Path, name: str) -> None:
    linktype, wrap, ipv6 = ENCAPSULATIONS[name]
    path = tmp_path / f"{name}.pcap"
    write_synthetic_call(path, linktype=linktype, transport="tcp", ipv6=ipv6, encapsulate=wrap,
                         background=True)
    mine, theirs = _both(path)
    assert len(theirs) == 9
    if mine is not None:  # tunnels, fragments: tshark's business
        assert [_key(m) for m in mine] == [_key(m) for m in theirs]
    if name in ("ethernet", "linux-cooked-v1", "linux-cooked-v2", "raw"):
        assert mine is not None, "plain TCP over IP is reassembled here"


def _invite(call_id: str, body: bytes = b"") -> bytes:
    head = (f"INVITE sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.1:5062;branch=z9hG4bK{call_id}"
            f"\r\nFrom: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: {call_id}\r\n"
            f"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: {len(body)}\r\n"
            "\r\n").encode()
    return head + body


_SDP = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"


def _capture(tmp_path: Path, segments: list[tuple[int, bytes]], name: str) -> Path:
    """One direction of a connection to 5060: a handshake, then ``(sequence offset, bytes)``."""
    frames = [
        (0.0, tcp_frame("10.0.0.1", "10.0.0.2", 5062, 5060, 999, 0, 0x02, b"")),
        (0.001, tcp_frame("10.0.0.2", "10.0.0.1", 5060, 5062, 4999, 1000, 0x12, b"")),
        (0.002, tcp_frame("10.0.0.1", "10.0.0.2", 5062, 5060, 1000, 5000, 0x10, b"")),
    ]
    for k, (offset, data) in enumerate(segments):
        frames.append((0.01 * (k + 1), tcp_frame("10.0.0.1", "10.0.0.2", 5062, 5060,
                                                 1000 + offset, 5000, 0x18, data)))
    path = tmp_path / name
    write_frames(path, _ETHERNET, [(t, ethernet(ip)[0]) for t, ip in frames])
    return path


def test_two_messages_in_a_segment_split_and_a_retransmission(tmp_path: Path) -> None:
    one, two, three = _invite("one", _SDP), _invite("two"), _invite("three", _SDP)
    stream = one + two + three
    cut1, cut2 = len(one) + len(two) // 2, len(one) + len(two) + 10
    segments = [(0, stream[:cut1]), (cut1, stream[cut1:cut2]),
                (cut1, stream[cut1:cut2]),  # the same segment again: a retransmission
                (cut2, stream[cut2:])]
    mine, theirs = _both(_capture(tmp_path, segments, "mixed.pcap"))
    assert mine is not None
    assert [m.call_id for m in mine] == ["one", "two", "three"]
    assert [_key(m) for m in mine] == [_key(m) for m in theirs]


@pytest.mark.parametrize(
    "case", ["gap", "overlap", "no length", "not SIP", "cut at the end", "keep-alive"])
def test_what_is_not_exactly_tshark_s_is_left_to_tshark(tmp_path: Path, case: str) -> None:
    one, two = _invite("one", _SDP), _invite("two")
    stream = one + two
    half = len(one) // 2
    segments = {
        "gap": [(0, stream[:half]), (half + 5, stream[half + 5:])],
        "overlap": [(0, stream[:half]), (half - 4, stream[half - 4:])],
        "no length": [(0, one.replace(b"Content-Length", b"X-Length"))],
        "not SIP": [(0, b"\x03\x00\x00\x10" + b"\x08" * 12)],
        "cut at the end": [(0, stream[:-3])],
        # tshark 4.0 loses the start of a split message after a CRLF keep-alive
        "keep-alive": [(0, one + b"\r\n\r\n" + two[:10]), (len(one) + 4 + 10, two[10:])],
    }[case]
    path = _capture(tmp_path, segments, "odd.pcap")
    cols = scan_capture(path)
    assert read_sip_tcp(cols, signaling_frames(cols).reassembly) is None
    report = analyse_capture(path)  # tshark prints instead: its INVITEs are the analysis'
    assert {c.call_id for c in report.calls} == tshark_invite_call_ids(path)


def test_only_ports_tshark_decodes_as_sip(tmp_path: Path) -> None:
    path = tmp_path / "5080.pcap"
    write_synthetic_call(path, transport="tcp", sip_port=5080)
    cols = scan_capture(path)
    where = signaling_frames(cols)
    assert where.reassembly and not on_sip_ports(cols, where.reassembly, ())
    assert on_sip_ports(cols, where.reassembly, (5080,))
    mine, theirs = _both(path, (5080,))
    assert mine is not None and [_key(m) for m in mine] == [_key(m) for m in theirs]


@pytest.mark.parametrize("port", [5080, 6060])
def test_other_ports_follow_tshark_s_count(tmp_path: Path, port: int) -> None:
    """SIP over TCP on a port only tshark's own table decides: 5080 is SIP for its heuristics,
    6060 is X11. The analysis reassembles it, keeps it only when tshark's count of SIP messages
    says tshark decoded it, and finds the INVITEs tshark finds."""
    path = tmp_path / f"tcp-{port}.pcap"
    write_synthetic_call(path, transport="tcp", sip_port=port, background=True)
    cols = scan_capture(path)
    where = signaling_frames(cols)
    assert read_sip_tcp(cols, where.reassembly) and not on_sip_ports(cols, where.reassembly, ())
    report = analyse_capture(path)
    expected = tshark_invite_call_ids(path)
    assert {c.call_id for c in report.calls} == expected
    assert bool(expected) is (port == 5080)
