"""Where each frame's innermost IP header is: link layers, tags, PPP and tunnels, with numpy.

All frames are decoded at once, one layer at a time: a cursor array holds the offset of the
layer being read in every frame, and each step moves the cursors of the frames that carry that
layer. Link types: Ethernet (802.1Q, 802.1ad/QinQ and older 0x9100 tags, MPLS label stacks,
PPPoE sessions), Linux cooked v1 and v2, raw IP, BSD loopback (NULL and LOOP), PPP (with or
without the HDLC address and control bytes) and PPPoE without Ethernet. Tunnels: IPv4/IPv6 in
IPv4/IPv6 (protocols 4 and 41) and GRE (IPv4, IPv6 or Ethernet inside; version 0), up to three
deep. IPv6 extension headers (hop-by-hop, routing, destination options, fragment) are skipped;
fragments of IPv4 and IPv6 are marked for tshark, which reassembles them.

Frames this module cannot place (another link type, an unknown EtherType) are marked
``undecoded``, so that the caller hands them to tshark instead of silently missing them.
Frames known to carry no IP at all (ARP, LLDP, spanning tree and other 802.2 LLC frames) are not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Layer3", "SUPPORTED_LINK_TYPES", "locate_ip"]

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]
Bool = npt.NDArray[np.bool_]

LINK_NULL, LINK_ETHERNET, LINK_PPP, LINK_RAW12, LINK_RAW14 = 0, 1, 9, 12, 14
LINK_PPP_HDLC, LINK_PPP_ETHER, LINK_RAW, LINK_LOOP, LINK_SLL, LINK_SLL2 = 50, 51, 101, 108, 113, 276
LINK_ERF = 197
SUPPORTED_LINK_TYPES = frozenset({LINK_NULL, LINK_ETHERNET, LINK_PPP, LINK_RAW12, LINK_RAW14,
                                  LINK_PPP_HDLC, LINK_PPP_ETHER, LINK_RAW, LINK_LOOP, LINK_SLL,
                                  LINK_SLL2, LINK_ERF})
# Endace ERF record types: Ethernet (plain, colour, DSM colour, colour hash), IPv4, IPv6
_ERF_ETHERNET = (2, 11, 16, 20)
_ERF_IP = (22, 23)

_IPV4, _IPV6 = 0x0800, 0x86DD
_TAGS = (0x8100, 0x88A8, 0x9100)
_MPLS = (0x8847, 0x8848)
_PPPOE_SESSION = 0x8864
_NO_IP_ETHERTYPES = (0x0806, 0x8035, 0x88CC, 0x8809, 0x888E, 0x88F7, 0x8863, 0x9000)
_PPP_IPV4, _PPP_IPV6 = 0x0021, 0x0057
_IPV6_EXTENSIONS = (0, 43, 60)
_FRAGMENT_HEADER = 44
_TUNNEL_DEPTH = 3


@dataclass(frozen=True)
class Layer3:
    """Per frame: offset of the innermost IP header (-1 if none), its version (4, 6 or 0),
    the transport protocol and its offset, how many IP headers deep it is, and flags."""

    l3: I64
    version: I64
    proto: I64
    l4: I64
    depth: I64
    fragment: Bool
    later_fragment: Bool
    undecoded: Bool


class _Reader:
    def __init__(self, data: U8, end: I64) -> None:
        self.data, self.end = data, end

    def byte(self, offset: I64, valid: Bool) -> I64:
        ok = valid & (offset >= 0) & (offset < self.end)
        return np.where(ok, self.data[np.where(ok, offset, 0)].astype(np.int64), -1)

    def be16(self, offset: I64, valid: Bool) -> I64:
        hi, lo = self.byte(offset, valid), self.byte(offset + 1, valid)
        return np.where((hi >= 0) & (lo >= 0), (hi << 8) | lo, -1)


def _ethernet(rd: _Reader, off: I64, sel: Bool, l3: I64, undecoded: Bool) -> None:
    """Frames ``sel`` whose Ethernet header starts at ``off``: set ``l3`` where IP follows."""
    off = off + 12
    etype = rd.be16(off, sel)
    for _ in range(3):  # 802.1Q / 802.1ad / QinQ tags
        tagged = sel & np.isin(etype, _TAGS)
        off = np.where(tagged, off + 4, off)
        etype = np.where(tagged, rd.be16(off, tagged), etype)
    off = off + 2  # first byte after the EtherType
    pppoe = sel & (etype == _PPPOE_SESSION)
    if pppoe.any():
        ppp = rd.be16(off + 6, pppoe)
        etype = np.where(pppoe & (ppp == _PPP_IPV4), _IPV4,
                         np.where(pppoe & (ppp == _PPP_IPV6), _IPV6, etype))
        off = np.where(pppoe, off + 8, off)
    mpls = sel & np.isin(etype, _MPLS)
    if mpls.any():
        bottom = np.zeros(len(off), dtype=np.bool_)
        for _ in range(8):  # label stack entries until the bottom-of-stack bit
            active = mpls & ~bottom
            if not active.any():
                break
            bottom |= active & ((rd.byte(off + 2, active) & 0x01) == 1)
            off = np.where(active, off + 4, off)
        nibble = rd.byte(off, mpls) >> 4
        etype = np.where(mpls & (nibble == 4), _IPV4,
                         np.where(mpls & (nibble == 6), _IPV6, etype))
    ip = sel & ((etype == _IPV4) | (etype == _IPV6))
    l3[ip] = off[ip]
    no_ip = sel & ((etype >= 0) & (etype <= 1500) | np.isin(etype, _NO_IP_ETHERTYPES))
    undecoded |= sel & ~ip & ~no_ip


def _ppp(rd: _Reader, off: I64, sel: Bool, l3: I64, undecoded: Bool) -> None:
    """PPP starting at ``off`` (the 0xFF 0x03 address/control bytes optional)."""
    hdlc = sel & (rd.be16(off, sel) == 0xFF03)
    off = np.where(hdlc, off + 2, off)
    proto = rd.be16(off, sel)
    ip = sel & ((proto == _PPP_IPV4) | (proto == _PPP_IPV6))
    l3[ip] = off[ip] + 2
    undecoded |= sel & ~ip & (proto < 0xC000)  # LCP, PAP, CHAP, IPCP... carry no IP


def _erf(rd: _Reader, start: I64, sel: Bool, l3: I64, undecoded: Bool) -> None:
    """Endace ERF records (what editcap makes of an ERF file): a 16-byte header, extension
    headers while the type's top bit (then each extension's) says one follows, then the packet
    (Ethernet after two offset/pad bytes)."""
    rtype = rd.byte(start + 8, sel)
    off = start + 16
    more = sel & ((rtype & 0x80) != 0)
    for _ in range(8):
        if not more.any():
            break
        nxt = more & ((rd.byte(off, more) & 0x80) != 0)
        off = np.where(more, off + 8, off)
        more = nxt
    kind = rtype & 0x7F
    eth = sel & np.isin(kind, _ERF_ETHERNET)
    if eth.any():
        _ethernet(rd, off + 2, eth, l3, undecoded)
    ip = sel & np.isin(kind, _ERF_IP)
    l3[ip] = off[ip]
    undecoded |= sel & ~eth & ~ip


def locate_ip(data: U8, start: I64, length: I64, links: I64) -> Layer3:
    """The innermost IP header of every frame (``start``/``length`` index ``data``)."""
    n = len(start)
    end = start + length
    rd = _Reader(data, end)
    l3 = np.full(n, -1, dtype=np.int64)
    undecoded = ~np.isin(links, list(SUPPORTED_LINK_TYPES))

    eth = links == LINK_ETHERNET
    if eth.any():
        _ethernet(rd, start, eth, l3, undecoded)
    for link, proto_at, hdr in ((LINK_SLL, 14, 16), (LINK_SLL2, 0, 20)):
        sel = links == link
        if sel.any():
            etype = rd.be16(start + proto_at, sel)
            ip = sel & ((etype == _IPV4) | (etype == _IPV6))
            l3[ip] = start[ip] + hdr
            undecoded |= sel & ~ip & ~np.isin(etype, _NO_IP_ETHERTYPES) & (etype > 1500)
    raw = np.isin(links, (LINK_RAW, LINK_RAW12, LINK_RAW14))
    l3[raw] = start[raw]
    loop = (links == LINK_NULL) | (links == LINK_LOOP)
    l3[loop] = start[loop] + 4
    erf = links == LINK_ERF
    if erf.any():
        _erf(rd, start, erf, l3, undecoded)
    for link, skip in ((LINK_PPP, 0), (LINK_PPP_HDLC, 0), (LINK_PPP_ETHER, 6)):
        sel = links == link
        if sel.any():
            _ppp(rd, start + skip, sel, l3, undecoded)

    depth = np.zeros(n, dtype=np.int64)
    fragment = np.zeros(n, dtype=np.bool_)
    later = np.zeros(n, dtype=np.bool_)
    version = np.zeros(n, dtype=np.int64)
    proto = np.full(n, -1, dtype=np.int64)
    l4 = np.full(n, -1, dtype=np.int64)
    active = l3 >= 0
    for _ in range(_TUNNEL_DEPTH + 1):
        if not active.any():
            break
        first = rd.byte(l3, active)
        ver = np.where(first >= 0, first >> 4, 0)
        v4 = active & (ver == 4) & (l3 + 20 <= end)
        v6 = active & (ver == 6) & (l3 + 40 <= end)
        unknown_ip = active & ~v4 & ~v6
        undecoded |= unknown_ip
        version = np.where(v4, 4, np.where(v6, 6, np.where(active, 0, version)))
        depth = np.where(v4 | v6, depth + 1, depth)
        # IPv4
        ihl = (rd.byte(l3, v4) & 0x0F) * 4
        frag_field = rd.be16(l3 + 6, v4)
        frag4 = v4 & ((frag_field & 0x3FFF) != 0)
        later4 = v4 & ((frag_field & 0x1FFF) != 0)
        p = np.where(v4, rd.byte(l3 + 9, v4), -1)
        off = np.where(v4, l3 + ihl, -1)
        # IPv6 and its extension headers
        nxt = rd.byte(l3 + 6, v6)
        off6 = l3 + 40
        frag6 = np.zeros(n, dtype=np.bool_)
        later6 = np.zeros(n, dtype=np.bool_)
        for _ in range(4):
            ext = v6 & np.isin(nxt, _IPV6_EXTENSIONS)
            fr = v6 & (nxt == _FRAGMENT_HEADER)
            if not (ext.any() or fr.any()):
                break
            ext_len = (rd.byte(off6 + 1, ext) + 1) * 8
            fr_field = rd.be16(off6 + 2, fr)
            frag6 |= fr
            later6 |= fr & ((fr_field & 0xFFF8) != 0)
            nxt = np.where(ext | fr, rd.byte(off6, ext | fr), nxt)
            off6 = np.where(ext, off6 + ext_len, np.where(fr, off6 + 8, off6))
        p = np.where(v6, nxt, p)
        off = np.where(v6, off6, off)
        fragment |= frag4 | frag6
        later |= later4 | later6
        proto = np.where(v4 | v6, p, proto)
        l4 = np.where(v4 | v6, off, l4)
        # tunnels: the next round reads the inner header (not of later fragments)
        inner = (v4 | v6) & ~(later4 | later6)
        ipip = inner & ((p == 4) | (p == 41))
        gre = inner & (p == 47)
        nxt_l3 = np.where(ipip, off, -1)
        if gre.any():
            flags = rd.byte(off, gre)
            gre_ok = gre & ((rd.byte(off + 1, gre) & 0x07) == 0)  # version 0
            hdr = 4 + 4 * (((flags & 0x80) != 0).astype(np.int64)
                           + ((flags & 0x20) != 0).astype(np.int64)
                           + ((flags & 0x10) != 0).astype(np.int64))
            ptype = rd.be16(off + 2, gre_ok)
            ip_in = gre_ok & ((ptype == _IPV4) | (ptype == _IPV6))
            nxt_l3 = np.where(ip_in, off + hdr, nxt_l3)
            bridged = gre_ok & (ptype == 0x6558)
            if bridged.any():
                inner_l3 = np.full(n, -1, dtype=np.int64)
                _ethernet(rd, off + hdr, bridged, inner_l3, undecoded)
                nxt_l3 = np.where(bridged, inner_l3, nxt_l3)
            undecoded |= gre & ~ip_in & ~bridged
        active = nxt_l3 >= 0
        l3 = np.where(active, nxt_l3, l3)
    return Layer3(l3, version, proto, l4, depth, fragment, later, undecoded)
