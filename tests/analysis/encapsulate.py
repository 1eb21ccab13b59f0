"""Link layers and tunnels around IP packets, written byte by byte: each function returns the
link type and a function from one IP packet to the frames that carry it (several when it is
fragmented). Used with :func:`tests.analysis.synthetic.write_synthetic_call`."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from bench.capture_gen import _ipv4

__all__ = ["ENCAPSULATIONS", "Wrap", "pcap_to_erf"]

Wrap = Callable[[bytes], list[bytes]]

_MACS = b"\x00\x00\x5e\x00\x53\x02" + b"\x00\x00\x5e\x00\x53\x01"
_OUTER_A, _OUTER_B = "203.0.113.1", "203.0.113.2"


def _etype(ip: bytes) -> int:
    return 0x86DD if ip[0] >> 4 == 6 else 0x0800


def _ppp_proto(ip: bytes) -> int:
    return 0x0057 if ip[0] >> 4 == 6 else 0x0021


def ethernet(ip: bytes) -> list[bytes]:
    return [_MACS + struct.pack("!H", _etype(ip)) + ip]


def vlan(ip: bytes) -> list[bytes]:
    return [_MACS + struct.pack("!HHH", 0x8100, 42, _etype(ip)) + ip]


def qinq(ip: bytes) -> list[bytes]:
    return [_MACS + struct.pack("!HHHHH", 0x88A8, 100, 0x8100, 42, _etype(ip)) + ip]


def mpls(ip: bytes) -> list[bytes]:
    return [_MACS + struct.pack("!HI", 0x8847, (16 << 12) | 0x100 | 64) + ip]


def sll(ip: bytes) -> list[bytes]:
    return [struct.pack("!HHH8sH", 0, 1, 6, _MACS[:6] + b"\x00\x00", _etype(ip)) + ip]


def sll2(ip: bytes) -> list[bytes]:
    # protocol, reserved, interface index, ARPHRD_ETHER, packet type, address length, address
    return [struct.pack("!HHIHBB8s", _etype(ip), 0, 2, 1, 0, 6, _MACS[:6] + b"\x00\x00") + ip]


def raw(ip: bytes) -> list[bytes]:
    return [ip]


def null(ip: bytes) -> list[bytes]:  # BSD loopback: address family in the host's byte order
    return [struct.pack("<I", 30 if ip[0] >> 4 == 6 else 2) + ip]


def loop(ip: bytes) -> list[bytes]:  # OpenBSD loopback: address family in network order
    return [struct.pack("!I", 24 if ip[0] >> 4 == 6 else 2) + ip]


def pppoe(ip: bytes) -> list[bytes]:
    ppp = struct.pack("!H", _ppp_proto(ip)) + ip
    return [_MACS + struct.pack("!HBBHH", 0x8864, 0x11, 0, 0x2A, len(ppp)) + ppp]


def ppp(ip: bytes) -> list[bytes]:
    return [b"\xff\x03" + struct.pack("!H", _ppp_proto(ip)) + ip]


def ip_in_ip(ip: bytes) -> list[bytes]:
    return ethernet(_ipv4(_OUTER_A, _OUTER_B, 41 if ip[0] >> 4 == 6 else 4, ip))


def gre(ip: bytes) -> list[bytes]:
    return ethernet(_ipv4(_OUTER_A, _OUTER_B, 47, struct.pack("!HH", 0, _etype(ip)) + ip))


def gre_ethernet(ip: bytes) -> list[bytes]:  # transparent Ethernet bridging (0x6558)
    return ethernet(_ipv4(_OUTER_A, _OUTER_B, 47, struct.pack("!HH", 0, 0x6558)
                          + ethernet(ip)[0]))


_FRAGMENT_AT = 400
_identity = [0x4000]


def ipv4_fragments(ip: bytes) -> list[bytes]:
    """IPv4 packets longer than 400 bytes cut into 256-byte fragments (then Ethernet)."""
    if ip[0] >> 4 != 4 or len(ip) <= _FRAGMENT_AT:
        return ethernet(ip)
    header, body = bytearray(ip[:20]), ip[20:]
    _identity[0] += 1
    frames = []
    for off in range(0, len(body), 256):
        part = body[off : off + 256]
        more = off + 256 < len(body)
        h = bytearray(header)
        struct.pack_into("!HHH", h, 2, 20 + len(part), _identity[0], (off // 8) | (
            0x2000 if more else 0))
        frames += ethernet(bytes(h) + part)
    return frames


def ipv6_fragments(ip: bytes) -> list[bytes]:
    """IPv6 packets longer than 400 bytes cut into fragments with a fragment header, on a
    Linux cooked (v1) link, as a capture on a Linux proxy has them."""
    if ip[0] >> 4 != 6 or len(ip) <= _FRAGMENT_AT:
        return sll(ip)
    header, body = bytearray(ip[:40]), ip[40:]
    next_header = header[6]
    _identity[0] += 1
    frames = []
    for off in range(0, len(body), 256):
        part = body[off : off + 256]
        more = off + 256 < len(body)
        h = bytearray(header)
        h[6] = 44
        struct.pack_into("!H", h, 4, 8 + len(part))
        frag = struct.pack("!BBHI", next_header, 0, off | (1 if more else 0), _identity[0])
        frames += sll(bytes(h) + frag + part)
    return frames


#: name -> (link type, wrap, IPv6 packets inside)
ENCAPSULATIONS: dict[str, tuple[int, Wrap, bool]] = {
    "ethernet": (1, ethernet, False),
    "vlan": (1, vlan, False),
    "qinq": (1, qinq, True),
    "mpls": (1, mpls, False),
    "linux-cooked-v1": (113, sll, False),
    "linux-cooked-v2": (276, sll2, True),
    "raw-ip": (101, raw, False),
    "bsd-null": (0, null, False),
    "bsd-loop": (108, loop, True),
    "pppoe": (1, pppoe, False),
    "pppoe-ipv6": (1, pppoe, True),
    "ppp": (9, ppp, False),
    "ip-in-ip": (1, ip_in_ip, False),
    "ipv6-in-ipv4": (1, ip_in_ip, True),
    "gre": (1, gre, False),
    "gre-ethernet": (1, gre_ethernet, False),
    "ipv4-fragments": (1, ipv4_fragments, False),
    "ipv6-fragments-sll": (113, ipv6_fragments, True),
}


def pcap_to_erf(pcap: Path, erf: Path) -> None:
    """Endace ERF records (type 2, Ethernet) of the frames of a little-endian microsecond pcap
    file of Ethernet frames: editcap writes ERF only from ERF-encapsulated input."""
    data = pcap.read_bytes()
    out = bytearray()
    pos = 24
    while pos + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack_from("<IIII", data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        body = b"\x00\x00" + frame  # Ethernet records: offset and pad bytes first
        body += b"\x00" * (-(16 + len(body)) % 8)
        stamp = (sec << 32) | (usec << 32) // 1_000_000
        out += struct.pack("<Q", stamp) + struct.pack("!BBHHH", 2, 0x04, 16 + len(body), 0,
                                                      orig + 4) + body
    erf.write_bytes(bytes(out))
