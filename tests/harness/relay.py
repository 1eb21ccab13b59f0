"""A UDP relay for RTP that loses the first frames on purpose: fault injection for tests.

>>> relay = RtpRelay(drop_frames=1).start()          # doctest: +SKIP
>>> relay.target = ("127.0.0.1", far_end_rtp_port)   # then send RTP to ("127.0.0.1", relay.port)

Datagrams to :attr:`port` go on to :attr:`target` from the relay's own socket, except those
of the first ``drop_frames`` frames (a frame: the packets sharing one RTP timestamp). A video
stream's first frame is its keyframe, so the receiver starts with frames it cannot decode, the
situation in which a receiver asks for a keyframe. :attr:`log` keeps what passed
(time, sequence number, RTP timestamp, forwarded), bounded.
"""

from __future__ import annotations

import struct
import time

from tests.harness._udp import UdpResponder

__all__ = ["RtpRelay"]

_LOG_MAX = 20000


class RtpRelay(UdpResponder):
    def __init__(self, drop_frames: int = 1, host: str = "127.0.0.1") -> None:
        super().__init__(host, 0)
        self.drop_frames = drop_frames
        self.target: tuple[str, int] | None = None
        self.log: list[tuple[float, int, int, bool]] = []
        self._frames: list[int] = []  # RTP timestamps of the frames dropped

    @property
    def dropped(self) -> int:
        return sum(1 for entry in self.log if not entry[3])

    @property
    def forwarded(self) -> int:
        return sum(1 for entry in self.log if entry[3])

    def handle(self, data: bytes, peer: tuple[str, int]) -> bytes | None:
        target = self.target
        if len(data) < 12 or target is None:
            return None
        seq, ts = struct.unpack_from("!HL", data, 2)
        if ts not in self._frames and len(self._frames) < self.drop_frames:
            self._frames.append(ts)
        forward = ts not in self._frames
        if len(self.log) < _LOG_MAX:
            self.log.append((time.monotonic(), seq, ts, forward))
        if forward:
            try:
                self._sock.sendto(data, target)
            except OSError:
                pass
        return None
