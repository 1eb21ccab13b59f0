"""SIP over plain TCP, reassembled from the header scan's columns, when that is unambiguous.

tshark reads SIP over TCP through its reassembly, and printing those messages (JSON with raw
bytes, the only way to get them out of tshark whole) costs a SIP-dense capture twice tshark's
own run. Most SIP over TCP is simple to reassemble: one connection, segments in order, every
message framed by its Content-Length (RFC 3261 18.3). :func:`read_sip_tcp` does that for the
TCP frames the scan selected, and returns None, so that tshark prints them as before, at the
first thing it does not handle exactly as tshark would: a frame that is not plain TCP over IP
(tunnels, fragments) or not on a port tshark decodes as SIP, a segment out of order,
overlapping or missing, a frame cut short by the snapshot length, data that does not start
with a SIP start line (H.225.0, WebSocket, a capture that starts in the middle of a message), a
message without Content-Length, a CRLF keep-alive (after which tshark 4.0 can lose the start
of the next message), bytes left over at the end. A retransmission of data already
seen is skipped, as tshark's reassembly skips it.

Each message is stamped with the frame that completed it, as tshark reports a reassembled PDU.
``tests/analysis/test_sip_tcp.py`` compares the messages with tshark's own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from signaling.sipmsg import SipMessage

if TYPE_CHECKING:
    from gateway.analysis.pcapscan import PacketColumns

__all__ = ["read_sip_tcp"]

_SYN = 0x02
# a start line: request (METHOD SP URI SP SIP/2.0) or status (SIP/2.0 SP code)
_START = re.compile(rb"(?:[A-Za-z]+ \S+ SIP/2\.0|SIP/2\.0 \d{3}[^\r\n]*)\r?\n")
_LENGTH = re.compile(rb"^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$",
                     re.IGNORECASE | re.MULTILINE)
_MAX_HEAD = 65536


def _split(buffer: bytearray) -> tuple[list[bytes], bool]:
    """Whole messages at the start of ``buffer`` (removed from it), and False when what is
    there is not SIP framed by Content-Length."""
    out: list[bytes] = []
    while True:
        if not buffer:
            return out, True
        if buffer[0] in (0x0D, 0x0A):  # CR or LF
            # a keep-alive between messages (RFC 5626): tshark 4.0 loses the start of the next
            # message after one when that message is split over segments, so it reads these
            return out, False
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return out, len(buffer) < _MAX_HEAD  # the rest of the header is yet to come
        head = bytes(buffer[: end + 2])
        if _START.match(head) is None:
            return out, False
        lengths = _LENGTH.findall(head)
        if len(lengths) != 1:
            return out, False  # Content-Length is mandatory over TCP; two is a broken message
        total = end + 4 + int(lengths[0])
        if len(buffer) < total:
            return out, True
        out.append(bytes(buffer[:total]))
        del buffer[:total]


def read_sip_tcp(
    cols: PacketColumns, frames: Sequence[int], sip_ports: Sequence[int] = (),
    any_port: bool = False,
) -> list[SipMessage] | None:
    """The SIP messages of the listed TCP frames (1-based), or None (see the module). Only
    connections on a port tshark decodes as SIP are read (5060, and ``sip_ports``, given to
    tshark as ``-d tcp.port==N,sip``), unless ``any_port``: elsewhere tshark's own port table
    and heuristics decide what it calls SIP (6060, in X11's range, is not SIP for tshark unless
    it is told; 5080 is, by its heuristics), and the caller must check with tshark."""
    if cols.l4 is None or cols.ip_cut is None or not frames:
        return None
    ports = {5060, *sip_ports}
    streams: dict[tuple[int, int, int, int], list[int]] = {}
    for frame in frames:
        row = frame - 1
        if (cols.proto[row] != 6 or cols.depth[row] != 1 or cols.fragment[row]
                or cols.ip_cut[row] or cols.l4[row] < 0
                or (not any_port and int(cols.sport[row]) not in ports
                    and int(cols.dport[row]) not in ports)):
            return None
        key = (int(cols.src[row]), int(cols.sport[row]), int(cols.dst[row]),
               int(cols.dport[row]))
        streams.setdefault(key, []).append(row)
    data = cols.data
    out: list[SipMessage] = []
    for (src, sport, dst, dport), rows in streams.items():
        src_name, dst_name = _name(cols, src, sport), _name(cols, dst, dport)
        buffer = bytearray()
        expected: int | None = None
        for row in rows:
            l4 = int(cols.l4[row])
            seq = int.from_bytes(data[l4 + 4 : l4 + 8].tobytes(), "big")
            size = max(int(cols.payload_len[row]), 0)
            if cols.tcp_flags[row] & _SYN:
                if size or buffer.strip():
                    return None  # data on a SYN, or a new connection on the same ports
                buffer.clear()
                expected = (seq + 1) & 0xFFFFFFFF
                continue
            if not size:
                continue
            if expected is None:
                expected = seq
            ahead = (seq - expected) & 0xFFFFFFFF
            if ahead and ahead < 0x80000000:
                return None  # a gap: a segment missing or out of order
            if ahead:  # behind: a retransmission, whole or in part
                behind = 0x100000000 - ahead
                if behind < size:
                    return None  # overlapping new data: tshark's business
                continue
            start = int(cols.payload[row])
            buffer += data[start : start + size].tobytes()
            expected = (expected + size) & 0xFFFFFFFF
            messages, framed = _split(buffer)
            if not framed:
                return None
            time_s = float(cols.time_s[row])
            out.extend(SipMessage.parse(raw, time_s=time_s, src=src_name, dst=dst_name,
                                        transport="TCP", frame=row + 1) for raw in messages)
        if buffer.strip():
            return None  # a message cut off at the end of the capture
    out.sort(key=lambda m: (m.time_s, m.frame))
    return out


def _name(cols: PacketColumns, address: int, port: int) -> str:
    ip = cols.addresses[address]
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
