"""G.711 audio over RTP for H.323 calls: packets, a paced sender and a measured receiver.

Packet building and parsing are pure functions; :class:`RtpAudio` is the I/O edge (one asyncio
UDP socket) that sends 20 ms packets of silence paced by :class:`media.pacing.FramePacer` and
records every packet it receives, measured with :mod:`media.rtpstats` (loss, RFC 3550 jitter).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

from media.pacing import FramePacer
from media.rtpstats import RtpColumns, analyse_stream

__all__ = ["PAYLOAD_TYPES", "RtpAudio", "RtpHeader", "parse_rtp", "rtp_packet"]

#: H.245 audio capability -> static RTP payload type (RFC 3551) and SDP-style name
PAYLOAD_TYPES = {"g711Ulaw64k": 0, "g711Alaw64k": 8}
CODEC_NAMES = {"g711Ulaw64k": "PCMU", "g711Alaw64k": "PCMA"}
_SILENCE = {0: 0xFF, 8: 0xD5}  # the G.711 code of a zero sample
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PACKETS_PER_SECOND = 50
_HEADER = struct.Struct("!BBHII")
MAX_RECORDED = 360_000  # two hours at 50 packets/s; later packets are counted, not recorded


@dataclass(frozen=True, slots=True)
class RtpHeader:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    marker: bool


def rtp_packet(header: RtpHeader, payload: bytes) -> bytes:
    second = (0x80 if header.marker else 0) | (header.payload_type & 0x7F)
    head = _HEADER.pack(
        0x80, second, header.seq & 0xFFFF, header.timestamp & 0xFFFFFFFF, header.ssrc
    )
    return head + payload


def parse_rtp(data: bytes) -> RtpHeader | None:
    """The header of an RTP version 2 packet, or ``None`` for anything else (RTCP included)."""
    if len(data) < _HEADER.size:
        return None
    first, second, seq, timestamp, ssrc = _HEADER.unpack_from(data)
    if first >> 6 != 2 or 72 <= (second & 0x7F) <= 76:  # RTCP SR/RR/SDES/BYE/APP
        return None
    return RtpHeader(second & 0x7F, seq, timestamp, ssrc, bool(second & 0x80))


@dataclass(slots=True)
class _Received:
    arrival: list[float] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    timestamp: list[int] = field(default_factory=list)
    payload_type: list[int] = field(default_factory=list)
    ignored: int = 0  # not RTP (RTCP, garbage)
    unrecorded: int = 0  # beyond MAX_RECORDED


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpAudio) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        self.owner.on_datagram(data, asyncio.get_running_loop().time())


class RtpAudio:
    """One side's audio: bind with :meth:`open`, :meth:`start` sending to the far end's RTP
    address once a channel is open, :meth:`close` at the end, then read :meth:`report`."""

    def __init__(self, host: str, port: int = 0) -> None:
        self.host = host
        self.requested_port = port
        self.codec: str | None = None
        self.remote: tuple[str, int] | None = None
        self.sent = 0
        self.received = _Received()
        self._transport: asyncio.DatagramTransport | None = None
        self._sender: asyncio.Task[None] | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        """The bound port (still known after :meth:`close`)."""
        if self._port is None:
            raise RuntimeError("the RTP socket is not open")
        return self._port

    async def open(self) -> RtpAudio:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _Protocol(self), local_addr=(self.host, self.requested_port)
        )
        self._transport = transport
        self._port = int(transport.get_extra_info("sockname")[1])
        return self

    def on_datagram(self, data: bytes, now: float) -> None:
        header = parse_rtp(data)
        if header is None:
            self.received.ignored += 1
            return
        if len(self.received.seq) >= MAX_RECORDED:
            self.received.unrecorded += 1
            return
        self.received.arrival.append(now)
        self.received.seq.append(header.seq)
        self.received.timestamp.append(header.timestamp)
        self.received.payload_type.append(header.payload_type)

    def start(self, remote: tuple[str, int], codec: str) -> None:
        """Send 20 ms packets of ``codec`` silence to ``remote`` until :meth:`close`."""
        if self._transport is None or self._sender is not None:
            return
        if codec not in PAYLOAD_TYPES:
            raise ValueError(f"no RTP payload type for {codec!r}")
        self.codec, self.remote = codec, remote
        self._sender = asyncio.get_running_loop().create_task(self._send_loop())

    async def _send_loop(self) -> None:
        assert self._transport is not None and self.remote is not None and self.codec
        loop = asyncio.get_running_loop()
        pt = PAYLOAD_TYPES[self.codec]
        payload = bytes([_SILENCE[pt]]) * SAMPLES_PER_PACKET
        ssrc = secrets.randbits(32)
        seq0, ts0 = secrets.randbits(16), secrets.randbits(32)
        pacer = FramePacer(PACKETS_PER_SECOND, loop.time())
        while True:
            index = pacer.emit(loop.time(), skip_backlog=False)
            if index is None:
                await asyncio.sleep(max(0.0, pacer.next_due - loop.time()))
                continue
            header = RtpHeader(pt, seq0 + index, ts0 + index * SAMPLES_PER_PACKET, ssrc, index == 0)
            with contextlib.suppress(OSError):  # ICMP unreachable from an earlier send
                self._transport.sendto(rtp_packet(header, payload), self.remote)
                self.sent += 1

    async def close(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    def report(self) -> dict[str, Any]:
        """Packets sent and received; loss and jitter of what was received (ms)."""
        got = self.received
        figures: dict[str, Any] = {
            "codec": self.codec,
            "remote_rtp": f"{self.remote[0]}:{self.remote[1]}" if self.remote else None,
            "tx_packets": self.sent,
            "rx_packets": len(got.seq),
            "rx_payload_types": sorted(set(got.payload_type)),
            "rx_not_rtp": got.ignored,
            "rx_unrecorded": got.unrecorded,
            "lost": 0,
            "loss_pct": None,
            "jitter_ms": None,
            "max_jitter_ms": None,
        }
        if got.seq:
            cols = RtpColumns.from_sequences(got.arrival, got.seq, got.timestamp, got.payload_type)
            stats = analyse_stream(cols, {0: 8000, 8: 8000})
            figures.update(
                lost=max(0, stats.lost),
                loss_pct=round(100.0 * stats.loss_fraction, 3),
                jitter_ms=round(stats.mean_jitter_ms, 3),
                max_jitter_ms=round(stats.max_jitter_ms, 3),
            )
        return figures
