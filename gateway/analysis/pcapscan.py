"""Bulk packet-header extraction straight from a pcap or pcapng file, with numpy.

Dissecting every packet with tshark and printing fields (``tshark -T fields``) costs three times
tshark's own statistics pass, so the per-packet RTP columns are read here instead: one Python
loop over the record headers collects where each frame's bytes are, then the link, IPv4/IPv6,
UDP/TCP and RTP headers of all frames are decoded at once by numpy indexing into the file's
bytes. Which UDP packets are RTP is tshark's decision (its stream table, see
:mod:`gateway.analysis.tshark_streams`); this module only reads headers.

Link types and tunnels: see :mod:`gateway.analysis.encap`. IPv4 and IPv6 fragments are marked,
not reassembled (tshark reassembles them), as are frames the scan cannot decode.
"""

from __future__ import annotations

import gzip
import mmap
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gateway.analysis.encap import SUPPORTED_LINK_TYPES, locate_ip
from gateway.analysis.errors import CaptureError

__all__ = ["PacketColumns", "scan_capture", "write_subset"]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]



@dataclass(frozen=True)
class PacketColumns:
    """One row per frame of the capture (frame numbers start at 1, as in Wireshark).

    ``ip_version`` is 0 for frames that are not IPv4/IPv6 (or too short); ``proto`` 17 for UDP,
    6 for TCP; ``src``/``dst`` index :attr:`addresses`; ``payload`` is the offset of the UDP/TCP
    payload in :attr:`data` and ``payload_len`` its captured length (-1 when there is none).
    """

    data: U8
    time_s: npt.NDArray[np.float64]
    ip_version: I64
    proto: I64
    src: I64
    dst: I64
    sport: I64
    dport: I64
    payload: I64
    payload_len: I64
    tcp_flags: I64
    fragment: Bool
    depth: I64
    """How many IP headers deep the transport header is (2 and more: a tunnel)."""
    undecoded: Bool
    """Frames whose link layer or encapsulation the scan cannot read: tshark reads them."""
    addresses: list[str]
    frame_start: I64
    frame_len: I64
    ts_ns: I64
    link: I64
    truncated_file: bool
    l4: I64 | None = None
    """Offset of the transport header in :attr:`data` (-1 without one)."""
    ip_cut: Bool | None = None
    """Frames captured shorter than their IP packet (a snapshot length): payloads cut short."""

    @property
    def frames(self) -> int:
        return len(self.time_s)

    @property
    def unsupported_link_types(self) -> list[int]:
        """Link types present in the file whose frames this scan cannot read."""
        return sorted(set(self.link.tolist()) - SUPPORTED_LINK_TYPES)

    def be16(self, offset: I64) -> I64:
        d = self.data
        return (d[offset].astype(np.int64) << 8) | d[offset + 1]

    def be32(self, offset: I64) -> I64:
        return (self.be16(offset) << 16) | self.be16(offset + 2)

    def byte(self, offset: I64) -> I64:
        return self.data[offset].astype(np.int64)

    def payload_bytes(self, frame_index: int) -> bytes:
        start, n = int(self.payload[frame_index]), int(self.payload_len[frame_index])
        return self.data[start : start + max(n, 0)].tobytes()


