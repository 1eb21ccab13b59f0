"""Many short SIP calls in one capture: the worst case for fixed costs per call.

Each call: INVITE (with SDP), 100, 180, 200 (with SDP), ACK, then ``rtp_per_direction`` G.711
packets each way, then BYE and its 200: 7 SIP messages and two RTP streams, over UDP, each call
between its own pair of addresses and ports; calls start 20 ms apart and overlap.
"""

from __future__ import annotations

from pathlib import Path

from bench.capture_gen import rtp_payload, udp_frame, write_packets

__all__ = ["short_calls", "write_short_calls"]


def _sdp(addr: str, port: int) -> str:
    return (f"v=0\r\no=- 1 1 IN IP4 {addr}\r\ns=-\r\nc=IN IP4 {addr}\r\nt=0 0\r\n"
            f"m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
            "a=rtpmap:101 telephone-event/8000\r\n")


def _message(first: str, call_id: str, cseq: str, a: str, b: str, tag: bool,
             body: str = "") -> bytes:
    lines = [first, f"Via: SIP/2.0/UDP {a}:5060;branch=z9hG4bK{abs(hash(call_id + cseq))}",
             f"From: <sip:room@{a}>;tag=1", f"To: <sip:9999@{b}>" + (";tag=2" if tag else ""),
             f"Call-ID: {call_id}", f"CSeq: {cseq}", f"Contact: <sip:room@{a}:5060>"]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def short_calls(calls: int, rtp_per_direction: int = 10) -> list[tuple[float, bytes]]:
    out: list[tuple[float, bytes]] = []
    for n in range(calls):
        a, b = f"10.{64 + n // 250}.{n % 250}.1", f"10.{64 + n // 250}.{n % 250}.2"
        call_id = f"short-{n}@bench"
        t = n * 0.02
        uri = f"INVITE sip:9999@{b} SIP/2.0"

        def sip(dt: float, from_a: bool, msg: bytes, a: str = a, b: str = b,
                t: float = t) -> None:
            src, dst = (a, b) if from_a else (b, a)
            out.append((t + dt, udp_frame(src, dst, 5060, 5060, msg)))

        sip(0.0, True, _message(uri, call_id, "1 INVITE", a, b, False, _sdp(a, 20000)))
        sip(0.005, False, _message("SIP/2.0 100 Trying", call_id, "1 INVITE", a, b, False))
        sip(0.05, False, _message("SIP/2.0 180 Ringing", call_id, "1 INVITE", a, b, True))
        sip(0.2, False, _message("SIP/2.0 200 OK", call_id, "1 INVITE", a, b, True,
                                 _sdp(b, 30000)))
        sip(0.205, True, _message(f"ACK sip:9999@{b} SIP/2.0", call_id, "1 ACK", a, b, True))
        for k in range(rtp_per_direction):
            payload = b"\xff" * 160
            out.append((t + 0.22 + 0.02 * k, udp_frame(
                a, b, 20000, 30000, rtp_payload(k, 160 * k, 0x1000 + n, 0, payload, k == 0))))
            out.append((t + 0.221 + 0.02 * k, udp_frame(
                b, a, 30000, 20000, rtp_payload(k, 160 * k, 0x9000 + n, 0, payload, k == 0))))
        end = 0.24 + 0.02 * rtp_per_direction
        sip(end, True, _message(f"BYE sip:9999@{b} SIP/2.0", call_id, "2 BYE", a, b, True))
        sip(end + 0.005, False, _message("SIP/2.0 200 OK", call_id, "2 BYE", a, b, True))
    out.sort(key=lambda item: item[0])
    return out


def write_short_calls(path: Path, calls: int, rtp_per_direction: int = 10) -> int:
    return write_packets(path, short_calls(calls, rtp_per_direction))
