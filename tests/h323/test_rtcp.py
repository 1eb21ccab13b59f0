"""RTCP for H.323 audio: reception statistics and SR/RR exchange sans I/O (explicit clocks), then
RTCP both ways between crcgw's dialler and the project's peer on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from aiortc.rtp import RtcpByePacket, RtcpPacket, RtcpRrPacket, RtcpSdesPacket, RtcpSrPacket

from signaling.h323 import H323Peer
from signaling.h323.rtcp import MAX_SOURCES, AudioRtcp, ReceptionStats, is_rtcp
from tests.h323.conftest import dial_with_media, free_port
from tests.h323.pdml import dissect

T0 = 1_800_000_000.0  # a wall-clock time (2027)


def feed(stats: ReceptionStats, seqs: list[int], start: float = 0.0) -> None:
    for i, seq in enumerate(seqs):
        stats.on_packet(seq & 0xFFFF, seq * 160, start + i * 0.020)


def test_loss_fraction_and_wrap() -> None:
    stats = ReceptionStats(1, 8000)
    feed(stats, [65530 + i for i in range(12) if i not in (3, 4)])  # wraps; two lost
    assert stats.extended_max == 65536 + 5 and stats.expected == 12 and stats.lost == 2
    block = stats.block(0, 0)
    assert block.fraction_lost == (2 << 8) // 12 and block.packets_lost == 2
    assert block.highest_seq == 65541
    feed(stats, [65542, 65543, 65544])  # nothing lost in this interval
    assert stats.block(0, 0).fraction_lost == 0 and stats.lost == 2


def test_jitter_follows_rfc3550() -> None:
    steady, late = ReceptionStats(1, 8000), ReceptionStats(2, 8000)
    for i in range(50):
        steady.on_packet(i, i * 160, i * 0.020)
        late.on_packet(i, i * 160, i * 0.020 + (0.010 if i % 2 else 0.0))
    assert steady.counters.jitter == pytest.approx(0.0, abs=1e-6)
    # alternating 10 ms (80 units) swings: J converges towards 80
    assert 60 < late.counters.jitter <= 80


def test_duplicates_and_reordering_do_not_count_as_loss() -> None:
    stats = ReceptionStats(1, 8000)
    feed(stats, [1, 2, 4, 3, 5, 5])
    assert stats.lost <= 0 and stats.extended_max == 5


def test_sender_and_receiver_reports_give_rtt_and_the_far_view() -> None:
    """A sends SR; B answers with an RR quoting it 0.25 s later; A computes RTT = 0.1 s when
    the RR arrives 0.35 s after the SR (the 0.25 s hold time is subtracted)."""
    a, b = AudioRtcp(0xA, "a@test"), AudioRtcp(0xB, "b@test")
    for i in range(100):
        a.on_sent(160, i * 160, T0 - 2 + i * 0.02)
        b.on_rtp(0xA, i, i * 160, i * 0.02)
    b.on_rtp(0xA, 110, 110 * 160, 2.2)  # ten packets lost in between
    sr = a.report(T0)
    first = RtcpPacket.parse(sr)
    assert isinstance(first[0], RtcpSrPacket) and isinstance(first[1], RtcpSdesPacket)
    assert first[0].sender_info.packet_count == 100 and first[0].sender_info.octet_count == 16000
    b.receive(sr, T0 + 0.05)
    rr = b.report(T0 + 0.30)
    parsed = RtcpPacket.parse(rr)
    assert isinstance(parsed[0], RtcpRrPacket)  # B sent nothing: a receiver report
    (block,) = parsed[0].reports
    assert block.ssrc == 0xA and block.packets_lost == 10 and block.dlsr == 0.25 * 65536
    a.receive(rr, T0 + 0.35)
    assert a.rtt_ms == [pytest.approx(100.0, abs=0.1)]
    assert a.far_view is not None and a.far_view.cumulative_lost == 10
    assert a.far_view.fraction_lost_pct == pytest.approx(100 * ((10 << 8) // 111) / 256, abs=0.01)
    summary = a.summary()
    assert summary["rtt_ms"] == pytest.approx(100.0, abs=0.1) and summary["received"] == 1


def test_bye_bad_packets_and_unknown_sources() -> None:
    a = AudioRtcp(0xA, "a@test")
    last = RtcpPacket.parse(a.report(T0, bye=True))
    assert isinstance(last[0], RtcpRrPacket) and isinstance(last[-1], RtcpByePacket)
    b = AudioRtcp(0xB, "b@test")
    b.receive(a.report(T0, bye=True), T0)
    assert b.byes_received == 1 and b.far_view is None and b.rtt_ms == []
    for garbage in (b"", b"\x80\xc8\x00\x10" + bytes(4), b"\x00" * 12):
        b.receive(garbage, T0)
    assert b.bad == 3 and b.reports_received == 1
    for ssrc in range(MAX_SOURCES + 3):  # a spray of sources is bounded
        b.on_rtp(ssrc, 1, 160, 0.0)
    assert len(b.sources) == MAX_SOURCES
    assert is_rtcp(a.report(T0)) and not is_rtcp(bytes([0x80, 0]) + bytes(10))


def test_rtcp_flows_both_ways_between_dialler_and_peer() -> None:
    async def scenario() -> Any:
        async with H323Peer(rtcp_interval=0.2) as peer:
            return await dial_with_media(peer, fast_start=True, hold=2.0, rtcp_interval=0.2)

    result, call = asyncio.run(asyncio.wait_for(scenario(), 30))
    ours, theirs = result.media["rtcp"], call.media["rtcp"]
    # each side sent several reports (and a last one with BYE); each read the other's
    assert ours["sent"] >= 3 and theirs["sent"] >= 3
    assert ours["received"] >= 2 and theirs["received"] >= 2
    assert ours["bad"] == theirs["bad"] == 0
    # the far end's view of our stream: it got our packets, lost none on loopback
    far = ours["far_end"]
    assert far is not None and far["cumulative_lost"] == 0 and far["fraction_lost_pct"] == 0
    # a round trip on loopback: positive, and far below a second even on a loaded machine
    assert ours["rtt_ms"] is not None and 0 <= ours["rtt_ms"] < 1000
    assert theirs["rtt_ms"] is not None
    # the RTCP addresses came from the fastStart channels: the RTP port + 1 on each side
    assert ours["remote"] == theirs["local"] and theirs["remote"] == ours["local"]
    assert ours["local"] == result.media["local_rtp"].rsplit(":", 1)[0] + ":" + str(
        int(result.media["local_rtp"].rsplit(":", 1)[1]) + 1
    )


@pytest.mark.capture
def test_tshark_sees_well_formed_rtcp_both_ways(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    call_port = free_port()
    our_rtp, peer_rtp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    rtcp_ports = (our_rtp + 1, peer_rtp + 1)

    async def call() -> Any:
        async with H323Peer(port=call_port, rtp_port=peer_rtp, rtcp_interval=0.3) as peer:
            return await dial_with_media(
                peer, rtp_port=our_rtp, fast_start=True, hold=1.5, rtcp_interval=0.3
            )

    with live_capture(" or ".join(f"udp port {p}" for p in rtcp_ports)) as pcap:
        ours, theirs = asyncio.run(asyncio.wait_for(call(), 30))
    sent = {our_rtp + 1: ours.media["rtcp"]["sent"], peer_rtp + 1: theirs.media["rtcp"]["sent"]}
    decode = [a for p in rtcp_ports for a in ("-d", f"udp.port=={p},rtcp")]
    decode += [
        "-o",
        "rtcp.show_roundtrip_calculation:TRUE",
        "-o",
        "rtcp.roundtrip_min_threshhold:0",
    ]
    packets = dissect(tshark, pcap, "rtcp or _ws.malformed", *decode)
    assert packets and [p.number for p in packets if p.malformed] == []
    for port, count in sent.items():
        mine = [p for p in packets if int(p.show("udp.srcport")[0]) == port]
        assert len(mine) == count >= 3  # every report we counted, each one compound packet
        for packet in mine:
            types = packet.show("rtcp.pt")
            assert types[0] in ("200", "201") and "202" in types  # SR/RR first, then SDES
            assert packet.show("rtcp.version") == ["2"] * len(types)
        assert "203" in mine[-1].show("rtcp.pt")  # BYE at the end
        # the report blocks quote the other side's SSRC and see no loss on loopback
        blocks = [p for p in mine if p.show("rtcp.ssrc.cum_nr")]
        assert blocks and all(p.show("rtcp.ssrc.cum_nr") == ["0"] for p in blocks)
    srs = [p for p in packets if "200" in p.show("rtcp.pt")]
    assert srs and all(int(p.show("rtcp.sender.packetcount")[0]) > 0 for p in srs)
    # Wireshark's own round trip from LSR/DLSR (ms) agrees that it is short
    delays = [int(d) for p in packets for d in p.show("rtcp.roundtrip-delay")]
    assert delays and all(0 <= d < 1000 for d in delays)


def test_garbage_on_the_rtcp_port_is_counted_and_survived() -> None:
    rtp_port = free_port(socket.SOCK_DGRAM)
    junk = [b"", b"\x00" * 40, bytes([0x80, 200, 0, 50]) + bytes(8), bytes([0x80, 0]) + bytes(20)]

    async def scenario() -> Any:
        async with H323Peer(rtcp_interval=0.2) as peer:
            call = asyncio.create_task(
                dial_with_media(
                    peer, fast_start=True, rtp_port=rtp_port, hold=1.5, rtcp_interval=0.2
                )
            )
            await asyncio.sleep(0.3)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for i in range(400):
                    sock.sendto(junk[i % len(junk)], ("127.0.0.1", rtp_port + 1))
                    if i % 50 == 0:
                        await asyncio.sleep(0.01)
            return await call

    result, _ = asyncio.run(asyncio.wait_for(scenario(), 30))
    rtcp = result.media["rtcp"]
    assert result.connected and result.error is None
    assert rtcp["bad"] >= 100  # most of the 400 (loopback loses none, but be lenient)
    assert rtcp["received"] >= 2 and rtcp["far_end"] is not None  # the real reports still count
