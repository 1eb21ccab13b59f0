"""RTCP for one video stream, built and parsed with aiortc's packet classes (``aiortc.rtp``).

Sent: compound SR or RR + SDES CNAME (RFC 3550), PLI (RFC 4585 PSFB FMT 1), FIR (RFC 5104
PSFB FMT 4, one FCI entry with a sequence number), generic NACK (RTPFB FMT 1).
Understood: SR/RR (LSR/DLSR round trip), PLI, FIR, NACK, REMB (PSFB FMT 15, reported only),
BYE. TMMBR/TMMBN are not acted on.
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass

from aiortc.rtp import (
    RtcpByePacket,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSdesPacket,
    RtcpSenderInfo,
    RtcpSourceInfo,
    RtcpSrPacket,
    unpack_remb_fci,
)

__all__ = [
    "Feedback",
    "compound_report",
    "fir",
    "is_rtcp",
    "nack",
    "ntp_now",
    "parse_feedback",
    "pli",
]

NTP_EPOCH_OFFSET = 2208988800
PSFB_PLI, PSFB_FIR, PSFB_REMB = 1, 4, 15
RTPFB_NACK = 1


def ntp_now(now: float | None = None) -> int:
    """The 64-bit NTP timestamp of the wall clock."""
    t = time.time() if now is None else now
    return int((t + NTP_EPOCH_OFFSET) * (1 << 32)) & ((1 << 64) - 1)


def is_rtcp(data: bytes) -> bool:
    """RFC 5761 demultiplexing: RTCP packet types 192..223 in the second byte."""
    return len(data) >= 2 and 192 <= data[1] <= 223


@dataclass(frozen=True)
class ReportBlock:
    source_ssrc: int
    fraction_lost: int
    packets_lost: int
    highest_seq: int
    jitter: int
    lsr: int
    dlsr: int


def compound_report(
    ssrc: int,
    cname: str,
    sender: tuple[int, int, int, int] | None,
    block: ReportBlock | None,
) -> bytes:
    """SR (when ``sender`` = (ntp, rtp_ts, packets, octets)) or RR, then SDES CNAME."""
    reports = []
    if block is not None:
        reports.append(
            RtcpReceiverInfo(
                ssrc=block.source_ssrc,
                fraction_lost=block.fraction_lost,
                packets_lost=block.packets_lost,
                highest_sequence=block.highest_seq & 0xFFFFFFFF,
                jitter=block.jitter,
                lsr=block.lsr,
                dlsr=block.dlsr,
            )
        )
    head: RtcpSrPacket | RtcpRrPacket
    if sender is not None:
        ntp, rtp_ts, packets, octets = sender
        info = RtcpSenderInfo(
            ntp_timestamp=ntp,
            rtp_timestamp=rtp_ts & 0xFFFFFFFF,
            packet_count=packets & 0xFFFFFFFF,
            octet_count=octets & 0xFFFFFFFF,
        )
        head = RtcpSrPacket(ssrc=ssrc, sender_info=info, reports=reports)
    else:
        head = RtcpRrPacket(ssrc=ssrc, reports=reports)
    sdes = RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=ssrc, items=[(1, cname.encode())])])
    return bytes(head) + bytes(sdes)


def pli(ssrc: int, media_ssrc: int) -> bytes:
    return bytes(RtcpPsfbPacket(fmt=PSFB_PLI, ssrc=ssrc, media_ssrc=media_ssrc))


def fir(ssrc: int, media_ssrc: int, seq_nr: int) -> bytes:
    # RFC 5104 4.3.1: the common header's media SSRC is 0; the FCI names the sender.
    fci = struct.pack("!LB3x", media_ssrc, seq_nr & 0xFF)
    return bytes(RtcpPsfbPacket(fmt=PSFB_FIR, ssrc=ssrc, media_ssrc=0, fci=fci))


def nack(ssrc: int, media_ssrc: int, lost: list[int]) -> bytes:
    return bytes(RtcpRtpfbPacket(fmt=RTPFB_NACK, ssrc=ssrc, media_ssrc=media_ssrc, lost=lost))


@dataclass
class Feedback:
    """What one RTCP compound packet asks of us or tells us."""

    sr_ntp: int | None = None  # the peer's last SR (for LSR)
    sr_ssrc: int | None = None
    our_report: RtcpReceiverInfo | None = None  # the peer's report block about our stream
    pli: int = 0
    fir: int = 0
    fir_seqs: tuple[int, ...] = ()
    nack: tuple[int, ...] = ()
    remb_bps: int | None = None
    bye: bool = False


def parse_feedback(data: bytes, our_ssrc: int) -> Feedback:
    """Read a compound packet; ``ValueError`` when it is not well-formed RTCP."""
    fb = Feedback()
    nacked: list[int] = []
    firs: list[int] = []
    for packet in RtcpPacket.parse(data):
        if isinstance(packet, RtcpSrPacket | RtcpRrPacket):
            if isinstance(packet, RtcpSrPacket):
                fb.sr_ntp, fb.sr_ssrc = packet.sender_info.ntp_timestamp, packet.ssrc
            for block in packet.reports:
                if block.ssrc == our_ssrc:
                    fb.our_report = block
        elif isinstance(packet, RtcpPsfbPacket):
            if packet.fmt == PSFB_PLI:
                fb.pli += 1
            elif packet.fmt == PSFB_FIR:
                for pos in range(0, len(packet.fci) - 7, 8):
                    target, seq_nr = struct.unpack_from("!LB", packet.fci, pos)
                    if target == our_ssrc:
                        fb.fir += 1
                        firs.append(seq_nr)
            elif packet.fmt == PSFB_REMB:
                try:
                    fb.remb_bps, _ = unpack_remb_fci(packet.fci)
                except (ValueError, struct.error):
                    pass
        elif isinstance(packet, RtcpRtpfbPacket):
            if packet.fmt == RTPFB_NACK and packet.media_ssrc == our_ssrc:
                nacked.extend(seq & 0xFFFF for seq in packet.lost)
        elif isinstance(packet, RtcpByePacket):
            fb.bye = True
    fb.nack, fb.fir_seqs = tuple(nacked), tuple(firs)
    return fb
