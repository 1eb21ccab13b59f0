"""Write captures with our own code: pcap/pcapng writer, packet builders, and a day of calls.

- :class:`CaptureWriter` writes pcap or pcapng with Ethernet, Linux cooked (SLL) or raw-IP link
  types; :func:`udp_frame`/:func:`tcp_frame` build IPv4 packets (checksums left at zero, which
  tshark does not verify by default).
- :func:`read_pcap` reads back a classic pcap (what tshark writes with ``-F pcap``).
- :func:`replicate_calls` turns one real captured call into many: each copy gets its own
  addresses (10.x.y.1 calls 10.x.y.2), Call-ID and SSRCs, its RTP is extended by tiling the real
  packets with shifted sequence numbers and timestamps, and copies start at staggered times.
  SIP bodies are rewritten so the SDP addresses stay right and Content-Length matches.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self

__all__ = [
    "LINKTYPE_ETHERNET",
    "LINKTYPE_LINUX_SLL",
    "LINKTYPE_RAW",
    "CaptureWriter",
    "Packet",
    "read_pcap",
    "replicate_calls",
    "rtp_payload",
    "tcp_frame",
    "udp_frame",
]

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113


@dataclass(frozen=True)
class Packet:
    """A decoded IPv4 UDP/TCP packet of a capture (what replication needs)."""

    time_s: float
    src: str
    dst: str
    proto: int  # 17 UDP, 6 TCP
    sport: int
    dport: int
    payload: bytes
    tcp_seq: int = 0
    tcp_ack: int = 0
    tcp_flags: int = 0


def _ip(addr: str) -> bytes:
    return bytes(int(p) for p in addr.split("."))


def _ipv4(src: str, dst: str, proto: int, body: bytes, ident: int = 0) -> bytes:
    return struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident & 0xFFFF, 0x4000, 64, proto, 0,
        _ip(src), _ip(dst),
    ) + body


def _ipv6(src: str, dst: str, proto: int, body: bytes) -> bytes:
    import ipaddress

    return struct.pack("!IHBB", 6 << 28, len(body), proto, 64) + (
        ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + body
    )


def udp_frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    """An IPv4 or IPv6 (if ``src`` has a colon) UDP packet, without link header."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return _ipv6(src, dst, 17, udp) if ":" in src else _ipv4(src, dst, 17, udp)


def tcp_frame(
    src: str, dst: str, sport: int, dport: int, seq: int, ack: int, flags: int, payload: bytes
) -> bytes:
    """An IPv4 or IPv6 TCP packet (flags: 0x02 SYN, 0x10 ACK, 0x18 PSH+ACK, 0x11 FIN+ACK)."""
    tcp = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0
    ) + payload
    return _ipv6(src, dst, 6, tcp) if ":" in src else _ipv4(src, dst, 6, tcp)


def rtp_payload(
    seq: int, timestamp: int, ssrc: int, pt: int, payload: bytes, marker: bool = False
) -> bytes:
    return struct.pack(
        "!BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc
    ) + payload


def _link_header(linktype: int, ip_version: int = 4, vlan: int | None = None) -> bytes:
    ethertype = 0x86DD if ip_version == 6 else 0x0800
    if linktype == LINKTYPE_ETHERNET:
        macs = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01"
        tag = struct.pack("!HH", 0x8100, vlan) if vlan is not None else b""
        return macs + tag + struct.pack("!H", ethertype)
    if linktype == LINKTYPE_LINUX_SLL:
        # packet type 0 (to us), ARPHRD_ETHER, address length 6, address, protocol
        return struct.pack("!HHH8sH", 0, 1, 6, b"\x00\x00\x00\x00\x00\x01\x00\x00",
                           ethertype)
    if linktype == LINKTYPE_RAW:
        return b""
    raise ValueError(f"unsupported link type {linktype}")