def _records_pcap(buf: bytes | mmap.mmap) -> tuple[I64, I64, I64, I64, bool]:
    magic = struct.unpack_from("<I", buf, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise CaptureError("not a capture file (pcap or pcapng)")
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    if len(buf) < 24:
        raise CaptureError("the pcap file header is cut short")
    linktype = struct.unpack_from(endian + "I", buf, 20)[0] & 0x0FFFFFFF
    incl_at = struct.Struct(endian + "I").unpack_from
    starts: list[int] = []
    append = starts.append
    pos, size, truncated = 24, len(buf), False
    # The hot loop: only the record positions; times and lengths are gathered by numpy after.
    try:
        while pos + 16 <= size:
            append(pos)
            pos += 16 + incl_at(buf, pos + 8)[0]
    except struct.error:
        pass
    if pos > size:
        starts.pop()
        truncated = True
    elif pos < size:
        truncated = True
    head = np.frombuffer(buf, dtype=np.uint8)
    at = np.array(starts, dtype=np.int64)
    sec = _u32(head, at, endian)
    frac = _u32(head, at + 4, endian)
    incl = _u32(head, at + 8, endian)
    ts = sec * 1_000_000_000 + frac * (1 if nano else 1000)
    return at + 16, incl, ts, np.full(len(at), linktype, dtype=np.int64), truncated


def _u32(data: U8, offset: I64, endian: str) -> I64:
    b = [data[offset + k].astype(np.int64) for k in range(4)]
    if endian == "<":
        b.reverse()
    return (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]


def _records_pcapng(buf: bytes | mmap.mmap) -> tuple[I64, I64, I64, I64, bool]:
    starts: list[int] = []
    lens: list[int] = []
    ts_ns: list[int] = []
    links: list[int] = []
    interfaces: list[tuple[int, int, int]] = []  # (linktype, units per second, offset s)
    endian = "<"
    pos, size, truncated = 0, len(buf), False
    while pos + 12 <= size:
        btype = struct.unpack_from(endian + "I", buf, pos)[0]
        if btype == 0x0A0D0D0A:
            bom = buf[pos + 8 : pos + 12]
            endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            interfaces = []
        blen = struct.unpack_from(endian + "I", buf, pos + 4)[0]
        if blen < 12 or pos + blen > size:
            truncated = True
            break
        body = pos + 8
        if btype == 1:  # interface description
            linktype = struct.unpack_from(endian + "H", buf, body)[0]
            resol, offset = 1_000_000, 0
            opt, end = body + 8, pos + blen - 4
            while opt + 4 <= end:
                code, olen = struct.unpack_from(endian + "HH", buf, opt)
                if code == 0:
                    break
                if code == 9 and olen >= 1:
                    v = buf[opt + 4]
                    resol = 2 ** (v & 0x7F) if v & 0x80 else 10 ** v
                elif code == 14 and olen == 8:
                    offset = struct.unpack_from(endian + "q", buf, opt + 4)[0]
                opt += 4 + olen + (-olen % 4)
            interfaces.append((linktype, resol, offset))
        elif btype in (6, 2):  # enhanced packet / obsolete packet block
            if btype == 6:
                iface, hi, lo, caplen = struct.unpack_from(endian + "IIII", buf, body)
                data = body + 20
            else:
                iface, _drops, hi, lo, caplen = struct.unpack_from(endian + "HHIII", buf, body)
                data = body + 20
            known = iface < len(interfaces)
            linktype, resol, offset = interfaces[iface] if known else (1, 10**6, 0)
            units = (hi << 32) | lo
            starts.append(data)
            lens.append(min(caplen, pos + blen - 4 - data))
            ts_ns.append(offset * 1_000_000_000 + units * 1_000_000_000 // resol)
            links.append(linktype)
        elif btype == 3:  # simple packet block: no timestamp
            orig = struct.unpack_from(endian + "I", buf, body)[0]
            linktype = interfaces[0][0] if interfaces else 1
            starts.append(body + 4)
            lens.append(min(orig, blen - 16))
            ts_ns.append(ts_ns[-1] if ts_ns else 0)
            links.append(linktype)
        pos += blen
    if pos < size:
        truncated = True
    return (
        np.array(starts, dtype=np.int64), np.array(lens, dtype=np.int64),
        np.array(ts_ns, dtype=np.int64), np.array(links, dtype=np.int64), truncated,
    )


def _open(path: Path) -> bytes | mmap.mmap:
    """The file's bytes: memory-mapped (a day of traffic is not copied), or decompressed when
    it is gzip-compressed (tshark reads ``.pcap.gz`` too)."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
            if head == b"\x1f\x8b":
                f.seek(0)
                with gzip.open(f) as z:
                    return z.read()
            if not head or os.fstat(f.fileno()).st_size < 4:
                return b""
            return mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        detail = getattr(exc, "strerror", None) or exc
        raise CaptureError(f"cannot read {path}: {detail}") from exc


def scan_capture(path: Path) -> PacketColumns:
    """Read the frame, IP and transport headers of every packet of ``path``."""
    raw = _open(path)
    if len(raw) < 4:
        raise CaptureError(f"{path} is not a capture file (pcap or pcapng)")
    if struct.unpack_from("<I", raw, 0)[0] == 0x0A0D0D0A:
        start, length, ts_arr, link, truncated = _records_pcapng(raw)
    else:
        try:
            start, length, ts_arr, link, truncated = _records_pcap(raw)
        except CaptureError:
            raise CaptureError(f"{path} is not a capture file (pcap or pcapng)") from None
    data = np.frombuffer(raw, dtype=np.uint8)
    time_s = (ts_arr - (ts_arr[0] if len(ts_arr) else 0)).astype(np.float64) / 1e9
    decoded = _decode(data, start, length, link)
    return PacketColumns(data, time_s, *decoded[:13], frame_start=start, frame_len=length,
                         ts_ns=ts_arr, link=link, truncated_file=truncated, l4=decoded[13],
                         ip_cut=decoded[14])


def _decode(
    data: U8, start: I64, length: I64, link: I64
) -> tuple[
    I64, I64, I64, I64, I64, I64, I64, I64, I64, Bool, I64, Bool, list[str], I64, Bool
]:
    n = len(start)
    end = start + length
    where = locate_ip(data, start, length, link)
    l3, version = where.l3, where.version
    safe_end = np.maximum(end, 0)

    def ok(offset: I64, need: int) -> Bool:
        result: Bool = (offset >= 0) & (offset + need <= safe_end)
        return result

    def byte(offset: I64, valid: Bool) -> I64:
        return np.where(valid, data[np.where(valid, offset, 0)].astype(np.int64), 0)

    def be16(offset: I64, valid: Bool) -> I64:
        return (byte(offset, valid) << 8) | byte(offset + 1, valid)

    v4 = (version == 4) & ok(l3, 20)
    v6 = (version == 6) & ok(l3, 40)
    proto = np.where(v4 | v6, where.proto, -1)
    fragment = where.fragment
    later_fragment = where.later_fragment
    ip_total = np.where(v4, be16(l3 + 2, v4), np.where(v6, be16(l3 + 4, v6) + 40, 0))
    l4 = np.where(v4 | v6, where.l4, -1)
    ip_end = np.minimum(safe_end, np.where(ip_total > 0, l3 + ip_total, safe_end))

    # addresses as text, interned: IPv4 as dotted quads, IPv6 compressed by the ipaddress module
    texts: dict[bytes, int] = {}
    addresses: list[str] = []
    src_id = np.full(n, -1, dtype=np.int64)
    dst_id = np.full(n, -1, dtype=np.int64)
    for mask, off, size in ((v4, 12, 4), (v6, 8, 16)):
        idx = np.flatnonzero(mask)
        if not len(idx):
            continue
        base = l3[idx] + off
        words = size // 4  # the address as 1 (IPv4) or 4 (IPv6) big-endian 32-bit words
        both = np.concatenate([base, base + size])
        parts = [_be32_at(data, both + 4 * w) for w in range(words)]
        if words == 1:
            keys, inverse = np.unique(parts[0], return_inverse=True)
            key_rows: list[tuple[int, ...]] = [(int(k),) for k in keys]
        else:
            order = np.lexsort(parts[::-1])
            sorted_parts = [p[order] for p in parts]
            new = np.ones(len(order), dtype=np.bool_)
            new[1:] = np.any([np.diff(p) != 0 for p in sorted_parts], axis=0)
            group = np.cumsum(new) - 1
            inverse = np.empty(len(order), dtype=np.int64)
            inverse[order] = group
            firsts = order[new]
            key_rows = [tuple(int(p[i]) for p in parts) for i in firsts]
        ids = np.empty(len(key_rows), dtype=np.int64)
        for k, key in enumerate(key_rows):
            raw_key = b"".join(w.to_bytes(4, "big") for w in key)
            if raw_key not in texts:
                texts[raw_key] = len(addresses)
                addresses.append(_addr_text(raw_key))
            ids[k] = texts[raw_key]
        inverse = inverse.reshape(-1)
        src_id[idx] = ids[inverse[: len(idx)]]
        dst_id[idx] = ids[inverse[len(idx) :]]

    has_l4 = (v4 | v6) & ~later_fragment & (l4 >= 0)
    udp = has_l4 & (proto == 17) & ok(l4, 8)
    tcp = has_l4 & (proto == 6) & ok(l4, 20)
    ported = udp | tcp | (has_l4 & (proto == 132) & ok(l4, 12))
    sport = np.where(ported, be16(l4, ported), -1)
    dport = np.where(ported, be16(l4 + 2, ported), -1)
    tcp_off = (byte(l4 + 12, tcp) >> 4) * 4
    flags = np.where(tcp, byte(l4 + 13, tcp), 0)
    payload = np.where(udp, l4 + 8, np.where(tcp, l4 + tcp_off, -1))
    plen = np.where(udp | tcp, ip_end - payload, -1)
    plen = np.where((udp | tcp) & (plen < 0), 0, plen)
    proto = np.where(udp, 17, np.where(tcp, 6, np.where(v4 | v6, proto, -1)))
    ip_cut = (v4 | v6) & (ip_total > 0) & (l3 + ip_total > safe_end)
    return (version, proto, src_id, dst_id, sport, dport, payload, plen, flags, fragment,
            where.depth, where.undecoded, addresses, np.where(ported, l4, -1), ip_cut)


def _be32_at(data: U8, offset: I64) -> I64:
    out = data[offset].astype(np.int64) << 24
    out |= data[offset + 1].astype(np.int64) << 16
    out |= data[offset + 2].astype(np.int64) << 8
    out |= data[offset + 3]
    return out


def _addr_text(raw: bytes) -> str:
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    import ipaddress

    return str(ipaddress.IPv6Address(raw))


def write_subset(cols: PacketColumns, frames: Sequence[int], path: Path) -> None:
    """Copy the listed frames (1-based, ascending) into a new pcapng file, keeping their
    timestamps and link types (one interface per link type)."""
    links = sorted({int(cols.link[f - 1]) for f in frames})
    iface = {lt: i for i, lt in enumerate(links)}
    raw = cols.data
    out = bytearray()

    def block(kind: int, body: bytes) -> None:
        pad = -len(body) % 4
        total = 12 + len(body) + pad
        out.extend(struct.pack("<II", kind, total) + body + b"\x00" * pad
                   + struct.pack("<I", total))

    block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for lt in links:  # if_tsresol = 9: nanoseconds
        block(1, struct.pack("<HHI", lt, 0, 262144) + struct.pack("<HHB3x", 9, 1, 9)
              + struct.pack("<HH", 0, 0))
    for f in frames:
        i = f - 1
        start, n = int(cols.frame_start[i]), int(cols.frame_len[i])
        ts = int(cols.ts_ns[i])
        body = struct.pack("<IIIII", iface[int(cols.link[i])], (ts >> 32) & 0xFFFFFFFF,
                           ts & 0xFFFFFFFF, n, n)
        block(6, body + raw[start : start + n].tobytes())
    path.write_bytes(bytes(out))
