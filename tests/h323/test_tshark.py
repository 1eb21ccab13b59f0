"""Wireshark's dissectors as the independent judge of what crcgw puts on the wire and reads."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest

from signaling.h323 import H323Peer, dial, tpkt
from signaling.h323.call import OutgoingCall
from signaling.h323.errors import RasRejected
from signaling.h323.gatekeeper import GatekeeperServer
from signaling.h323.h225 import Alias, CallMessage
from signaling.h323.h245 import summarize
from signaling.h323.q931 import MessageType, Q931Message
from signaling.h323.ras import RasEndpoint, RasMessage, RegistrationState
from signaling.h323.ras_client import RasClient
from signaling.h323.transport import open_channel
from tests.h323.conftest import dial_with_media, free_port
from tests.h323.pdml import Packet, check_crossing_streams, dissect, payloads, rtp_streams

pytestmark = pytest.mark.capture

# Q.931 over TPKT is found by tshark's TCP heuristic on any port (tshark 4.0 offers no
# ``-d tcp.port==N,q931``); RAS on a non-standard UDP port needs ``-d udp.port==N,h225``.

MEETING = "123456789#97531#308"
H225_V4 = "0.0.8.2250.0.4"


def _call_ref(packet: Packet) -> tuple[int, bool]:
    value = int(packet.show("q931.call_ref")[0].replace(":", ""), 16) & 0x7FFF
    return value, packet.show("q931.call_ref_flag")[0] == "1"


def _h245_names(packet: Packet) -> list[str]:
    return (
        packet.choice("h245.request")
        + packet.choice("h245.response")
        + packet.choice("h245.command")
    )


async def _traffic(call_port: int, busy_port: int, ras_port: int) -> dict[str, Any]:
    async with H323Peer(port=call_port) as peer, H323Peer(port=busy_port, answer="busy") as busy:
        connected = await dial(f"127.0.0.1:{call_port}##{MEETING}", timeout=5, fast_start=True)
        refused = await dial(f"127.0.0.1:{busy_port}##{MEETING}", timeout=5)
        await asyncio.sleep(0.1)
        peer_calls = list(peer.calls) + list(busy.calls)
    async with GatekeeperServer(port=ras_port) as gk:
        async with RasClient(
            "127.0.0.1", [Alias.h323_id("room1")], gatekeeper_port=ras_port, ttl=60
        ) as client:
            await client.register()
            guid, conf = os.urandom(16), os.urandom(16)
            await client.admit(
                destination=[Alias.digits("123")],
                destination_address=("127.0.0.1", call_port),
                call_reference=5,
                conference_id=conf,
                call_identifier=guid,
            )
            await client.disengage(call_reference=5, conference_id=conf, call_identifier=guid)
    return {
        "connected": connected,
        "refused": refused,
        "peer": peer_calls,
        "gatekeeper": gk.gatekeeper,
    }


def test_everything_crcgw_sends_dissects_cleanly_and_as_sent(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    call_port, busy_port, ras_port = free_port(), free_port(), free_port(2)
    bpf = f"tcp port {call_port} or tcp port {busy_port} or udp port {ras_port}"
    with live_capture(bpf) as pcap:
        seen = asyncio.run(asyncio.wait_for(_traffic(call_port, busy_port, ras_port), 30))
    packets = dissect(
        tshark, pcap, "q931 or h225 or h245 or _ws.malformed", "-d", f"udp.port=={ras_port},h225"
    )
    assert packets, "tshark dissected nothing"
    assert [p.number for p in packets if p.malformed] == []

    # -- call signalling: both calls, message by message, in order ------------------------------
    for result, port in ((seen["connected"], call_port), (seen["refused"], busy_port)):
        frames = [
            p
            for p in packets
            if p.show("q931.message_type")
            and port in {int(x) for x in p.show("tcp.srcport") + p.show("tcp.dstport")}
        ]
        ours = [(e.direction, e.message) for e in result.events if e.direction != "info"]
        theirs = [
            (
                "received" if int(p.show("tcp.srcport")[0]) == port else "sent",
                CallMessage.parse(
                    b"\x08\x02\x00\x00" + bytes([int(p.show("q931.message_type")[0], 16)])
                ).name,
            )
            for p in frames
        ]
        for direction in ("sent", "received"):  # each direction in order (they interleave)
            assert [m for m in theirs if m[0] == direction] == [
                m for m in ours if m[0] == direction
            ]
        for packet, (direction, _) in zip(frames, theirs, strict=True):
            assert _call_ref(packet) == (result.call_reference, direction == "received")
            empty = packet.choice("h225.h323_message_body") == ["empty"]  # tunnel only
            assert packet.show("h225.protocolIdentifier") == ([] if empty else [H225_V4])
        setup = frames[0]
        assert setup.show("h225.dialledDigits") == [MEETING]
        assert setup.show("h225.h323_ID") == ["crcgw", MEETING]
        assert setup.show("q931.called_party_number.digits") == [MEETING]
        assert setup.show("h225.h245Tunnelling") == ["1"]
        release = frames[-1]
        expected_cause = 16 if result.connected else 17
        assert release.show("q931.cause_value") == [str(expected_cause)]
        assert release.choice("h225.h323_message_body") == ["releaseComplete"]
    connected = [
        p
        for p in packets
        if call_port in {int(x) for x in p.show("tcp.srcport") + p.show("tcp.dstport")}
    ]
    assert connected[0].show("h225.fastStart") == ["4"]
    assert [_h245_names(p) for p in connected if p.show("h225.h245Control")] == [
        ["terminalCapabilitySet", "masterSlaveDetermination"],
        [
            "terminalCapabilitySet",
            "masterSlaveDetermination",
            "terminalCapabilitySetAck",
            "masterSlaveDeterminationAck",
        ],
        ["terminalCapabilitySetAck", "masterSlaveDeterminationAck"],
        ["endSessionCommand"],
    ]
    assert sorted(
        p.choice("h225.h323_message_body")[0] for p in connected if p.show("q931.message_type")
    ) == ["alerting", "callProceeding", "connect", "empty", "releaseComplete", "setup"]
    # the fastStart proposals: transmit and receive for each codec, 20 ms
    assert connected[0].show("h245.g711Ulaw64k") == ["20", "20"]
    assert connected[0].show("h245.g711Alaw64k") == ["20", "20"]
    # the peer's fastStart answer in Call Proceeding: G.711 µ-law, its RTP port (RTCP one above)
    proceeding = connected[1]
    assert proceeding.choice("h225.h323_message_body") == ["callProceeding"]
    assert proceeding.show("h225.fastStart") == ["2"]
    # two fastStart channels, then the capability table of the tunnelled TCS
    assert proceeding.show("h245.g711Ulaw64k") == ["20", "20", "20"]
    media = seen["connected"].media
    peer_rtp = int(media["remote_rtp"].rsplit(":", 1)[1])
    assert {str(peer_rtp), str(peer_rtp + 1)} <= set(proceeding.show("h245.tsapIdentifier"))
    assert media["codec"] == "g711Ulaw64k" and media["remote_rtp"].startswith("127.0.0.1:")

    # -- RAS: every request and answer, sequence numbers echoed ----------------------------------
    ras = [p for p in packets if p.show("h225.RasMessage")]
    names = [p.choice("h225.RasMessage")[0] for p in ras]
    assert names == [
        "gatekeeperRequest",
        "gatekeeperConfirm",
        "registrationRequest",
        "registrationConfirm",
        "admissionRequest",
        "admissionConfirm",
        "disengageRequest",
        "disengageConfirm",
        "unregistrationRequest",
        "unregistrationConfirm",
    ]
    assert [n for n in names if n.endswith("Request")] == seen["gatekeeper"].received
    assert [p.show("h225.requestSeqNum")[0] for p in ras] == [str(n // 2 + 1) for n in range(10)]
    assert ras[0].show("h225.h323_ID") == ["room1"] and ras[0].show("h225.protocolIdentifier") == [
        H225_V4
    ]
    assert ras[2].show("h225.timeToLive") == ["60"] and ras[3].show("h225.timeToLive") == ["60"]
    assert ras[3].show("h225.endpointIdentifier") == ras[8].show("h225.endpointIdentifier")


def test_the_judge_flags_a_broken_message(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    """The check above can fail: a user-user IE with undecodable PER is flagged by tshark."""
    broken = tpkt.encode(bytes(Q931Message(MessageType.ALERTING, 7, True, user_user=b"\x20\xff")))

    async def serve_once(port: int) -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(broken)
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", port)
        async with server:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await reader.read()
            writer.close()
            await writer.wait_closed()

    port = free_port()
    with live_capture(f"tcp port {port}") as pcap:
        asyncio.run(asyncio.wait_for(serve_once(port), 10))
    packets = dissect(tshark, pcap, "q931")
    assert len(packets) == 1 and packets[0].malformed


# -- a real H.323 call recorded by others ---------------------------------------------------------


def _our_messages(payload: bytes) -> list[bytes]:
    decoder = tpkt.TpktDecoder()
    messages = decoder.feed(payload)
    decoder.close()
    return messages


def test_reference_call_decodes_like_wireshark(tshark: str, rtp_example: Path) -> None:
    packets = {p.number: p for p in dissect(tshark, rtp_example, "q931 or h245")}
    frames = payloads(tshark, rtp_example, "q931 or h245")
    assert len(packets) == 15 and frames.keys() == packets.keys()
    h245_seen: list[str] = []
    for number, packet in packets.items():
        messages = _our_messages(frames[number])
        if packet.show("q931.message_type"):
            (payload,) = messages
            message = CallMessage.parse(payload)
            assert message.q931.message_type == int(packet.show("q931.message_type")[0], 16)
            assert (message.q931.call_reference, message.q931.from_destination) == _call_ref(packet)
            assert message.uu is not None
            assert [message.uu.body] == packet.choice("h225.h323_message_body")
            assert (
                ".".join(map(str, message.uu.protocol_identifier or ()))
                == packet.show("h225.protocolIdentifier")[0]
            )
            assert [str(int(message.uu.h245_tunnelling or 0))] == packet.show("h225.h245Tunnelling")
            if message.q931.display is not None:
                assert [message.q931.display] == packet.show("q931.display_information")
            for key, field in (("conferenceID", "h225.conferenceID"), ("guid", "h225.guid")):
                wanted = [s.replace("-", "") for s in packet.show(field)]
                value = (
                    message.uu.conference_id
                    if key == "conferenceID"
                    else message.uu.call_identifier
                )
                assert (value.hex() if value else None) == (wanted[0] if wanted else None)
            aliases = [a.value for a in message.uu.aliases("sourceAddress")]
            assert aliases == packet.show("h225.h323_ID")
            if message.q931.bearer_capability is not None:
                bearer = message.q931.bearer_capability
                assert (
                    f"0x{bearer.transfer_capability:02x}"
                    == packet.show("q931.information_transfer_capability")[0]
                )
                assert (
                    f"0x{bearer.transfer_rate:02x}"
                    == packet.show("q931.information_transfer_rate")[0]
                )
        else:
            summaries = [summarize(m) for m in messages]
            assert [s.name for s in summaries] == _h245_names(packet)
            h245_seen += [s.name for s in summaries]
            for summary in summaries:
                _compare_h245(summary.name, summary.body, packet)
    assert h245_seen.count("openLogicalChannelAck") == 2


def _compare_h245(name: str, body: dict[str, Any], packet: Packet) -> None:
    if name == "terminalCapabilitySet":
        codecs = [e["capability"][1] for e in body["capabilityTable"]]
        assert [str(frames) for _, frames in codecs] == packet.show("h245.g711Alaw64k")
        assert [str(body["sequenceNumber"])] == packet.show("h245.sequenceNumber")
    elif name == "masterSlaveDetermination":
        assert [str(body["terminalType"])] == packet.show("h245.terminalType")
        assert [str(body["statusDeterminationNumber"])] == packet.show(
            "h245.statusDeterminationNumber"
        )
    elif name == "masterSlaveDeterminationAck":
        assert [body["decision"][0]] == packet.choice("h245.decision")
    elif name in ("openLogicalChannel", "openLogicalChannelAck"):
        assert [str(body["forwardLogicalChannelNumber"])] == packet.show(
            "h245.forwardLogicalChannelNumber"
        )
        ports = _tsaps(body)
        assert ports == [int(p) for p in packet.show("h245.tsapIdentifier")]


def _tsaps(value: Any) -> list[int]:
    if isinstance(value, dict):
        found = [int(value["tsapIdentifier"])] if "tsapIdentifier" in value else []
        return found + [p for v in value.values() for p in _tsaps(v)]
    if isinstance(value, (tuple, list)):
        return [p for v in value for p in _tsaps(v)]
    return []


def test_forwarding_dissects_as_sent(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    forward_port, final_port = free_port(), free_port()

    async def scenario() -> Any:
        async with (
            H323Peer(port=final_port),
            H323Peer(port=forward_port, answer="forward", forward_to=("127.0.0.1", final_port)),
        ):
            return await dial(f"127.0.0.1:{forward_port}##123456789", timeout=5)

    with live_capture(f"tcp port {forward_port}") as pcap:
        result = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert result.connected
    packets = dissect(tshark, pcap, "q931 or _ws.malformed")
    assert [p.number for p in packets if p.malformed] == []
    assert [p.choice("h225.h323_message_body")[0] for p in packets] == [
        "setup",
        "facility",
        "releaseComplete",
    ]
    facility, release = packets[1], packets[2]
    assert facility.show("h225.alternativeAddress") == ["0"]  # ipAddress
    assert facility.show("h225.ipV4_port") == [str(final_port)]
    assert "callForwarded" in " ".join(facility.shownames.get("h225.reason", []))
    assert release.choice("h225.reason") == ["facilityCallDeflection"]
    assert release.show("q931.cause_value") == ["16"]


def test_reference_ras_decodes_like_wireshark(tshark: str, ras_background: Path) -> None:
    packets = {p.number: p for p in dissect(tshark, ras_background, "h225")}
    datagrams = payloads(tshark, ras_background, "h225", "udp")
    assert len(packets) == 24 and datagrams.keys() == packets.keys()
    names: set[str] = set()
    for number, packet in packets.items():
        message = RasMessage.decode(datagrams[number])
        names.add(message.name)
        body = message.body
        assert [message.name] == packet.choice("h225.RasMessage")
        assert [str(message.sequence_number)] == packet.show("h225.requestSeqNum")
        if "protocolIdentifier" in body:
            assert [".".join(map(str, body["protocolIdentifier"]))] == packet.show(
                "h225.protocolIdentifier"
            )
        if message.reject_reason is not None:
            assert [message.reject_reason] == packet.choice("h225.rejectReason")
        for key, field in (
            ("timeToLive", "h225.timeToLive"),
            ("endpointIdentifier", "h225.endpointIdentifier"),
            ("gatekeeperIdentifier", "h225.gatekeeperIdentifier"),
        ):
            assert ([str(body[key])] if key in body else []) == packet.show(field)
        if "keepAlive" in body:
            assert [str(int(body["keepAlive"]))] == packet.show("h225.keepAlive")
        aliases = [a for k in ("terminalAlias", "endpointAlias") for a in body.get(k, ())]
        assert [v for kind, v in aliases if kind == "h323-ID"] == packet.show("h225.h323_ID")
        assert [v for kind, v in aliases if kind == "dialledDigits"] == packet.show(
            "h225.dialledDigits"
        )
    assert {"gatekeeperRequest", "registrationReject", "registrationConfirm"} <= names


async def _status_and_rejections(call_port: int, ras_port: int) -> None:
    async with H323Peer(port=call_port):
        channel = await open_channel("127.0.0.1", call_port, 5)
        caller = OutgoingCall(
            77,
            bytes(16),
            bytes(range(16)),
            False,
            None,
            destination=[Alias.digits("123456789")],
            source=[Alias.h323_id("crcgw")],
        )
        await channel.send(caller.setup())
        for _ in range(3):  # Call Proceeding, Alerting, Connect (no tunnel: connects at once)
            await channel.receive(5)
        await channel.send(CallMessage(Q931Message(MessageType.STATUS_ENQUIRY, 77), None))
        status = await channel.receive(5)
        assert status.name == "Status"
        await channel.send(caller.release())
        await channel.close()
    async with GatekeeperServer(port=ras_port, reject_registration="duplicateAlias") as gk:
        async with RasClient(
            "127.0.0.1", [Alias.h323_id("room1")], gatekeeper_port=ras_port, discover=False
        ) as client:
            with pytest.raises(RasRejected):
                await client.register()
        arq = RasEndpoint([Alias.h323_id("x")], ("127.0.0.1", 1), ("127.0.0.1", 1))
        arq.state, arq.endpoint_id = RegistrationState.REGISTERED, "nobody"  # pretend: ARJ
        request = arq.admit(
            0.0,
            destination=[],
            destination_address=("127.0.0.1", 1),
            call_reference=1,
            conference_id=bytes(16),
            call_identifier=bytes(16),
        )
        assert RasMessage.decode(gk.gatekeeper.handle(request[0], 0.0) or b"").name == (
            "admissionReject"
        )
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, remote_addr=("127.0.0.1", ras_port)
        )
        transport.sendto(request[0])  # the same ARQ on the wire, answered with ARJ
        await asyncio.sleep(0.2)
        transport.close()


def test_status_and_rejections_dissect_as_sent(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    call_port, ras_port = free_port(), free_port(2)
    with live_capture(f"tcp port {call_port} or udp port {ras_port}") as pcap:
        asyncio.run(asyncio.wait_for(_status_and_rejections(call_port, ras_port), 30))
    packets = dissect(
        tshark, pcap, "q931 or h225 or _ws.malformed", "-d", f"udp.port=={ras_port},h225"
    )
    assert [p.number for p in packets if p.malformed] == []
    bodies = [p.choice("h225.h323_message_body") for p in packets if p.show("q931.message_type")]
    assert bodies == [
        ["setup"],
        ["callProceeding"],
        ["alerting"],
        ["connect"],
        [],
        ["status"],
        ["releaseComplete"],
    ]
    (status,) = [p for p in packets if p.choice("h225.h323_message_body") == ["status"]]
    assert status.show("q931.cause_value") == ["30"]
    ras = [
        (p.choice("h225.RasMessage")[0], p.choice("h225.rejectReason"))
        for p in packets
        if p.show("h225.RasMessage")
    ]
    assert ras == [
        ("registrationRequest", []),
        ("registrationReject", ["duplicateAlias"]),
        ("admissionRequest", []),
        ("admissionReject", ["callerNotRegistered"]),
    ]
    (rrj,) = [p for p in packets if p.choice("h225.RasMessage") == ["registrationReject"]]
    assert rrj.show("h225.h323_ID") == ["room1"]  # the duplicate alias, as sent


async def _audio_call(
    call_port: int, our_rtp: int, peer_rtp: int, **options: Any
) -> tuple[Any, Any]:
    async with H323Peer(port=call_port, rtp_port=peer_rtp) as peer:
        return await dial_with_media(peer, rtp_port=our_rtp, hold=1.0, **options)


def _captured_audio_call(
    tshark: str,
    live_capture: Callable[[str], AbstractContextManager[Path]],
    display_filter: str,
    **options: Any,
) -> tuple[Any, Any, list[Packet], int, int]:
    """A 1 s call with audio captured on loopback; both sides' records, the dissected packets
    (RTP decoded on both RTP ports, none malformed), our RTP port and the peer's."""
    call_port = free_port()
    our_rtp, peer_rtp = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
    bpf = f"tcp port {call_port} or udp port {our_rtp} or udp port {peer_rtp}"
    with live_capture(bpf) as pcap:
        call = _audio_call(call_port, our_rtp, peer_rtp, **options)
        ours, theirs = asyncio.run(asyncio.wait_for(call, 30))
    assert ours.connected and ours.media is not None and theirs.media is not None
    decode = ["-d", f"udp.port=={our_rtp},rtp", "-d", f"udp.port=={peer_rtp},rtp"]
    packets = dissect(tshark, pcap, f"{display_filter} or rtp or _ws.malformed", *decode)
    assert [p.number for p in packets if p.malformed] == []
    return ours, theirs, packets, our_rtp, peer_rtp


