"""RTCP for the G.711 audio of H.323 calls (RFC 3550), sans I/O.

:class:`ReceptionStats` keeps, per received source, what a report block needs (extended highest
sequence number, cumulative and interval loss, interarrival jitter: RFC 3550 A.1, A.3, A.8),
with the video path's sequence counters.
:class:`AudioRtcp` is one side's RTCP session: it builds our compound report (SR while we send,
else RR, then SDES CNAME; BYE at the end) and reads the far end's, giving the round-trip time
(LSR/DLSR, RFC 3550 6.4.1) and the far end's view of our stream (fraction and cumulative loss,
jitter). Packets are built and parsed with aiortc's RTCP classes through
:mod:`media.video.rtcp`; every time is an explicit wall-clock argument (seconds since 1970).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiortc.rtp import RtcpByePacket

from media.video.assembler import SequenceStats
from media.video.rtcp import ReportBlock, compound_report, ntp_now, parse_feedback

__all__ = ["MAX_SOURCES", "AudioRtcp", "ReceptionStats", "is_rtcp"]

MAX_SOURCES = 4  # sources tracked (the busiest is reported); further SSRCs are ignored


def is_rtcp(data: bytes) -> bool:
    """RTP version 2 with an RTCP packet type (SR 200 … APP 204, feedback 205/206)."""
    return len(data) >= 8 and data[0] >> 6 == 2 and 200 <= data[1] <= 206


@dataclass(slots=True)
class ReceptionStats:
    """One source as received (RFC 3550 A.1, A.3, A.8 through the video path's
    :class:`~media.video.assembler.SequenceStats`): feed :meth:`on_packet`, read :meth:`block`."""

    ssrc: int
    clock_rate: int
    counters: SequenceStats = field(init=False)

    def __post_init__(self) -> None:
        self.counters = SequenceStats(self.clock_rate)

    def on_packet(self, seq: int, timestamp: int, arrival: float) -> None:
        self.counters.add(self.counters.unwrap(seq), timestamp, arrival)

    @property
    def extended_max(self) -> int:
        return self.counters.highest

    @property
    def expected(self) -> int:
        return self.counters.expected

    @property
    def received(self) -> int:
        return self.counters.received

    @property
    def lost(self) -> int:
        """Cumulative loss, clamped to the 24-bit field of a report block."""
        return min(0x7FFFFF, self.counters.lost)

    def block(self, lsr: int, dlsr: int) -> ReportBlock:
        """The report block now (and the interval's counters restart)."""
        c = self.counters
        fraction = c.interval_fraction_lost()
        jitter = int(c.jitter)
        return ReportBlock(
            self.ssrc, fraction, self.lost, c.highest & 0xFFFFFFFF, jitter, lsr, dlsr
        )


@dataclass(slots=True)
class FarView:
    """The far end's last report block about our stream (and the worst interval's loss)."""

    fraction_lost_pct: float
    cumulative_lost: int
    jitter_ms: float
    highest_seq: int
    max_fraction_lost_pct: float


@dataclass(slots=True)
class AudioRtcp:
    """One side's RTCP: ``ssrc`` is our RTP sender's; the sender bumps :meth:`on_sent`."""

    ssrc: int
    cname: str
    clock_rate: int = 8000
    sources: dict[int, ReceptionStats] = field(default_factory=dict)
    packets_sent: int = 0
    octets_sent: int = 0
    last_rtp_timestamp: int = 0
    last_sent_at: float | None = None
    reports_sent: int = 0
    reports_received: int = 0
    bad: int = 0
    byes_received: int = 0
    rtt_ms: list[float] = field(default_factory=list)
    far_view: FarView | None = None
    _lsr: int = 0  # middle 32 bits of the far end's last SR's NTP time
    _lsr_at: float = 0.0

    def on_sent(self, payload_len: int, rtp_timestamp: int, now: float) -> None:
        self.packets_sent += 1
        self.octets_sent += payload_len
        self.last_rtp_timestamp = rtp_timestamp
        self.last_sent_at = now

    def on_rtp(self, ssrc: int, seq: int, timestamp: int, arrival: float) -> None:
        stats = self.sources.get(ssrc)
        if stats is None:
            if len(self.sources) >= MAX_SOURCES:
                return
            stats = self.sources[ssrc] = ReceptionStats(ssrc, self.clock_rate)
        stats.on_packet(seq, timestamp, arrival)

    def report(self, now: float, bye: bool = False) -> bytes:
        """Our compound packet at wall time ``now``: SR (once we sent) or RR, with a report
        block about the source we received most from, SDES CNAME, and BYE if ``bye``."""
        dlsr = int((now - self._lsr_at) * 65536) & 0xFFFFFFFF if self._lsr else 0
        busiest = max(self.sources.values(), key=lambda s: s.received, default=None)
        block = busiest.block(self._lsr, dlsr) if busiest is not None else None
        sender = None
        if self.packets_sent and self.last_sent_at is not None:
            # the RTP timestamp that corresponds to ``now`` on our media clock
            elapsed = max(0.0, now - self.last_sent_at)
            rtp_now = self.last_rtp_timestamp + int(elapsed * self.clock_rate)
            sender = (ntp_now(now), rtp_now, self.packets_sent, self.octets_sent)
        packet = compound_report(self.ssrc, self.cname, sender, block)
        if bye:
            packet += bytes(RtcpByePacket(sources=[self.ssrc]))
        self.reports_sent += 1
        return packet

    def receive(self, data: bytes, now: float) -> None:
        """Read one compound packet that arrived at wall time ``now`` (bad ones are counted)."""
        try:
            if not is_rtcp(data):
                raise ValueError("not RTCP")
            feedback = parse_feedback(data, self.ssrc)
        except ValueError:
            self.bad += 1
            return
        self.reports_received += 1
        if feedback.bye:
            self.byes_received += 1
        if feedback.sr_ntp is not None:
            self._lsr, self._lsr_at = (feedback.sr_ntp >> 16) & 0xFFFFFFFF, now
        block = feedback.our_report
        if block is None:
            return
        fraction = round(100.0 * block.fraction_lost / 256, 2)
        worst = max(fraction, self.far_view.max_fraction_lost_pct if self.far_view else 0.0)
        self.far_view = FarView(
            fraction,
            block.packets_lost,
            round(1000.0 * block.jitter / self.clock_rate, 3),
            block.highest_sequence,
            worst,
        )
        if block.lsr:
            arrival = (ntp_now(now) >> 16) & 0xFFFFFFFF
            rtt = ((arrival - block.lsr - block.dlsr) & 0xFFFFFFFF) / 65536
            if rtt < 60:  # else a clock or a wrap went wrong
                self.rtt_ms.append(round(rtt * 1000, 3))

    def summary(self) -> dict[str, Any]:
        far = self.far_view
        return {
            "sent": self.reports_sent,
            "received": self.reports_received,
            "bad": self.bad,
            "byes_received": self.byes_received,
            "rtt_ms": self.rtt_ms[-1] if self.rtt_ms else None,
            "max_rtt_ms": max(self.rtt_ms) if self.rtt_ms else None,
            "far_end": None
            if far is None
            else {
                "fraction_lost_pct": far.fraction_lost_pct,
                "cumulative_lost": far.cumulative_lost,
                "jitter_ms": far.jitter_ms,
                "highest_seq": far.highest_seq,
                "max_fraction_lost_pct": far.max_fraction_lost_pct,
            },
        }
