"""SIP over plain TCP, reassembled from the header scan's columns, when that is unambiguous.

tshark reads SIP over TCP through its reassembly, and printing those messages (JSON with raw
bytes, the only way to get them out of tshark whole) costs a SIP-dense capture twice tshark's
own run. Most SIP over TCP is simple to reassemble: one connection, segments in order, every
message framed by its Content-Length (RFC 3261 18.3), as the SIP core frames its own TCP
connections (:func:`signaling.sip.request.split_stream`). :func:`read_sip_tcp` does that for
the TCP frames the scan selected, and returns None, so that tshark prints them as before, at
the first thing it does not handle exactly as tshark would: a frame that is not plain TCP over
IP (tunnels, fragments), a segment out of order, overlapping or missing, a frame cut short by
the snapshot length, data that is not a SIP message (H.225.0, WebSocket, a capture that starts
in the middle of a message), a message without Content-Length, a CRLF keep-alive (after which
tshark 4.0 can lose the start of the next message), bytes left over at the end. A
retransmission of data already seen is skipped, as tshark's reassembly skips it. Whether
tshark calls the connection SIP at all depends on its ports (:func:`on_sip_ports`).

Each message is stamped with the frame that completed it, as tshark reports a reassembled PDU.
``tests/analysis/test_sip_tcp.py`` compares the messages with tshark's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from signaling.sip.request import split_stream
from signaling.sipmsg import SipMessage

if TYPE_CHECKING:
    from gateway.analysis.pcapscan import PacketColumns

__all__ = ["on_sip_ports", "read_sip_tcp"]

_SYN = 0x02
_TSHARK_SIP_TCP_PORT = 5060


def _split(buffer: bytes) -> tuple[list[bytes], bytes, bool]:
    """Whole messages at the start of ``buffer`` (framed by the SIP core's own
    :func:`signaling.sip.request.split_stream`), what is left, and False when the framing is
    broken or a CRLF keep-alive comes first (RFC 5626): after one, tshark 4.0 loses the start
    of the next message when that message is split over segments, so it reads those."""
    out: list[bytes] = []
    while buffer:
        if buffer[0] in (0x0D, 0x0A):  # CR or LF
            return out, buffer, False
        message, buffer, fatal = split_stream(buffer)
        if fatal:
            return out, buffer, False
        if message is None:
            break
        out.append(message)
    return out, buffer, True


def on_sip_ports(cols: PacketColumns, frames: Sequence[int], sip_ports: Sequence[int]) -> bool:
    """Every listed frame (1-based) uses a port tshark decodes as SIP over TCP: 5060, and
    ``sip_ports``, given to tshark as ``-d tcp.port==N,sip``. Elsewhere tshark's own port table
    and heuristics decide what it calls SIP (6060, in X11's range, is not SIP for tshark unless
    it is told; 5080 is, by its heuristics), and the caller must check with tshark."""
    ports = {_TSHARK_SIP_TCP_PORT, *sip_ports}
    return all(int(cols.sport[f - 1]) in ports or int(cols.dport[f - 1]) in ports
               for f in frames)


def read_sip_tcp(cols: PacketColumns, frames: Sequence[int]) -> list[SipMessage] | None:
    """The SIP messages of the listed TCP frames (1-based), or None (see the module)."""
    if cols.l4 is None or cols.ip_cut is None or not frames:
        return None
    streams: dict[tuple[int, int, int, int], list[int]] = {}
    for frame in frames:
        row = frame - 1
        if (cols.proto[row] != 6 or cols.depth[row] != 1 or cols.fragment[row]
                or cols.ip_cut[row] or cols.l4[row] < 0):
            return None
        key = (int(cols.src[row]), int(cols.sport[row]), int(cols.dst[row]),
               int(cols.dport[row]))
        streams.setdefault(key, []).append(row)
    data = cols.data
    out: list[SipMessage] = []
    for (src, sport, dst, dport), rows in streams.items():
        src_name, dst_name = _name(cols, src, sport), _name(cols, dst, dport)
        buffer = b""
        expected: int | None = None
        for row in rows:
            l4 = int(cols.l4[row])
            seq = int.from_bytes(data[l4 + 4 : l4 + 8].tobytes(), "big")
            size = max(int(cols.payload_len[row]), 0)
            if cols.tcp_flags[row] & _SYN:
                if size or buffer.strip():
                    return None  # data on a SYN, or a new connection on the same ports
                buffer = b""
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
            expected = (expected + size) & 0xFFFFFFFF
            messages, buffer, framed = _split(buffer + data[start : start + size].tobytes())
            if not framed:
                return None
            time_s = float(cols.time_s[row])
            for raw in messages:
                msg = SipMessage.parse(raw, time_s=time_s, src=src_name, dst=dst_name,
                                       transport="TCP", frame=row + 1)
                if msg.kind == "unknown" or msg.header("content-length") is None:
                    return None  # not SIP; or no Content-Length, mandatory over TCP
                out.append(msg)
        if buffer.strip():
            return None  # a message cut off at the end of the capture
    out.sort(key=lambda m: (m.time_s, m.frame))
    return out


def _name(cols: PacketColumns, address: int, port: int) -> str:
    ip = cols.addresses[address]
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