class CaptureWriter:
    """Write IPv4 packets to a pcap or pcapng file with the given link type."""

    def __init__(
        self, path: Path, linktype: int = LINKTYPE_ETHERNET, fmt: str = "pcap",
        vlan: int | None = None,
    ) -> None:
        if fmt not in ("pcap", "pcapng"):
            raise ValueError(f"format {fmt!r}: pcap or pcapng")
        self.path, self.linktype, self.fmt, self.vlan = path, linktype, fmt, vlan
        _link_header(linktype)  # unsupported link types fail here
        self._file: BinaryIO | None = None
        self.count = 0

    def __enter__(self) -> Self:
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in __exit__
        if self.fmt == "pcap":
            self._file.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, self.linktype))
        else:
            shb_body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
            self._block(0x0A0D0D0A, shb_body)
            # interface: link type, snaplen, option if_tsresol = 9 (nanoseconds)
            idb_body = struct.pack("<HHI", self.linktype, 0, 262144)
            idb_body += struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
            self._block(0x00000001, idb_body)
        return self

    def _block(self, kind: int, body: bytes) -> None:
        assert self._file is not None
        pad = (-len(body)) % 4
        total = 12 + len(body) + pad
        self._file.write(struct.pack("<II", kind, total) + body + b"\x00" * pad
                         + struct.pack("<I", total))

    def write(self, time_s: float, ip_packet: bytes, orig_len: int | None = None) -> None:
        """Append one packet; ``orig_len`` larger than the data marks it truncated."""
        assert self._file is not None, "use CaptureWriter as a context manager"
        header = _link_header(self.linktype, ip_packet[0] >> 4 if ip_packet else 4, self.vlan)
        data = header + ip_packet
        length = orig_len + len(header) if orig_len is not None else len(data)
        if self.fmt == "pcap":
            sec = int(time_s)
            usec = int(round((time_s - sec) * 1e6))
            if usec >= 1_000_000:
                sec, usec = sec + 1, usec - 1_000_000
            self._file.write(struct.pack("<IIII", sec, usec, len(data), length) + data)
        else:
            ns = int(round(time_s * 1e9))
            body = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(data), length) + data
            self._block(0x00000006, body)
        self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_pcap(path: Path) -> list[Packet]:
    """IPv4 UDP and TCP packets of a classic pcap file (Ethernet, SLL or raw IP)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian, nano = "<", magic == 0xA1B23C4D
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian, nano = ">", magic == 0x4D3CB2A1
    else:
        raise ValueError(f"{path} is not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    skip = {LINKTYPE_ETHERNET: 14, LINKTYPE_LINUX_SLL: 16, LINKTYPE_RAW: 0}.get(linktype)
    if skip is None:
        raise ValueError(f"link type {linktype} not supported")
    out: list[Packet] = []
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, _ = struct.unpack(endian + "IIII", data[pos : pos + 16])
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        ip = frame[skip:]
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        ihl = (ip[0] & 0x0F) * 4
        proto = ip[9]
        src = ".".join(str(b) for b in ip[12:16])
        dst = ".".join(str(b) for b in ip[16:20])
        t = sec + frac / (1e9 if nano else 1e6)
        body = ip[ihl : struct.unpack("!H", ip[2:4])[0]]
        if proto == 17 and len(body) >= 8:
            sport, dport = struct.unpack("!HH", body[:4])
            out.append(Packet(t, src, dst, 17, sport, dport, body[8:]))
        elif proto == 6 and len(body) >= 20:
            sport, dport, seq, ack, off, flags = struct.unpack("!HHIIBB", body[:14])
            out.append(Packet(t, src, dst, 6, sport, dport, body[(off >> 4) * 4 :], seq, ack,
                              flags))
    return out


# --- a day of calls out of one ---------------------------------------------------------------

_CALL_ID = re.compile(rb"^(Call-ID|i)\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
_CONTENT_LENGTH = re.compile(rb"^(Content-Length|l)\s*:\s*\d+", re.IGNORECASE | re.MULTILINE)


def _is_rtp(p: Packet) -> bool:
    return p.proto == 17 and len(p.payload) >= 12 and p.payload[0] >> 6 == 2 and (
        p.payload[1] & 0x7F) not in range(72, 77)


def _rewrite_sip(payload: bytes, old_ip: bytes, new_ip: bytes, suffix: bytes) -> bytes:
    head, sep, body = payload.partition(b"\r\n\r\n")
    head = head.replace(old_ip, new_ip)
    body = body.replace(old_ip, new_ip)
    head = _CALL_ID.sub(lambda m: m.group(1) + b": " + m.group(2) + suffix, head)
    head = _CONTENT_LENGTH.sub(lambda m: m.group(1) + b": " + str(len(body)).encode(), head)
    return head + sep + body


def _tiled_rtp(rtp: Sequence[Packet], tiles: int) -> Iterator[tuple[float, Packet, int, int]]:
    """The RTP packets of one direction repeated ``tiles`` times back to back:
    ``(time offset, packet, sequence shift, timestamp shift)``."""
    if not rtp:
        return
    first, last = rtp[0], rtp[-1]
    span_t = last.time_s - first.time_s + 0.02
    seqs = [struct.unpack("!H", p.payload[2:4])[0] for p in rtp]
    tss = [struct.unpack("!I", p.payload[4:8])[0] for p in rtp]
    span_seq = (seqs[-1] - seqs[0]) % 65536 + 1
    span_ts = (tss[-1] - tss[0]) % (1 << 32) + 160
    for k in range(tiles):
        for p in rtp:
            yield k * span_t, p, k * span_seq, k * span_ts


def replicate_calls(
    packets: Sequence[Packet],
    calls: int,
    rtp_tiles: int,
    stagger_s: float = 0.5,
    old_ip: str = "127.0.0.1",
    tcp_every: int = 0,
) -> list[tuple[float, bytes]]:
    """``calls`` copies of the call in ``packets`` (SIP over UDP + RTP), each with its RTP tiled
    ``rtp_tiles`` times; returns ``(time, IPv4 packet)`` sorted by time.

    The side that sends the first INVITE becomes 10.X.Y.1 in copy N (X.Y = N), the other 10.X.Y.2.
    With ``tcp_every=K``, every K-th copy carries its SIP over one TCP connection instead (with
    its handshake; each message split over two segments).
    """
    invite = next(p for p in packets if p.proto == 17 and p.payload.startswith(b"INVITE "))
    caller_ports = {invite.sport}
    rtp = [p for p in packets if _is_rtp(p)]
    sip = [p for p in packets if p.proto == 17 and not _is_rtp(p) and b"SIP/2.0" in p.payload[:200]]
    # RTP sent by the caller goes to the port the callee's SDP announced, and vice versa; so the
    # caller's RTP source ports are those RTP packets come from whose first packet is earliest.
    by_dir: dict[tuple[int, int], list[Packet]] = {}
    for p in rtp:
        by_dir.setdefault((p.sport, p.dport), []).append(p)
    ssrcs = {key: struct.unpack("!I", ps[0].payload[8:12])[0] for key, ps in by_dir.items()}
    start = min(p.time_s for p in packets)
    t_end_rtp = max(p.time_s for p in rtp) if rtp else start
    caller_rtp_ports = {
        key[0] for key, ps in by_dir.items() if any(f"{key[0]}".encode() in s.payload
                                                    for s in sip if s.sport in caller_ports)
    }
    out: list[tuple[float, bytes]] = []
    for n in range(calls):
        a, b = f"10.{n // 250}.{n % 250}.1", f"10.{n // 250}.{n % 250}.2"
        t0 = n * stagger_s - start
        suffix = f"-{n}".encode()
        extra = 0.0
        rtp_span = 0.0
        for (sport, dport), ps in by_dir.items():
            from_caller = sport in caller_rtp_ports
            src, dst = (a, b) if from_caller else (b, a)
            ssrc = (ssrcs[(sport, dport)] + 7919 * (n + 1)) & 0xFFFFFFFF
            for dt, p, dseq, dts in _tiled_rtp(ps, rtp_tiles):
                seq = (struct.unpack("!H", p.payload[2:4])[0] + dseq) & 0xFFFF
                ts = (struct.unpack("!I", p.payload[4:8])[0] + dts) & 0xFFFFFFFF
                body = p.payload[:2] + struct.pack("!HII", seq, ts, ssrc) + p.payload[12:]
                t = p.time_s + dt + t0
                rtp_span = max(rtp_span, dt)
                out.append((t, udp_frame(src, dst, sport, dport, body)))
        extra = rtp_span
        over_tcp = tcp_every > 0 and n % tcp_every == 0
        seq = {a: 1_000_000, b: 2_000_000}
        if over_tcp:
            t_syn = invite.time_s + t0 - 0.002
            ports = (invite.sport, invite.dport)
            out.append((t_syn, tcp_frame(a, b, *ports, seq[a] - 1, 0, 0x02, b"")))
            out.append((t_syn + 0.0005, tcp_frame(b, a, ports[1], ports[0], seq[b] - 1, seq[a],
                                                  0x12, b"")))
            out.append((t_syn + 0.001, tcp_frame(a, b, *ports, seq[a], seq[b], 0x10, b"")))
        for p in sip:
            from_caller = p.sport in caller_ports or p.src == invite.src and p.sport == invite.sport
            src, dst = (a, b) if from_caller else (b, a)
            payload = _rewrite_sip(p.payload, old_ip.encode(), src.encode(), suffix)
            # messages after the media (BYE and its answer) move with the extended media
            shift = extra if p.time_s > t_end_rtp - 0.05 else 0.0
            t = p.time_s + t0 + shift
            if not over_tcp:
                out.append((t, udp_frame(src, dst, p.sport, p.dport, payload)))
                continue
            sport, dport = (invite.sport, invite.dport) if from_caller else (
                invite.dport, invite.sport)
            cut = len(payload) // 2
            # the second half 10 us after the first: before any answer (a UA on loopback
            # answers within 0.2 ms, and an answer sent before the request's end is seen is
            # not reassembled by tshark, nor by any TCP stack)
            for k, part in enumerate((payload[:cut], payload[cut:])):
                out.append((t + k * 0.00001, tcp_frame(src, dst, sport, dport, seq[src],
                                                      seq[dst], 0x18, part)))
                seq[src] += len(part)
    out.sort(key=lambda item: item[0])
    return out


def write_packets(
    path: Path, packets: Iterable[tuple[float, bytes]], linktype: int = LINKTYPE_ETHERNET,
    fmt: str = "pcap", epoch: float = 1_700_000_000.0,
) -> int:
    with CaptureWriter(path, linktype, fmt) as writer:
        for t, pkt in packets:
            writer.write(epoch + t, pkt)
        return writer.count
