"""A call written packet by packet with our own capture writer, for the robustness tests: we
know every figure of it exactly (set-up time, lost packet, digits), and can vary the link type,
file format, SIP port and transport, and add background traffic and malformed packets."""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.capture_gen import (
    LINKTYPE_ETHERNET,
    CaptureWriter,
    rtp_payload,
    tcp_frame,
    udp_frame,
)

__all__ = ["SyntheticCall", "write_frames", "write_synthetic_call"]

A, B = "192.0.2.10", "198.51.100.20"
A6, B6 = "2001:db8::a", "2001:db8:1::b"
A_RTP, B_RTP = 40000, 50000
CALL_ID = "synthetic-1@room"


@dataclass(frozen=True)
class SyntheticCall:
    path: Path
    setup_ms: float
    packets_per_direction: int
    lost_a_to_b: int
    digits_rtp: str
    digits_info: str


def write_frames(path: Path, linktype: int, frames: Sequence[tuple[float, bytes]]) -> None:
    """A classic pcap file of link-layer frames of any link type."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)]
    for t, frame in frames:
        sec = int(t)
        usec = min(int(round((t - sec) * 1e6)), 999_999)
        out.append(struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame)
    path.write_bytes(b"".join(out))


_WS_HANDSHAKE = [
    (True, b"GET / HTTP/1.1\r\nHost: sip.example\r\nUpgrade: websocket\r\n"
           b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           b"Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Version: 13\r\n\r\n"),
    (False, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            b"Sec-WebSocket-Protocol: sip\r\n\r\n"),
]


def websocket_frame(payload: bytes) -> bytes:
    """One unmasked WebSocket text frame (FIN set) carrying ``payload``."""
    n = len(payload)
    if n < 126:
        return bytes([0x81, n]) + payload
    return bytes([0x81, 126]) + struct.pack("!H", n) + payload


def sctp_packet(src: str, dst: str, sport: int, dport: int, payload: bytes, tsn: int) -> bytes:
    """An SCTP packet with one DATA chunk (B and E set, PPID 0) in IPv4 or IPv6."""
    from bench.capture_gen import _ipv4, _ipv6

    pad = -len(payload) % 4
    chunk = struct.pack("!BBHIHHI", 0, 0x03, 16 + len(payload), tsn, 0, tsn & 0xFFFF, 0)
    body = struct.pack("!HHII", sport, dport, 0x1234, 0) + chunk + payload + b"\x00" * pad
    return _ipv6(src, dst, 132, body) if ":" in src else _ipv4(src, dst, 132, body)


def _sip(
    first: str, cseq: str, to_tag: bool, body: str = "", extra: str = "", a: str = A, b: str = B
) -> bytes:
    headers = [
        first,
        f"Via: SIP/2.0/UDP {_host(a)}:5060;branch=z9hG4bK-{abs(hash(first + cseq)) % 10**8}",
        "Max-Forwards: 70",
        f"From: \"Room\" <sip:room@{_host(a)}>;tag=a1",
        f"To: <sip:123456789@{_host(b)}>" + (";tag=b2" if to_tag else ""),
        f"Call-ID: {CALL_ID}",
        f"CSeq: {cseq}",
        f"Contact: <sip:room@{_host(a)}:5060>",
    ]
    if extra:
        headers.append(extra)
    if body:
        headers.append("Content-Type: application/sdp" if body.startswith("v=") else
                       "Content-Type: application/dtmf-relay")
    headers.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(headers) + "\r\n\r\n" + body).encode()


def _host(addr: str) -> str:
    return f"[{addr}]" if ":" in addr else addr


def _sdp(addr: str, port: int, fax: bool = False) -> str:
    """The audio offer (PCMA and telephone-event), or with ``fax`` a T.38 offer on the port."""
    family = "IP6" if ":" in addr else "IP4"
    media = (
        f"m=image {port} udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n"
        "a=T38FaxRateManagement:transferredTCF\r\n" if fax else
        f"m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
    )
    version = 2 if fax else 1
    return (f"v=0\r\no=- 1 {version} IN {family} {addr}\r\ns=-\r\nc=IN {family} {addr}\r\n"
            f"t=0 0\r\n{media}")


def write_synthetic_call(
    path: Path,
    *,
    linktype: int = LINKTYPE_ETHERNET,
    fmt: str = "pcap",
    sip_port: int = 5060,
    transport: str = "udp",
    background: bool = False,
    malformed: bool = False,
    with_sip: bool = True,
    truncate_tail: bool = False,
    packets: int = 150,
    ipv6: bool = False,
    vlan: int | None = None,
    encapsulate: Callable[[bytes], list[bytes]] | None = None,
    fax_offer_at_s: float | None = None,
) -> SyntheticCall:
    """With ``encapsulate``, every IP packet becomes the link-layer frames it returns, written
    with ``linktype`` as they are (see :mod:`tests.analysis.encapsulate`)."""
    a, b = (A6, B6) if ipv6 else (A, B)
    rng = random.Random(7)
    out: list[tuple[float, bytes]] = []
    t_invite, t_200 = 0.100, 0.350
    seq_tcp = {"a": 1000, "b": 5000}

    def sip(t: float, from_a: bool, payload: bytes) -> None:
        src, dst = (a, b) if from_a else (b, a)
        sport, dport = (5062, sip_port) if from_a else (sip_port, 5062)
        if transport == "udp":
            out.append((t, udp_frame(src, dst, sport, dport, payload)))
            return
        if transport == "sctp":
            out.append((t, sctp_packet(src, dst, sport, dport, payload, len(out))))
            return
        if transport == "ws":
            payload = websocket_frame(payload)
        side = "a" if from_a else "b"
        other = "b" if from_a else "a"
        # split every message in two segments: SIP over TCP reassembly is exercised each time
        cut = len(payload) // 2
        for k, part in enumerate((payload[:cut], payload[cut:])):
            out.append((t + k * 0.0005, tcp_frame(src, dst, sport, dport, seq_tcp[side],
                                                  seq_tcp[other], 0x18, part)))
            seq_tcp[side] += len(part)

    if with_sip:
        if transport in ("tcp", "ws"):
            out.append((t_invite - 0.002, tcp_frame(a, b, 5062, sip_port, 999, 0, 0x02, b"")))
            out.append((t_invite - 0.0015, tcp_frame(b, a, sip_port, 5062, 4999, 1000, 0x12,
                                                     b"")))
            out.append((t_invite - 0.001, tcp_frame(a, b, 5062, sip_port, 1000, 5000, 0x10, b"")))
        if transport == "ws":  # the HTTP upgrade (RFC 6455) to the SIP subprotocol (RFC 7118)
            for k, (from_a, text) in enumerate(_WS_HANDSHAKE):
                side, other = ("a", "b") if from_a else ("b", "a")
                src, dst = (a, b) if from_a else (b, a)
                sport, dport = (5062, sip_port) if from_a else (sip_port, 5062)
                out.append((t_invite - 0.0009 + k * 0.0002, tcp_frame(
                    src, dst, sport, dport, seq_tcp[side], seq_tcp[other], 0x18, text)))
                seq_tcp[side] += len(text)
        uri = f"sip:123456789@{_host(b)}"
        sip(t_invite, True, _sip(f"INVITE {uri} SIP/2.0", "1 INVITE", False, _sdp(a, A_RTP),
                                 a=a, b=b))
        sip(t_invite + 0.010, False, _sip("SIP/2.0 100 Trying", "1 INVITE", False, a=a, b=b))
        sip(t_invite + 0.050, False, _sip("SIP/2.0 180 Ringing", "1 INVITE", True, a=a, b=b))
        sip(t_200, False, _sip("SIP/2.0 200 OK", "1 INVITE", True, _sdp(b, B_RTP), a=a, b=b))
        sip(t_200 + 0.005, True, _sip(f"ACK {uri} SIP/2.0", "1 ACK", True, a=a, b=b))
        sip(1.5, True, _sip(f"INFO {uri} SIP/2.0", "2 INFO", True,
                            "Signal=7\r\nDuration=160\r\n", a=a, b=b))
        sip(1.51, False, _sip("SIP/2.0 200 OK", "2 INFO", True, a=a, b=b))
        if fax_offer_at_s is not None:
            # a fax machine's switch to T.38 on the audio port, declined: the audio goes on
            t = fax_offer_at_s
            sip(t, True, _sip(f"INVITE {uri} SIP/2.0", "4 INVITE", True, _sdp(a, A_RTP, fax=True),
                              a=a, b=b))
            sip(t + 0.01, False, _sip("SIP/2.0 488 Not Acceptable Here", "4 INVITE", True,
                                      a=a, b=b))
            sip(t + 0.015, True, _sip(f"ACK {uri} SIP/2.0", "4 ACK", True, a=a, b=b))
    t0 = t_200 + 0.02
    lost_seq = 40
    ts_a, ts_b = 1000, 90000
    for i in range(packets):
        t = t0 + i * 0.020
        if i != lost_seq:
            body = rtp_payload(100 + i, ts_a + 160 * i, 0x11111111, 8, b"\xd5" * 160, i == 0)
            out.append((t + rng.uniform(0, 0.002), udp_frame(a, b, A_RTP, B_RTP, body)))
        body = rtp_payload(7000 + i, ts_b + 160 * i, 0x22222222, 8, b"\xd5" * 160, i == 0)
        out.append((t + 0.003 + rng.uniform(0, 0.004), udp_frame(b, a, B_RTP, A_RTP, body)))
    # digit 5 from A as RFC 4733 events, after the audio, on the same SSRC
    ev_seq, ev_ts = 100 + packets, ts_a + 160 * packets
    for k in range(4):
        end = 0x80 if k >= 2 else 0
        payload = struct.pack("!BBH", 5, end | 10, 160 * (k + 1))
        body = rtp_payload(ev_seq + k, ev_ts, 0x11111111, 101, payload, k == 0)
        out.append((t0 + packets * 0.020 + k * 0.02, udp_frame(a, b, A_RTP, B_RTP, body)))
    t_end = t0 + packets * 0.020 + 0.2
    if with_sip:
        sip(t_end, True, _sip(f"BYE {uri} SIP/2.0", "3 BYE", True, a=a, b=b))
        sip(t_end + 0.01, False, _sip("SIP/2.0 200 OK", "3 BYE", True, a=a, b=b))
    if background:
        for k in range(50):
            t = 0.05 + k * 0.05
            out.append((t, udp_frame("10.9.9.9", "10.9.9.1", 33000 + k, 53,
                                     struct.pack("!HHHHHH", k, 0x0100, 1, 0, 0, 0)
                                     + b"\x07example\x03com\x00\x00\x01\x00\x01")))
            out.append((t + 0.001, tcp_frame("10.9.9.9", "10.9.9.2", 44000, 80, 1 + 40 * k, 1,
                                             0x18, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"[:40])))
    if malformed:
        # an RTP header that claims 15 CSRCs but carries none, on the A->B stream
        bad = bytes([0x8F, 8]) + struct.pack("!HII", 100 + packets + 10, 0, 0x11111111)
        out.append((t_end - 0.05, udp_frame(a, b, A_RTP, B_RTP, bad)))
    out.sort(key=lambda item: item[0])
    if encapsulate is not None:
        write_frames(path, linktype, [(1_700_000_000.0 + t, frame) for t, pkt in out
                                      for frame in encapsulate(pkt)])
    else:
        with CaptureWriter(path, linktype, fmt, vlan) as writer:
            for t, pkt in out:
                writer.write(1_700_000_000.0 + t, pkt)
    if truncate_tail:
        data = path.read_bytes()
        path.write_bytes(data[:-20])
    return SyntheticCall(
        path=path,
        setup_ms=(t_200 - t_invite) * 1000.0,
        packets_per_direction=packets,
        lost_a_to_b=1,
        digits_rtp="5",
        digits_info="7" if with_sip else "",
    )
