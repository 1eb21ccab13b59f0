"""Pick packets out of the scanned capture: the RTP rows of tshark's streams, and the frames the
signalling pass needs (SIP, H.225.0 and every segment of their TCP connections)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.analysis.pcapscan import PacketColumns

__all__ = [
    "FlowKey",
    "RtpTable",
    "SignalingFrames",
    "rtp_candidates",
    "rtp_samples",
    "signaling_frames",
]

I64 = npt.NDArray[np.int64]

#: First four bytes of SIP start lines (RFC 3261 and extension methods, and responses).
_SIP_PREFIXES = [
    b"INVI", b"ACK ", b"BYE ", b"CANC", b"OPTI", b"REGI", b"PRAC", b"SUBS", b"NOTI", b"PUBL",
    b"INFO", b"REFE", b"MESS", b"UPDA", b"SIP/",
]
_SIP_PORTS = (5060, 5061)
_H225_PORT = 1720


@dataclass(frozen=True)
class FlowKey:
    """What tells RTP streams apart (as Wireshark does): both ends and the SSRC."""

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    ssrc: int


@dataclass(frozen=True)
class RtpTable:
    """UDP packets with an RTP version 2 header, in capture order, as columns."""

    frame: I64
    time: npt.NDArray[np.float64]
    stream: I64
    """Index into :attr:`flows` for every row."""
    seq: I64
    timestamp: I64
    pt: I64
    marker: npt.NDArray[np.bool_]
    first_payload_byte: I64
    flows: list[FlowKey]
    malformed_by_path: dict[tuple[str, int, str, int], int]
    """Packets with a version 2 header that is cut short or inconsistent, per
    (source address, source port, destination address, destination port)."""

    def rows_by_flow(self) -> list[npt.NDArray[np.intp]]:
        """Row indices of each flow (same order as :attr:`flows`), each in capture order."""
        order = np.argsort(self.stream, kind="stable")
        counts = np.bincount(self.stream, minlength=len(self.flows))
        return np.split(order, np.cumsum(counts)[:-1])


def _prefix32(cols: PacketColumns, rows: I64) -> I64:
    return cols.be32(cols.payload[rows])


@dataclass(frozen=True)
class SignalingFrames:
    """Where the signalling is (1-based frame numbers, ascending)."""

    datagrams: list[int]
    """Whole UDP datagrams under one IP header that look like SIP or use a SIP port: read
    directly (empty when :attr:`fast_path` is off)."""
    reassembly: list[int]
    """Every packet of TCP connections carrying SIP, H.225.0 or WebSocket, SCTP packets, IPv4
    and IPv6 fragments, tunnelled SIP and frames the scan cannot decode: tshark reads these
    (its reassembly and dissectors) and prints their signalling."""
    text: list[int]
    """Other UDP datagrams that start with text (MGCP, SAP, ...): they may carry an SDP that
    tells tshark where RTP flows, so tshark sees them too."""
    fast_path: bool = True
    """False when some frames could not be decoded: tshark then prints every SIP message."""


def signaling_frames(cols: PacketColumns, sip_ports: Sequence[int] = ()) -> SignalingFrames:
    transport = (cols.proto == 17) | (cols.proto == 6)
    rows = np.flatnonzero(transport & (cols.payload_len >= 4))
    looks_sip = np.zeros(cols.frames, dtype=np.bool_)
    q931 = np.zeros(cols.frames, dtype=np.bool_)
    text = np.zeros(cols.frames, dtype=np.bool_)
    if len(rows):
        prefix = _prefix32(cols, rows)
        printable = np.ones(len(rows), dtype=np.bool_)
        for shift in (24, 16, 8, 0):
            byte = (prefix >> shift) & 0xFF
            printable &= (byte >= 0x20) & (byte < 0x7F)
        text[rows] = printable & (cols.proto[rows] == 17)
        wanted = np.array([int.from_bytes(p, "big") for p in _SIP_PREFIXES], dtype=np.int64)
        looks_sip[rows] = np.isin(prefix, wanted)
        # extension methods: any text datagram whose first line ends in the SIP version
        for row in np.flatnonzero(text & ~looks_sip).tolist():
            line = cols.payload_bytes(row)[:512].split(b"\r\n", 1)[0]
            looks_sip[row] = line.endswith(b" SIP/2.0") and b" " in line[:-8]
        # TPKT (version 3) carrying Q.931 (protocol discriminator 8): H.225.0 call signalling
        tpkt = rows[((prefix >> 16) == 0x0300) & (cols.payload_len[rows] >= 5)]
        q931[tpkt] = cols.byte(cols.payload[tpkt] + 4) == 8
    sip_port = np.isin(cols.sport, [*_SIP_PORTS, *sip_ports]) | np.isin(
        cols.dport, [*_SIP_PORTS, *sip_ports]
    )
    h225_port = (cols.sport == _H225_PORT) | (cols.dport == _H225_PORT)
    fast_path = not bool(cols.undecoded.any())
    udp = (cols.proto == 17) & ~cols.fragment
    sip_like = udp & (looks_sip | sip_port) & (cols.payload_len > 0)
    datagrams = sip_like & (cols.depth == 1) & fast_path
    tcp = np.flatnonzero(cols.proto == 6)
    keep = cols.fragment | cols.undecoded | (cols.proto == 132) | (sip_like & ~datagrams)
    if len(tcp):
        marked = looks_sip[tcp] | sip_port[tcp] | q931[tcp] | h225_port[tcp] | _websocket(
            cols, tcp)
        # whole connections: one integer per unordered (address, port) pair
        a = (cols.src[tcp] << 16) | cols.sport[tcp]
        b = (cols.dst[tcp] << 16) | cols.dport[tcp]
        ends, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        inverse = inverse.reshape(-1)
        ia, ib = inverse[: len(tcp)], inverse[len(tcp) :]
        conn = np.minimum(ia, ib) * len(ends) + np.maximum(ia, ib)
        keep[tcp[np.isin(conn, conn[marked])]] = True
        # H.245 runs on its own TCP connection between the same hosts as H.225.0: keep those
        # host pairs' TCP traffic too (tshark decodes RTP from H.245 OpenLogicalChannel)
        h225 = q931[tcp] | h225_port[tcp]
        if h225.any():
            n_addr = max(len(cols.addresses), 1)
            lo = np.minimum(cols.src[tcp], cols.dst[tcp])
            hosts = lo * n_addr + np.maximum(cols.src[tcp], cols.dst[tcp])
            keep[tcp[np.isin(hosts, hosts[h225])]] = True
    return SignalingFrames(
        datagrams=(np.flatnonzero(datagrams) + 1).tolist(),
        reassembly=(np.flatnonzero(keep) + 1).tolist(),
        text=(np.flatnonzero(text & ~datagrams) + 1).tolist(),
        fast_path=fast_path,
    )


_GET = int.from_bytes(b"GET ", "big")
_HTTP = int.from_bytes(b"HTTP", "big")


def _websocket(cols: PacketColumns, tcp: I64) -> npt.NDArray[np.bool_]:
    """TCP segments of an HTTP upgrade to WebSocket (RFC 7118 SIP rides on those connections)."""
    out = np.zeros(len(tcp), dtype=np.bool_)
    has = cols.payload_len[tcp] >= 4
    if not has.any():
        return out
    prefix = np.full(len(tcp), -1, dtype=np.int64)
    prefix[has] = _prefix32(cols, tcp[has])
    for k in np.flatnonzero((prefix == _GET) | (prefix == _HTTP)).tolist():
        out[k] = b"websocket" in cols.payload_bytes(int(tcp[k]))[:2048].lower()
    return out


def rtp_samples(table: RtpTable, per_flow: int = 5) -> list[int]:
    """The first ``per_flow`` frames (1-based) of every candidate flow: enough for tshark to say
    whether the flow is RTP (SDP, H.245 or its heuristic decide per flow or per packet)."""
    if not len(table.frame):
        return []
    order = np.argsort(table.stream, kind="stable")
    counts = np.bincount(table.stream, minlength=len(table.flows))
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(order)) - np.repeat(starts, counts)
    frames: list[int] = np.sort(table.frame[order[rank < per_flow]]).tolist()
    return frames


def rtp_candidates(cols: PacketColumns) -> RtpTable:
    """Every UDP packet that has a complete RTP version 2 header, grouped into flows.

    Which of these flows are RTP is tshark's call (:mod:`gateway.analysis.tshark_streams`); a
    packet whose header is cut short or inconsistent is counted as malformed and left out, as
    tshark leaves it out of its streams.
    """
    udp = np.flatnonzero((cols.proto == 17) & (cols.payload_len >= 12))
    p = cols.payload[udp]
    b0 = cols.byte(p)
    is_v2 = (b0 >> 6) == 2
    udp, p, b0 = udp[is_v2], p[is_v2], b0[is_v2]
    plen = cols.payload_len[udp]
    header = 12 + 4 * (b0 & 0x0F)
    has_ext = (b0 & 0x10) != 0
    ext_ok = np.ones(len(udp), dtype=np.bool_)
    if has_ext.any():
        fits = has_ext & (header + 4 <= plen)
        ext_words = np.where(fits, cols.be16(np.where(fits, p + header + 2, p)), 0)
        header = np.where(has_ext, header + 4 + 4 * ext_words, header)
        ext_ok = ~has_ext | fits
    padded = (b0 & 0x20) != 0
    pad = np.where(padded & (plen > 0), cols.byte(p + np.maximum(plen - 1, 0)), 0)
    valid = ext_ok & (header + pad <= plen) & ~(padded & (pad == 0))
    b1 = cols.byte(p + 1)
    rtcp = ((b1 & 0x7F) >= 72) & ((b1 & 0x7F) <= 76)
    keep = valid & ~rtcp
    malformed: dict[tuple[str, int, str, int], int] = {}
    for row in udp[~valid & ~rtcp].tolist():
        path = (cols.addresses[int(cols.src[row])], int(cols.sport[row]),
                cols.addresses[int(cols.dst[row])], int(cols.dport[row]))
        malformed[path] = malformed.get(path, 0) + 1
    udp, p, b1, header, plen = udp[keep], p[keep], b1[keep], header[keep], plen[keep]
    ssrc = cols.be32(p + 8)

    # one integer per (address, port) end, then one per (source end, destination end, SSRC)
    src_end = (cols.src[udp] << 16) | cols.sport[udp]
    dst_end = (cols.dst[udp] << 16) | cols.dport[udp]
    ends, inverse = np.unique(np.concatenate([src_end, dst_end]), return_inverse=True)
    inverse = inverse.reshape(-1)
    n = len(udp)
    pair = inverse[:n] * max(len(ends), 1) + inverse[n:]
    order = np.lexsort((ssrc, pair))
    new = np.ones(n, dtype=np.bool_)
    if n:
        new[1:] = (np.diff(pair[order]) != 0) | (np.diff(ssrc[order]) != 0)
    group = np.cumsum(new) - 1
    stream = np.empty(n, dtype=np.int64)
    stream[order] = group
    # flows numbered by first appearance
    firsts = order[new]
    by_time = np.argsort(firsts, kind="stable")
    renumber = np.empty(len(firsts), dtype=np.int64)
    renumber[by_time] = np.arange(len(firsts))
    stream = renumber[stream]
    first_rows = firsts[by_time]
    flows = [
        FlowKey(cols.addresses[int(cols.src[udp[r]])], int(cols.sport[udp[r]]),
                cols.addresses[int(cols.dst[udp[r]])], int(cols.dport[udp[r]]), int(ssrc[r]))
        for r in first_rows
    ]
    has_body = header < plen
    first = np.where(has_body, cols.byte(np.where(has_body, p + header, p)), -1)
    return RtpTable(
        frame=udp + 1,
        time=cols.time_s[udp],
        stream=stream,
        seq=cols.be16(p + 2),
        timestamp=cols.be32(p + 4),
        pt=b1 & 0x7F,
        marker=(b1 & 0x80) != 0,
        first_payload_byte=first,
        flows=flows,
        malformed_by_path=malformed,
    )
