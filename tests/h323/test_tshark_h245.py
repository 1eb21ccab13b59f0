"""tshark judges H.245 on its own TCP connection: the h245Address in Connect, then TCS, MSD and
OpenLogicalChannel/Ack both ways on that connection (decoded with ``-d tcp.port==N,h245``), and
the RTP streams those channels opened."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from signaling.h323 import H323Peer
from tests.h323.conftest import dial_with_media, free_port
from tests.h323.pdml import Packet, check_crossing_streams, dissect, rtp_streams

pytestmark = pytest.mark.capture


def _names(packet: Packet) -> list[str]:
    return (
        packet.choice("h245.request")
        + packet.choice("h245.response")
        + packet.choice("h245.command")
    )


@pytest.mark.parametrize("declined_by", ["caller", "peer"])
def test_separate_h245_connection_dissects_as_sent(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]], declined_by: str
) -> None:
    call_port, h245_port = free_port(), free_port()
    our_rtp, peer_rtp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    dial_options: dict[str, Any] = {"h245_tunnelling": declined_by != "caller"}

    async def call() -> Any:
        tunnelling = declined_by != "peer"
        async with H323Peer(
            port=call_port, h245_port=h245_port, rtp_port=peer_rtp, tunnelling=tunnelling
        ) as peer:
            return await dial_with_media(
                peer, rtp_port=our_rtp, hold=1.0, h245_channels=True, **dial_options
            )

    ports = (call_port, h245_port)
    bpf = " or ".join(
        [f"tcp port {p}" for p in ports] + [f"udp port {our_rtp}", f"udp port {peer_rtp}"]
    )
    with live_capture(bpf) as pcap:
        ours, theirs = asyncio.run(asyncio.wait_for(call(), 30))
    assert ours.connected and ours.h245_separate and theirs.media is not None
    decode = ["-d", f"tcp.port=={h245_port},h245"]
    decode += ["-d", f"udp.port=={our_rtp},rtp", "-d", f"udp.port=={peer_rtp},rtp"]
    packets = dissect(tshark, pcap, "q931 or h245 or rtp or _ws.malformed", *decode)
    assert packets and [p.number for p in packets if p.malformed] == []

    # call signalling: no tunnelled H.245 at all; Connect says where the peer's H.245 listens
    signalling = [p for p in packets if p.show("q931.message_type")]
    assert not any(p.show("h225.h245Control") for p in signalling)
    connect = next(p for p in signalling if p.choice("h225.h323_message_body") == ["connect"])
    assert connect.show("h225.h245IpPort") == [str(h245_port)]
    assert connect.show("h225.h245Tunnelling") == ["0"]

    # the separate connection: both directions, each with TCS, MSD, OLC and the acks
    h245 = [p for p in packets if not p.show("q931.message_type") and _names(p)]
    to_peer = [p for p in h245 if int(p.show("tcp.dstport")[0]) == h245_port]
    from_peer = [p for p in h245 if int(p.show("tcp.srcport")[0]) == h245_port]
    for side, rtp_port in ((to_peer, our_rtp), (from_peer, peer_rtp)):
        names = [n for p in side for n in _names(p)]
        for name in (
            "terminalCapabilitySet",
            "masterSlaveDetermination",
            "terminalCapabilitySetAck",
            "masterSlaveDeterminationAck",
            "openLogicalChannel",
            "openLogicalChannelAck",
        ):
            assert names.count(name) == 1, (name, names)
        assert names[:2] == ["terminalCapabilitySet", "masterSlaveDetermination"]
        opens = [p for p in side if "openLogicalChannel" in p.choice("h245.request")]
        assert opens[0].show("h245.g711Ulaw64k") == ["20"]
        assert str(rtp_port + 1) in opens[0].show("h245.tsapIdentifier")  # RTCP one above
        acks = [p for p in side if "openLogicalChannelAck" in p.choice("h245.response")]
        assert str(rtp_port) in acks[0].show("h245.tsapIdentifier")  # where this side listens
    assert _names(to_peer[-1]) == ["endSessionCommand"]  # before Release Complete
    release = signalling[-1]
    assert release.choice("h225.h323_message_body") == ["releaseComplete"]
    assert to_peer[-1].number < release.number

    # the RTP the two channels opened: one µ-law stream each way, as many as each side sent
    sent = {our_rtp: ours.media["tx_packets"], peer_rtp: theirs.media["tx_packets"]}
    check_crossing_streams(rtp_streams(packets), sent, "0")
