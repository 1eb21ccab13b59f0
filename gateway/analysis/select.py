"""Pick packets out of the scanned capture: the RTP rows of tshark's streams, and the frames the
signalling pass needs (SIP, H.225.0 and every segment of their TCP connections)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.analysis.pcapscan import PacketColumns
from gateway.analysis.tshark_streams import TsharkStream

__all__ = ["RtpTable", "rtp_table", "signaling_frames"]

I64 = npt.NDArray[np.int64]

#: First four bytes of SIP start lines (RFC 3261 and extension methods, and responses).
_SIP_PREFIXES = [
    b"INVI", b"ACK ", b"BYE ", b"CANC", b"OPTI", b"REGI", b"PRAC", b"SUBS", b"NOTI", b"PUBL",
    b"INFO", b"REFE", b"MESS", b"UPDA", b"SIP/",
]
_SIP_PORTS = (5060, 5061)
_H225_PORT = 1720


@dataclass(frozen=True)
class RtpTable:
    """RTP packets of the streams tshark found, in capture order, as columns."""

    frame: I64
    time: npt.NDArray[np.float64]
    stream: I64
    """Index into :attr:`streams` for every row."""
    seq: I64
    timestamp: I64
    pt: I64
    marker: npt.NDArray[np.bool_]
    first_payload_byte: I64
    streams: list[TsharkStream]
    malformed_rtp: int


def _prefix32(cols: PacketColumns, rows: I64) -> I64:
    return cols.be32(cols.payload[rows])


def signaling_frames(cols: PacketColumns, sip_ports: Sequence[int] = ()) -> list[int]:
    """Frames (1-based) to copy for the pyshark pass: UDP datagrams that look like SIP or use a
    SIP port, IPv4 fragments, and every packet of TCP connections that carry SIP or H.225.0."""
    transport = (cols.proto == 17) | (cols.proto == 6)
    has4 = transport & (cols.payload_len >= 4)
    rows = np.flatnonzero(has4)
    looks_sip = np.zeros(cols.frames, dtype=np.bool_)
    if len(rows):
        prefix = _prefix32(cols, rows)
        wanted = np.array([int.from_bytes(p, "big") for p in _SIP_PREFIXES], dtype=np.int64)
        looks_sip[rows] = np.isin(prefix, wanted)
        # TPKT (version 3) carrying Q.931 (protocol discriminator 8): H.225.0 call signalling
        tpkt = (prefix >> 16) == 0x0300
        q931 = np.zeros(len(rows), dtype=np.bool_)
        long_enough = cols.payload_len[rows] >= 5
        q931[long_enough] = cols.byte(cols.payload[rows[long_enough]] + 4) == 8
        looks_sip[rows] |= (cols.proto[rows] == 6) & tpkt & q931
    ports = np.array([*_SIP_PORTS, *sip_ports, _H225_PORT], dtype=np.int64)
    on_port = transport & (np.isin(cols.sport, ports) | np.isin(cols.dport, ports))
    on_port &= ~((cols.proto == 17) & np.isin(cols.sport, [_H225_PORT]))
    keep = (looks_sip | on_port) & transport
    keep |= cols.fragment
    tcp = np.flatnonzero(cols.proto == 6)
    if len(tcp):
        # whole connections: key the unordered address/port pair
        a = (cols.src[tcp] << 16) | cols.sport[tcp]
        b = (cols.dst[tcp] << 16) | cols.dport[tcp]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pairs = np.stack([lo, hi], axis=1)
        _, conn = np.unique(pairs, axis=0, return_inverse=True)
        conn = conn.reshape(-1)
        marked = np.unique(conn[keep[tcp]])
        keep[tcp[np.isin(conn, marked)]] = True
    return (np.flatnonzero(keep) + 1).tolist()


def rtp_table(cols: PacketColumns, streams: list[TsharkStream]) -> RtpTable:
    """The packets of ``streams``: UDP, RTP version 2, matching addresses, ports and SSRC, with
    a complete header (tshark leaves malformed packets out of its streams, and so do we)."""
    index = {a: i for i, a in enumerate(cols.addresses)}
    udp = np.flatnonzero((cols.proto == 17) & (cols.payload_len >= 12))
    p = cols.payload[udp]
    b0 = cols.byte(p)
    rtp = (b0 >> 6) == 2
    udp, p, b0 = udp[rtp], p[rtp], b0[rtp]
    ssrc = cols.be32(p + 8)
    stream_of = np.full(len(udp), -1, dtype=np.int64)
    if len(udp) and streams:
        # one integer per (address, port) end, then one per (source end, destination end)
        src_end = (cols.src[udp] << 16) | cols.sport[udp]
        dst_end = (cols.dst[udp] << 16) | cols.dport[udp]
        ends, inverse = np.unique(np.concatenate([src_end, dst_end]), return_inverse=True)
        inverse = inverse.reshape(-1)
        n_ends = len(ends)
        flow = inverse[: len(udp)] * n_ends + inverse[len(udp) :]
        order = np.lexsort((ssrc, flow))
        flow_sorted, ssrc_sorted = flow[order], ssrc[order]
        for i, s in enumerate(streams):
            a, b = index.get(s.src_ip), index.get(s.dst_ip)
            if a is None or b is None:
                continue
            ea = np.searchsorted(ends, (a << 16) | s.src_port)
            eb = np.searchsorted(ends, (b << 16) | s.dst_port)
            if ea >= n_ends or eb >= n_ends or ends[ea] != (a << 16) | s.src_port \
                    or ends[eb] != (b << 16) | s.dst_port:
                continue
            f = ea * n_ends + eb
            lo, hi = np.searchsorted(flow_sorted, [f, f + 1])
            sub = order[lo:hi][ssrc_sorted[lo:hi] == s.ssrc]
            stream_of[sub] = i
    mine = stream_of >= 0
    udp, p, b0, stream_of = udp[mine], p[mine], b0[mine], stream_of[mine]
    plen = cols.payload_len[udp]
    cc = b0 & 0x0F
    header = 12 + 4 * cc
    has_ext = (b0 & 0x10) != 0
    ext_ok = np.ones(len(udp), dtype=np.bool_)
    if has_ext.any():
        ext_at = p + header
        fits = has_ext & (header + 4 <= plen)
        ext_words = np.where(fits, cols.be16(np.where(fits, ext_at + 2, p)), 0)
        header = np.where(has_ext, header + 4 + 4 * ext_words, header)
        ext_ok = ~has_ext | fits
    padded = (b0 & 0x20) != 0
    pad = np.where(padded & (plen > 0), cols.byte(p + np.maximum(plen - 1, 0)), 0)
    valid = ext_ok & (header <= plen) & (header + pad <= plen) & ~(padded & (pad == 0))
    b1 = cols.byte(p + 1)
    first = np.where(header < plen, cols.byte(np.where(header < plen, p + header, p)), -1)
    ok = valid
    return RtpTable(
        frame=udp[ok] + 1,
        time=cols.time_s[udp[ok]],
        stream=stream_of[ok],
        seq=cols.be16(p[ok] + 2),
        timestamp=cols.be32(p[ok] + 4),
        pt=b1[ok] & 0x7F,
        marker=(b1[ok] & 0x80) != 0,
        first_payload_byte=first[ok],
        streams=streams,
        malformed_rtp=int(np.count_nonzero(~valid)),
    )