def test_fast_start_channels_and_rtp_both_ways_dissect_as_opened(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    ours, theirs, packets, our_rtp, peer_rtp = _captured_audio_call(
        tshark, live_capture, "h225", fast_start=True
    )

    # the Setup's fastStart: per codec a channel we transmit on and one we receive on at our_rtp
    setup = next(p for p in packets if p.choice("h225.h323_message_body") == ["setup"])
    assert setup.show("h225.fastStart") == ["4"]
    assert setup.show("h245.forwardLogicalChannelNumber") == ["1", "2", "3", "4"]
    assert setup.show("h245.g711Ulaw64k") == ["20", "20"]
    assert setup.show("h245.g711Alaw64k") == ["20", "20"]
    assert set(setup.show("h245.tsapIdentifier")) == {str(our_rtp), str(our_rtp + 1)}
    # the answer opens µ-law both ways: the peer receives at peer_rtp, sends to our_rtp
    answer = next(p for p in packets if p.choice("h225.h323_message_body") == ["callProceeding"])
    assert answer.show("h225.fastStart") == ["2"]
    assert answer.show("h245.forwardLogicalChannelNumber")[:2] == ["1", "2"]
    # two µ-law channels, then the tunnelled TCS's table (one entry per codec)
    assert answer.show("h245.g711Ulaw64k") == ["20", "20", "20"]
    assert answer.show("h245.g711Alaw64k") == ["20"]
    tsaps = answer.show("h245.tsapIdentifier")
    assert str(peer_rtp) in tsaps and str(our_rtp) in tsaps

    # RTP: exactly two streams, one each way between the opened ports, payload type 0 (PCMU)
    streams = rtp_streams(packets)
    assert sorted((src, dst) for _, src, dst in streams) == sorted(
        [(our_rtp, peer_rtp), (peer_rtp, our_rtp)]
    )
    for (_, src, _), stream in streams.items():
        assert {p.show("rtp.p_type")[0] for p in stream} == {"0"}
        assert len(stream) >= 10  # a 1 s call at 50 packets/s, however loaded the machine
        sent = ours.media if src == our_rtp else theirs.media
        assert len(stream) == sent["tx_packets"]  # every packet sent was on the wire
        assert all(len(p.show("rtp.payload")[0].replace(":", "")) == 320 for p in stream[:3])
    # and each side counted what the other sent (loopback loses nothing; the last packets
    # may cross the hang-up and find the socket closed)
    for receiver, sender in ((ours.media, theirs.media), (theirs.media, ours.media)):
        assert sender["tx_packets"] - 3 <= receiver["rx_packets"] <= sender["tx_packets"]


def test_open_logical_channels_in_the_tunnel_dissect_as_opened(
    tshark: str, live_capture: Callable[[str], AbstractContextManager[Path]]
) -> None:
    ours, theirs, packets, our_rtp, peer_rtp = _captured_audio_call(
        tshark, live_capture, "h245", h245_channels=True
    )
    assert ours.media["opened_by"] == "OpenLogicalChannel"
    call_port = int(ours.remote.rsplit(":", 1)[1])
    tunnelled = [p for p in packets if p.show("q931.message_type")]
    to_peer = [p for p in tunnelled if int(p.show("tcp.dstport")[0]) == call_port]
    from_peer = [p for p in tunnelled if int(p.show("tcp.srcport")[0]) == call_port]
    # each side opens its transmit channel (µ-law, 20 ms, RTCP one above its RTP port) ...
    for side, rtp_port in ((to_peer, our_rtp), (from_peer, peer_rtp)):
        opens = [p for p in side if "openLogicalChannel" in p.choice("h245.request")]
        assert len(opens) == 1
        assert opens[0].show("h245.forwardLogicalChannelNumber")[0] == "1"
        assert opens[0].show("h245.g711Ulaw64k") == ["20"]
        assert str(rtp_port + 1) in opens[0].show("h245.tsapIdentifier")
    # ... and the other acks it with the RTP address it receives on
    for side, rtp_port in ((from_peer, peer_rtp), (to_peer, our_rtp)):
        acks = [p for p in side if "openLogicalChannelAck" in p.choice("h245.response")]
        assert len(acks) == 1 and str(rtp_port) in acks[0].show("h245.tsapIdentifier")
    sent = {our_rtp: ours.media["tx_packets"], peer_rtp: theirs.media["tx_packets"]}
    check_crossing_streams(rtp_streams(packets), sent, "0")
