"""Receive side of an RTP video stream without I/O: sequence tracking, loss and jitter (RFC 3550
appendix A), NACK lists and frame assembly. Every method takes the arrival time explicitly.

A frame is handed on when its packets are contiguous from a codec frame start to the packet with
the marker bit. A gap waits ``nack_wait_s`` for a retransmission; after that the frames up to the
next frame start are dropped and the caller is told a keyframe is needed. Memory is bounded:
at most ``max_packets`` packets and ``max_frame_bytes`` per frame are held.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AssembledFrame", "FrameAssembler", "Packet", "SequenceStats"]

SEQ_MOD = 1 << 16


@dataclass
class Packet:
    seq: int  # extended (unwrapped) sequence number
    timestamp: int
    marker: bool
    frame_start: bool
    data: bytes


@dataclass
class AssembledFrame:
    timestamp: int
    data: bytes
    packets: int
    after_loss: bool  # frames before this one were dropped


@dataclass
class SequenceStats:
    """Per-source counters in the RFC 3550 sense (duplicates and retransmissions count)."""

    clock_rate: int = 90000
    base: int | None = None
    highest: int = 0
    received: int = 0
    jitter: float = 0.0
    _transit: float | None = None
    _expected_prior: int = 0
    _received_prior: int = 0

    def unwrap(self, seq: int) -> int:
        if self.base is None:
            return seq
        cycle = self.highest - (self.highest % SEQ_MOD)
        candidate = cycle + seq
        if candidate - self.highest > SEQ_MOD // 2:
            candidate -= SEQ_MOD
        elif self.highest - candidate > SEQ_MOD // 2:
            candidate += SEQ_MOD
        return candidate

    def add(self, ext_seq: int, rtp_timestamp: int, arrival_s: float) -> None:
        if self.base is None:
            self.base = self.highest = ext_seq
        self.highest = max(self.highest, ext_seq)
        self.received += 1
        transit = arrival_s * self.clock_rate - rtp_timestamp
        if self._transit is not None:
            d = abs(transit - self._transit)
            self.jitter += (d - self.jitter) / 16
        self._transit = transit

    @property
    def expected(self) -> int:
        return 0 if self.base is None else self.highest - self.base + 1

    @property
    def lost(self) -> int:
        return max(0, self.expected - self.received)

    def interval_fraction_lost(self) -> int:
        """The 8-bit fraction lost since the previous call (for a report block)."""
        expected, received = self.expected, self.received
        exp_i = expected - self._expected_prior
        rec_i = received - self._received_prior
        self._expected_prior, self._received_prior = expected, received
        lost_i = exp_i - rec_i
        return 0 if exp_i <= 0 or lost_i <= 0 else min(255, (lost_i << 8) // exp_i)


@dataclass
class FrameAssembler:
    nack_wait_s: float = 0.12
    max_packets: int = 2048
    max_frame_bytes: int = 4 << 20
    max_nack_tries: int = 2
    packets: dict[int, Packet] = field(default_factory=dict)
    next_seq: int | None = None
    dropped_frames: int = 0
    _gap_since: float | None = None
    _nacked: dict[int, int] = field(default_factory=dict)
    _after_loss: bool = False

    def reset(self) -> None:
        self.packets.clear()
        self._nacked.clear()
        self.next_seq, self._gap_since = None, None

    def add(self, packet: Packet) -> bool:
        """Store a packet; ``False`` when it is a duplicate or too old to be used."""
        if self.next_seq is None:
            if not packet.frame_start:
                return False
            self.next_seq = packet.seq
        if packet.seq < self.next_seq or packet.seq in self.packets:
            return False
        if len(self.packets) >= self.max_packets:
            self._skip_to_next_start(drop_all=True)
        self.packets[packet.seq] = packet
        return True

    def missing(self, now: float) -> list[int]:
        """Sequence numbers worth a NACK now (each asked at most ``max_nack_tries`` times)."""
        if self.next_seq is None or not self.packets:
            return []
        top = max(self.packets)
        want = [s for s in range(self.next_seq, top) if s not in self.packets]
        out = []
        for seq in want[:64]:
            tries = self._nacked.get(seq, 0)
            if tries < self.max_nack_tries:
                self._nacked[seq] = tries + 1
                out.append(seq)
        return out

    def pop_frames(self, now: float) -> tuple[list[AssembledFrame], bool]:
        """Complete frames in order, and whether frames were dropped (a keyframe is needed)."""
        frames: list[AssembledFrame] = []
        dropped = False
        while self.next_seq is not None and self.packets:
            state, frame = self._head_frame()
            if frame is not None:
                frames.append(frame)
                self._gap_since = None
                continue
            if state == "waiting":
                if self._gap_since is None:
                    self._gap_since = now
                full = len(self.packets) >= self.max_packets
                if now - self._gap_since < self.nack_wait_s and not full:
                    break
            self._skip_to_next_start()
            dropped = True
            self._gap_since = None
        return frames, dropped

    def _head_frame(self) -> tuple[str, AssembledFrame | None]:
        """("done", frame), ("waiting", None) for a gap or a frame still arriving, or
        ("broken", None) for a head that cannot become a frame."""
        assert self.next_seq is not None
        first = self.packets.get(self.next_seq)
        if first is None:
            return "waiting", None
        if not first.frame_start:
            return "broken", None
        parts, size, seq = [], 0, self.next_seq
        while True:
            pkt = self.packets.get(seq)
            if pkt is None:
                return "waiting", None
            if pkt.timestamp != first.timestamp:
                return "broken", None  # the marker packet was lost or never sent
            parts.append(pkt.data)
            size += len(pkt.data)
            if size > self.max_frame_bytes:
                return "broken", None
            if pkt.marker:
                break
            seq += 1
        for s in range(self.next_seq, seq + 1):
            del self.packets[s]
            self._nacked.pop(s, None)
        self.next_seq = seq + 1
        after, self._after_loss = self._after_loss, False
        return "done", AssembledFrame(first.timestamp, b"".join(parts), len(parts), after)

    def _skip_to_next_start(self, drop_all: bool = False) -> None:
        """Drop the broken frame: resume at the next packet that surely starts a newer frame."""
        assert self.next_seq is not None
        self.dropped_frames += 1
        self._after_loss = True
        ordered = sorted(self.packets)
        broken_ts = self.packets[ordered[0]].timestamp if ordered else None
        resume = None
        if not drop_all:
            for s in ordered:
                p = self.packets[s]
                if s <= self.next_seq or not p.frame_start:
                    continue
                before = self.packets.get(s - 1)
                if (before is not None and before.marker) or p.timestamp != broken_ts:
                    resume = s
                    break
        for s in ordered:
            if resume is None or s < resume:
                del self.packets[s]
                self._nacked.pop(s, None)
        self.next_seq = resume
