"""G.711 audio over RTP for H.323 calls: packets, a paced sender and a measured receiver.

Packet building and parsing are pure functions; :class:`RtpAudio` is the I/O edge (an asyncio
UDP socket for RTP and one for RTCP on the port above) that sends 20 ms packets of silence
paced by :class:`media.pacing.FramePacer`, records every packet it receives, measured with
:mod:`media.rtpstats` (loss, RFC 3550 jitter), and runs RTCP (:mod:`signaling.h323.rtcp`):
SR/RR every ``rtcp_interval`` seconds (randomised 0.5-1.5 times, the first after half), a last
one with BYE at the end, and the far end's reports read for round-trip time and its loss view.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import struct
import time
from dataclasses import dataclass, field
from typing import Any

from media.pacing import FramePacer
from media.rtpstats import RtpColumns, analyse_stream
from signaling.h323.rtcp import AudioRtcp, is_rtcp

__all__ = ["PAYLOAD_TYPES", "RtpAudio", "RtpHeader", "parse_rtp", "rtp_packet", "split_address"]

log = logging.getLogger(__name__)

#: H.245 audio capability -> static RTP payload type (RFC 3551) and SDP-style name
PAYLOAD_TYPES = {"g711Ulaw64k": 0, "g711Alaw64k": 8}
CODEC_NAMES = {"g711Ulaw64k": "PCMU", "g711Alaw64k": "PCMA"}
_SILENCE = {0: 0xFF, 8: 0xD5}  # the G.711 code of a zero sample
SAMPLES_PER_PACKET = 160  # 20 ms at 8 kHz
PACKETS_PER_SECOND = 50
_HEADER = struct.Struct("!BBHII")
MAX_RECORDED = 360_000  # two hours at 50 packets/s; later packets are counted, not recorded
RTCP_INTERVAL = 5.0  # RFC 3550 6.2's fixed minimum
PAIR_ATTEMPTS = 20  # tries for a free RTP port whose next port is free for RTCP


def split_address(text: str) -> tuple[str, int] | None:
    """``"host:port"`` (IPv6 hosts unbracketed) as a pair; ``None`` for an empty string."""
    host, _, port = text.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else None


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


class _RtcpProtocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpAudio) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if is_rtcp(data):
            self.owner.rtcp.receive(data, time.time())
        else:
            self.owner.rtcp.bad += 1


class RtpAudio:
    """One side's audio: bind with :meth:`open`, :meth:`start` sending to the far end's RTP
    address once a channel is open, :meth:`close` at the end, then read :meth:`report`.

    RTCP uses the port above the RTP port (H.225.0's ``mediaControlChannel`` says so); when
    ``port`` is 0 a free pair is chosen; when the port above is taken, there is no RTCP."""

    def __init__(self, host: str, port: int = 0, rtcp_interval: float = RTCP_INTERVAL) -> None:
        self.host = host
        self.requested_port = port
        self.rtcp_interval = rtcp_interval
        self.codec: str | None = None
        self.remote: tuple[str, int] | None = None
        self.remote_rtcp: tuple[str, int] | None = None
        self.sent = 0
        self.received = _Received()
        self.ssrc = secrets.randbits(32)
        self.rtcp = AudioRtcp(self.ssrc, f"crcgw-{secrets.token_hex(4)}@{host}")
        self._transport: asyncio.DatagramTransport | None = None
        self._rtcp_transport: asyncio.DatagramTransport | None = None
        self._sender: asyncio.Task[None] | None = None
        self._reporter: asyncio.Task[None] | None = None
        self._port: int | None = None
        self._rtcp_bound = False

    @property
    def port(self) -> int:
        """The bound port (still known after :meth:`close`)."""
        if self._port is None:
            raise RuntimeError("the RTP socket is not open")
        return self._port

    async def open(self) -> RtpAudio:
        loop = asyncio.get_running_loop()
        attempts = PAIR_ATTEMPTS if self.requested_port == 0 else 1
        for attempt in range(attempts):
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(self.host, self.requested_port)
            )
            port = int(transport.get_extra_info("sockname")[1])
            try:
                self._rtcp_transport, _ = await loop.create_datagram_endpoint(
                    lambda: _RtcpProtocol(self), local_addr=(self.host, port + 1)
                )
                self._rtcp_bound = True
            except OSError as exc:
                if attempt + 1 < attempts:
                    transport.close()
                    continue
                log.warning("no RTCP: port %d is not free (%s)", port + 1, exc)
            self._transport, self._port = transport, port
            break
        return self

    @property
    def rtcp_port(self) -> int | None:
        """The bound RTCP port (the RTP port + 1), ``None`` without RTCP."""
        return self.port + 1 if self._rtcp_bound else None

    def on_datagram(self, data: bytes, now: float) -> None:
        header = parse_rtp(data)
        if header is None:
            self.received.ignored += 1
            return
        self.rtcp.on_rtp(header.ssrc, header.seq, header.timestamp, now)
        if len(self.received.seq) >= MAX_RECORDED:
            self.received.unrecorded += 1
            return
        self.received.arrival.append(now)
        self.received.seq.append(header.seq)
        self.received.timestamp.append(header.timestamp)
        self.received.payload_type.append(header.payload_type)

    def start(
        self, remote: tuple[str, int], codec: str, remote_rtcp: tuple[str, int] | None = None
    ) -> None:
        """Send 20 ms packets of ``codec`` silence to ``remote`` until :meth:`close`, and RTCP
        to ``remote_rtcp`` (the signalled mediaControlChannel; default the port above)."""
        if self._transport is None or self._sender is not None:
            return
        if codec not in PAYLOAD_TYPES:
            raise ValueError(f"no RTP payload type for {codec!r}")
        self.codec, self.remote = codec, remote
        self.remote_rtcp = remote_rtcp or (remote[0], remote[1] + 1)
        loop = asyncio.get_running_loop()
        self._sender = loop.create_task(self._send_loop())
        if self._rtcp_transport is not None and self.rtcp_interval > 0:
            self._reporter = loop.create_task(self._report_loop())

    async def _report_loop(self) -> None:
        delay = self.rtcp_interval / 2
        while True:
            await asyncio.sleep(delay * (0.5 + secrets.randbelow(1001) / 1000))
            self._send_rtcp()
            delay = self.rtcp_interval

    def _send_rtcp(self, bye: bool = False) -> None:
        if self._rtcp_transport is None or self.remote_rtcp is None:
            return
        with contextlib.suppress(OSError):
            self._rtcp_transport.sendto(self.rtcp.report(time.time(), bye), self.remote_rtcp)

    async def _send_loop(self) -> None:
        assert self._transport is not None and self.remote is not None and self.codec
        loop = asyncio.get_running_loop()
        pt = PAYLOAD_TYPES[self.codec]
        payload = bytes([_SILENCE[pt]]) * SAMPLES_PER_PACKET
        ssrc = self.ssrc
        seq0, ts0 = secrets.randbits(16), secrets.randbits(32)
        pacer = FramePacer(PACKETS_PER_SECOND, loop.time())
        while True:
            index = pacer.emit(loop.time(), skip_backlog=False)
            if index is None:
                await asyncio.sleep(max(0.0, pacer.next_due - loop.time()))
                continue
            timestamp = ts0 + index * SAMPLES_PER_PACKET
            header = RtpHeader(pt, seq0 + index, timestamp, ssrc, index == 0)
            with contextlib.suppress(OSError):  # ICMP unreachable from an earlier send
                self._transport.sendto(rtp_packet(header, payload), self.remote)
                self.sent += 1
                self.rtcp.on_sent(len(payload), timestamp & 0xFFFFFFFF, time.time())

    async def close(self) -> None:
        """Stop sending; a last RTCP report with BYE when a channel ran; close both sockets."""
        try:
            for task in (self._sender, self._reporter):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            if self._sender is not None:
                self._send_rtcp(bye=True)
        finally:
            self._sender = self._reporter = None
            for transport in (self._transport, self._rtcp_transport):
                if transport is not None:
                    transport.close()
            self._transport = self._rtcp_transport = None

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
            "rtcp": None,
        }
        if self._rtcp_bound:
            remote = self.remote_rtcp
            figures["rtcp"] = self.rtcp.summary() | {
                "local": f"{self.host}:{self.port + 1}",
                "remote": f"{remote[0]}:{remote[1]}" if remote else None,
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
