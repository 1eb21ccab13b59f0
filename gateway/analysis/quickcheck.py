"""Before tshark starts on a small capture: does it hold anything tshark must print?

tshark prints the signalling the header scan cannot read itself (SIP over TCP, fragments,
tunnels, Q.931: :data:`gateway.analysis.tshark_streams.SIGNALING_NOT_READ_DIRECTLY`), and a
printing run builds every packet's protocol tree: on a 4,269-packet SIP/RTP capture over UDP
it takes 0.21 s instead of 0.18 s, most of what the analysis adds to tshark's own time. Which
run it needs is known only after the header scan, which waits for numpy; a run started again
costs its whole start-up (0.15 s).

This check reads a small classic pcap file in plain Python before anything else is imported,
and answers False only when it finds nothing tshark would print: frames of Ethernet, raw IP or
Linux cooked captures whose IP packets are whole (not fragments) and carry UDP not on a port
tshark decodes as a tunnel (VXLAN, GTP, L2TP...), or TCP that is not H.225.0 (port 1720 or
TPKT with Q.931), SIP over TLS (5061) or a WebSocket upgrade, beside ARP and 802.3 (STP, CDP)
frames. SIP over plain TCP is reassembled by the analysis itself (:mod:`gateway.analysis.
sip_tcp`; on other ports than the SIP ones, checked against the number of SIP messages tshark
decoded). Anything else (SCTP, ICMP, IP-in-IP, GRE, VLAN, PPPoE, other link types and
containers) answers True, and tshark prints, as before. A wrong False costs only time: when the
header scan finds signalling for tshark to print after all, the analysis starts tshark again,
printing (:mod:`gateway.analysis.analyse`).
"""

from __future__ import annotations

import struct
from pathlib import Path

__all__ = ["QUICK_CHECK_BYTES", "may_need_printing"]

#: larger captures are not checked (reading them in Python would cost more than it saves)
QUICK_CHECK_BYTES = 2_000_000

_ETHERNET, _RAW, _RAW_IP, _SLL, _SLL2 = 1, 101, 12, 113, 276
_IPV4, _IPV6 = 0x0800, 0x86DD
_UDP, _TCP = 17, 6
_ARP = 0x0806
_SIGNALLING_TCP_PORTS = frozenset((5061, 1720))
#: UDP ports tshark decodes as tunnels by default (VXLAN, Geneve, GTP, L2TP, TZSP, Teredo,
#: CAPWAP, LISP, MPLS in UDP): SIP inside is printed by tshark, never read by the scan
_TUNNEL_UDP_PORTS = frozenset((4789, 6081, 2152, 2123, 1701, 37008, 3544, 5246, 5247, 4341,
                               6635))


def _ip_offset(linktype: int, frame: bytes) -> int | None:
    """Where the IP header starts, or None (not plain Ethernet/raw/cooked IP)."""
    if linktype == _ETHERNET:
        kind = int.from_bytes(frame[12:14], "big")
        return 14 if kind in (_IPV4, _IPV6) else None
    if linktype in (_RAW, _RAW_IP):
        return 0
    if linktype == _SLL:
        kind = int.from_bytes(frame[14:16], "big")
        return 16 if kind in (_IPV4, _IPV6) else None
    if linktype == _SLL2:
        kind = int.from_bytes(frame[0:2], "big")
        return 20 if kind in (_IPV4, _IPV6) else None
    return None


def _tcp_signalling(segment: bytes, ports: tuple[int, int]) -> bool:
    """A TCP segment whose signalling tshark prints: H.225.0 and WebSocket (SIP over plain TCP
    is reassembled by the analysis, :mod:`gateway.analysis.sip_tcp`)."""
    if ports[0] in _SIGNALLING_TCP_PORTS or ports[1] in _SIGNALLING_TCP_PORTS:
        return True
    payload = segment[(segment[12] >> 4) * 4 :] if len(segment) >= 20 else b""
    if len(payload) < 4:
        return False
    if payload[:2] == b"\x03\x00" and payload[4:5] == b"\x08":
        return True  # TPKT carrying Q.931: H.225.0
    # SIP on another port is reassembled by the analysis too, and checked against the number
    # of SIP messages tshark decoded (printing only when they differ)
    return payload[:4] in (b"GET ", b"HTTP") and b"websocket" in payload[:2048].lower()


def _needs_tshark(frame: bytes, at: int) -> bool:
    """The IP packet at ``at`` holds something only tshark's printing run reads."""
    if len(frame) < at + 20:
        return True
    version = frame[at] >> 4
    if version == 4:
        flags_offset = int.from_bytes(frame[at + 6 : at + 8], "big")
        if flags_offset & 0x3FFF:  # more fragments, or an offset: a fragment
            return True
        proto, l4 = frame[at + 9], at + (frame[at] & 0x0F) * 4
    elif version == 6 and len(frame) >= at + 40:
        proto, l4 = frame[at + 6], at + 40
    else:
        return True
    if proto not in (_UDP, _TCP) or len(frame) < l4 + 8:
        return True
    ports = (int.from_bytes(frame[l4 : l4 + 2], "big"),
             int.from_bytes(frame[l4 + 2 : l4 + 4], "big"))
    if proto == _UDP:
        return ports[0] in _TUNNEL_UDP_PORTS or ports[1] in _TUNNEL_UDP_PORTS
    return _tcp_signalling(frame[l4:], ports)


def may_need_printing(path: Path) -> bool:
    """False only when the capture surely holds nothing tshark would print (see module)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(QUICK_CHECK_BYTES + 1)
    except OSError:
        return True
    if len(data) > QUICK_CHECK_BYTES or len(data) < 24:
        return True
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        return True  # pcapng, compressed, another container: as before
    linktype = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    record = struct.Struct(endian + "IIII").unpack_from
    pos, size = 24, len(data)
    while pos + 16 <= size:
        _, _, incl, _ = record(data, pos)
        frame = data[pos + 16 : pos + 16 + incl]
        pos += 16 + incl
        if len(frame) < incl:
            return True  # cut short: let the full scan and tshark judge
        at = _ip_offset(linktype, frame)
        if at is None:
            kind = int.from_bytes(frame[12:14], "big") if linktype == _ETHERNET else -1
            if kind == _ARP or 0 <= kind < 0x0600:
                continue  # ARP, or 802.3 with LLC (STP, CDP): no IP at all
            return True
        if _needs_tshark(frame, at):
            return True
    return pos != size
