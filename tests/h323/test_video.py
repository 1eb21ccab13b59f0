"""H.264 video in H.323: the H.241 capability and the video channels sans I/O, then video both
ways between crcgw's dialler and the project's peer (tunnelled and separate H.245), and tshark
dissecting the audio and video OLCs and counting the RTP streams with their payload types."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from signaling.h323 import H323Peer, per
from signaling.h323.channels import LogicalChannels
from signaling.h323.h245 import G711_CODECS, H245Session, summarize, terminal_capability_set
from signaling.h323.video import (
    H264_OID,
    PAYLOAD_TYPE,
    H264Capability,
    VideoChannels,
    parse_h264,
    remote_h264,
)
from tests.h323.conftest import free_port, h245_exchange
from tests.h323.pdml import Packet, dissect, rtp_streams


def ports(packet: Packet) -> set[int]:
    names = ("udp.srcport", "udp.dstport", "tcp.srcport", "tcp.dstport")
    return {int(x) for name in names for x in packet.show(name)}


def session(number: int, rtp: int, video: bool, initiate: bool) -> H245Session:
    s = H245Session(number, channels=LogicalChannels(("127.0.0.1", rtp), G711_CODECS, initiate))
    if video:
        s.video = VideoChannels(("127.0.0.1", rtp + 100), initiate=initiate)
    return s


def test_the_h264_capability_survives_per_and_names_profile_and_level() -> None:
    cap = H264Capability(profile=64, level=43, max_kbps=768)
    tcs = terminal_capability_set(7, video=cap)
    decoded = per.decode_h245(per.encode_h245(tcs))[1][1]
    assert remote_h264(decoded) == cap
    entry = decoded["capabilityTable"][-1]["capability"]
    assert entry[0] == "receiveVideoCapability"
    assert entry[1][1]["capabilityIdentifier"] == ("standard", H264_OID)
    assert decoded["capabilityDescriptors"][0]["simultaneousCapabilities"] == [[1, 2], [3]]
    assert remote_h264(per.decode_h245(per.encode_h245(terminal_capability_set(7)))[1][1]) is None
    assert parse_h264(("h261VideoCapability", {})) is None


def test_both_sides_open_h264_and_audio_when_both_offer_it() -> None:
    caller, callee = session(1, 40000, True, True), session(2, 50000, True, False)
    names = h245_exchange(caller, callee)
    assert names.count("openLogicalChannel") == 4 and names.count("openLogicalChannelAck") == 4
    assert caller.video is not None and callee.video is not None
    assert caller.video.transmit_to == ("127.0.0.1", 50100)
    assert caller.video.transmit_rtcp == ("127.0.0.1", 50101)
    assert callee.video.transmit_to == ("127.0.0.1", 40100)
    assert callee.video.receive_payload_type == caller.video.receive_payload_type == PAYLOAD_TYPE
    # the audio channels are not disturbed by the video ones
    assert caller.channels is not None and caller.channels.transmit_to == ("127.0.0.1", 50000)
    assert callee.channels is not None and callee.channels.transmit_to == ("127.0.0.1", 40000)


def test_no_video_channel_towards_a_peer_without_h264() -> None:
    caller, callee = session(1, 40000, True, True), session(2, 50000, False, False)
    names = h245_exchange(caller, callee)
    assert names.count("openLogicalChannel") == 2  # audio both ways only
    assert caller.video is not None and not caller.video.requested
    assert caller.remote_video is None


def test_a_video_channel_to_a_side_without_video_is_rejected() -> None:
    olc = VideoChannels(("127.0.0.1", 1000)).open(H264Capability())
    callee = session(2, 50000, False, False)
    callee.start()
    replies = callee.receive(per.encode_h245(olc[0]))
    reply = summarize(replies[0])
    assert reply.name == "openLogicalChannelReject"
    assert reply.body["cause"][0] == "dataTypeNotSupported"


# -- on loopback ------------------------------------------------------------------------------


async def video_call(peer: H323Peer, **options: Any) -> tuple[Any, Any]:
    from signaling.h323 import dial

    result = await dial(
        f"127.0.0.1:{peer.port}##123456789", timeout=10, video=True, h245_channels=True, **options
    )
    for _ in range(300):
        if peer.calls and peer.calls[0].video is not None:
            break
        await asyncio.sleep(0.05)
    return result, peer.calls[0]


@pytest.mark.parametrize("tunnelling", [True, False], ids=["tunnel", "separate-h245"])
def test_h264_flows_both_ways_and_is_decoded(tunnelling: bool) -> None:
    async def scenario() -> Any:
        async with H323Peer(video=True) as peer:
            return await video_call(peer, hold=3.0, h245_tunnelling=tunnelling)

    result, call = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert result.connected and result.h245_separate is not tunnelling
    ours, theirs = result.video, call.video
    assert ours is not None and theirs is not None
    for side in (ours, theirs):
        # ~3 s at 10 fps: a loaded machine may start late, but decodes most of it
        assert side["frames_sent"] >= 5 and side["decoded_frames"] >= 5
        assert (side["width"], side["height"]) == (320, 240) and side["decode_errors"] == 0
    assert ours["remote_rtp"] == theirs["local_rtp"] and theirs["remote_rtp"] == ours["local_rtp"]
    assert ours["receive_payload_type"] == PAYLOAD_TYPE  # as the peer's OLC named it
    assert result.media is not None and result.media["rx_packets"] >= 10  # audio as well
    assert any(e.message == "video started" for e in result.events)


def test_a_peer_without_video_leaves_the_call_audio_only() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            from signaling.h323 import dial

            return await dial(
                f"127.0.0.1:{peer.port}##123456789",
                timeout=10,
                video=True,
                h245_channels=True,
                hold=0.5,
            )

    result = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert result.connected and result.media is not None
    assert result.video is not None and result.video["frames_sent"] == 0
    assert result.video["remote_rtp"] is None
    assert not any(e.message == "video started" for e in result.events)


@pytest.mark.capture
def test_tshark_sees_the_audio_and_video_channels_and_their_rtp(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    call_port = free_port()
    our_rtp, peer_rtp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)

    async def scenario() -> Any:
        async with H323Peer(port=call_port, rtp_port=peer_rtp, video=True) as peer:
            return await video_call(peer, hold=2.0, rtp_port=our_rtp)

    with live_capture(f"tcp port {call_port} or udp") as pcap:
        ours, theirs = asyncio.run(asyncio.wait_for(scenario(), 60))
    video_ports = [int(v["local_rtp"].rsplit(":", 1)[1]) for v in (ours.video, theirs.video)]
    decode = [
        arg for port in (our_rtp, peer_rtp, *video_ports) for arg in ("-d", f"udp.port=={port},rtp")
    ]
    ours_only = {our_rtp, peer_rtp, *video_ports}  # loopback carries other tests' RTP too
    everything = dissect(tshark, pcap, "h245 or rtp or _ws.malformed", *decode)
    packets = [p for p in everything if ports(p) & (ours_only | {call_port})]
    assert packets and [p.number for p in packets if p.malformed] == []
    opens = [p for p in packets if "openLogicalChannel" in p.choice("h245.request")]
    # per side one audio OLC (µ-law) and one video OLC (H.264 by its capability OID, PT 109)
    assert len(opens) == 2
    for packet in opens:
        assert packet.show("h245.g711Ulaw64k") == ["20"]
        assert packet.show("h245.standardOid") == ["0.0.8.241.0.0.1"]  # H.264 (H.241)
        assert packet.show("h245.standard") == ["41", "42"]  # profile and level
        assert packet.show("h245.dynamicRTPPayloadType") == [str(PAYLOAD_TYPE)]
    assert sum(p.choice("h245.response").count("openLogicalChannelAck") for p in packets) == 4
    # RTP: audio (PT 0) and video (PT 109) each way, between the ports the acks named
    streams = {k: v for k, v in rtp_streams(packets).items() if {k[1], k[2]} <= ours_only}
    kinds = sorted(
        (int(s[0].show("rtp.p_type")[0]), src, dst) for (_, src, dst), s in streams.items()
    )
    assert [k[0] for k in kinds] == [0, 0, PAYLOAD_TYPE, PAYLOAD_TYPE]
    assert {(src, dst) for _, src, dst in kinds[:2]} == {(our_rtp, peer_rtp), (peer_rtp, our_rtp)}
    assert {(src, dst) for _, src, dst in kinds[2:]} == {
        (video_ports[0], video_ports[1]),
        (video_ports[1], video_ports[0]),
    }
    for (_, src, _), stream in streams.items():
        types = {p.show("rtp.p_type")[0] for p in stream}
        assert len(types) == 1 and len(stream) >= 10
        if src in video_ports:  # as many video packets as the sender counted (NACKed ones
            sender = ours.video if src == video_ports[0] else theirs.video  # go out again)
            assert len(stream) == sender["packets_sent"] + sender["retransmitted"]
