"""The sending half of an RTP stream: sequence numbers, timestamps, marker bits, the history
kept for NACK retransmission (bounded) and the counters an RTCP SR reports. Thread-safe."""

from __future__ import annotations

import logging
import random
import socket
import threading
from collections import OrderedDict

from aiortc.rtp import RtpPacket

__all__ = ["HISTORY", "RtpSender"]

log = logging.getLogger(__name__)

HISTORY = 1024  # packets kept for NACK retransmission
Address = tuple[str, int]


class RtpSender:
    def __init__(self, sock: socket.socket, ssrc: int, clock_rate: int = 90000) -> None:
        self.sock, self.ssrc, self.clock_rate = sock, ssrc, clock_rate
        self.seq = random.getrandbits(16)
        self.ts_base = random.getrandbits(32)
        self._history: OrderedDict[int, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.frames = self.packets = self.octets = self.keyframes = self.retransmitted = 0

    def rtp_timestamp(self, elapsed_s: float) -> int:
        return (self.ts_base + int(elapsed_s * self.clock_rate)) & 0xFFFFFFFF

    def send_frame(
        self, target: Address, payload_type: int, payloads: list[bytes], ts: int, key: bool
    ) -> None:
        """One frame's payloads as RTP packets, the marker bit on the last."""
        octets = 0
        for i, payload in enumerate(payloads):
            with self._lock:
                seq = self.seq
                self.seq = (seq + 1) & 0xFFFF
            data = RtpPacket(
                payload_type=payload_type,
                marker=int(i == len(payloads) - 1),
                sequence_number=seq,
                timestamp=ts,
                ssrc=self.ssrc,
                payload=payload,
            ).serialize()
            with self._lock:
                self._history[seq] = data
                if len(self._history) > HISTORY:
                    self._history.popitem(last=False)
            try:
                self.sock.sendto(data, target)
            except OSError as exc:  # e.g. ICMP port unreachable reported on a later send
                log.debug("video RTP send: %s", exc)
            octets += len(payload)
        with self._lock:
            self.frames += 1
            self.packets += len(payloads)
            self.octets += octets
            self.keyframes += int(key)

    def retransmit(self, target: Address | None, seqs: tuple[int, ...]) -> None:
        """Send the NACKed packets again, unchanged (no RTX payload type is negotiated)."""
        if target is None:
            return
        for seq in seqs[:128]:
            with self._lock:
                data = self._history.get(seq)
            if data is None:
                continue
            try:
                self.sock.sendto(data, target)
            except OSError:
                return
            with self._lock:
                self.retransmitted += 1
