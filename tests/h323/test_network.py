"""Loopback I/O: dial() against the project's own peer, hostile servers, RAS over UDP."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from signaling.h323 import H323Peer, dial, tpkt
from signaling.h323.errors import H323Timeout, RasRejected
from signaling.h323.gatekeeper import GatekeeperServer
from signaling.h323.h225 import Alias
from signaling.h323.q931 import MessageType, Q931Message
from signaling.h323.ras import RegistrationState
from signaling.h323.ras_client import RasClient
from signaling.h323.rtp import RtpHeader, parse_rtp, rtp_packet
from tests.h323.conftest import dial_with_media, free_port

MEETING = "123456789#97531#308#864202"


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))  # type: ignore[arg-type]


def test_call_to_the_peer_reaches_connect_and_releases_cleanly() -> None:
    async def scenario() -> tuple[Any, Any]:
        async with H323Peer() as peer:
            result = await dial(f"127.0.0.1:{peer.port}##{MEETING}", timeout=5, hold=0.2)
            for _ in range(100):
                if peer.calls and peer.calls[0].released_cause is not None:
                    break
                await asyncio.sleep(0.01)
            return result, peer.calls

    result, calls = run(scenario())
    assert result.connected and result.h245_ready and result.error is None
    assert [(e.direction, e.message) for e in result.events] == [
        ("info", "TCP connected"),
        ("sent", "Setup"),
        ("received", "Call Proceeding"),
        ("sent", "Facility"),
        ("received", "Alerting"),
        ("received", "Connect"),
        ("sent", "Release Complete"),
    ]
    times = [e.at for e in result.events]
    assert times == sorted(times) and times[-1] - times[-2] >= 0.19  # held 0.2 s
    (call,) = calls
    assert call.connected and call.released_cause == 16 and call.error is None
    assert call.destination == [Alias("dialledDigits", MEETING), Alias("h323-ID", MEETING)]
    assert call.called_digits == MEETING and call.h245_tunnelling and call.fast_start == 0
    assert call.received == ["Setup", "Facility", "Release Complete"]


@pytest.mark.parametrize(
    ("answer", "cause", "expected", "words"),
    [
        ("busy", None, 17, "user busy"),
        ("reject", None, 21, "call rejected"),
        ("reject", 1, 1, "unallocated (unassigned) number"),
    ],
)
def test_refused_call_reports_its_cause(
    answer: str, cause: int | None, expected: int, words: str
) -> None:
    async def scenario() -> Any:
        async with H323Peer(answer=answer, cause=cause) as peer:  # type: ignore[arg-type]
            return await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5)

    result = run(scenario())
    assert not result.connected and result.cause == expected and result.cause_text == words
    assert result.outcome.startswith(f"released by the far end: cause {expected} {words}")
    assert [e.message for e in result.events][-1] == "Release Complete"


def test_fast_start_is_offered_when_asked() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            result = await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5, fast_start=True)
            await asyncio.sleep(0.05)
            return result, peer.calls[0]

    result, call = run(scenario())
    assert result.connected and call.fast_start == 4


def test_secrets_stay_out_of_results_and_reprs() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            result = await dial(f"127.0.0.1:{peer.port}##{MEETING}", timeout=5)
            await asyncio.sleep(0.05)
            return result, peer.calls[0]

    result, call = run(scenario())
    text = json.dumps(result.as_dict()) + repr(result) + repr(call)
    assert "97531" not in text and "864202" not in text
    assert "123456789#***#308#***" in result.target


async def scripted(server_bytes: bytes, *, close: bool = True) -> tuple[asyncio.Server, int]:
    """A TCP server that answers any connection with ``server_bytes`` (maybe nothing)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(65536)
            writer.write(server_bytes)
            await writer.drain()
            if not close:
                await reader.read()  # hold the connection until the client goes
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def alerting_with(user_user: bytes) -> bytes:
    return tpkt.encode(bytes(Q931Message(MessageType.ALERTING, 1, True, user_user=user_user)))


@pytest.mark.parametrize(
    ("reply", "close", "error"),
    [
        (b"", False, "no answer within 0.4 s in state setup sent"),
        (b"\x03\x00\x00\x20\x08\x02", True, "truncated TPKT frame: header says 32 bytes, got 6"),
        (b"\x05\x00\x00\x08abcd", False, "not a TPKT frame: version 5 (expected 3)"),
        (tpkt.encode(b"\x09\x02\x00\x01\x01"), False, "not Q.931: protocol discriminator 0x09"),
        (alerting_with(b"\xff\xee"), False, "undecodable H323-UserInformation (2 bytes)"),
        (b"", True, "the far end closed the connection"),
    ],
)
def test_hostile_servers_give_clear_errors_never_hangs(
    reply: bytes, close: bool, error: str
) -> None:
    async def scenario() -> Any:
        server, port = await scripted(reply, close=close)
        async with server:
            return await dial(f"127.0.0.1:{port}##123456789", timeout=0.4)

    result = run(scenario())
    assert not result.connected and result.error is not None and error in result.error
    assert result.duration < 3


def test_refused_connection() -> None:
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(dial(f"127.0.0.1:{port}##123456789", timeout=2))
    assert result.error == f"cannot connect to 127.0.0.1:{port}: connection refused"
    assert result.events == []


def test_peer_survives_garbage_and_silence() -> None:
    async def send_raw(port: int, data: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 5)  # the peer closes
        writer.close()
        await writer.wait_closed()
        return answer

    async def scenario() -> Any:
        async with H323Peer(read_timeout=0.3) as peer:
            garbage = await send_raw(peer.port, b"\x03\x00\x00\x07\x08\x02\x00")
            silent = await send_raw(peer.port, b"")
            result = await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5)
            return garbage, silent, result, peer.calls

    garbage, silent, result, calls = run(scenario())
    assert garbage == b"" and silent == b""
    assert calls[0].error == "Q.931 message ends inside its header"
    assert calls[1].error == "no message within 0.3 s"
    assert result.connected


def with_gatekeeper(body: Callable[[int], Awaitable[Any]], **options: Any) -> Any:
    async def scenario() -> Any:
        async with GatekeeperServer(**options) as gk:
            return await body(gk.port), gk.gatekeeper

    return run(scenario())


def test_register_keep_alive_and_unregister_over_udp() -> None:
    async def body(port: int) -> Any:
        client = RasClient("127.0.0.1", [Alias.h323_id("room1")], gatekeeper_port=port, ttl=60)
        async with client:
            endpoint = await client.register()
            assert endpoint.state is RegistrationState.REGISTERED
            await client.keep_alive(1.0)  # granted ttl 1 s: refresh due at 0.75 s
            guid, conf = os.urandom(16), os.urandom(16)
            acf = await client.admit(
                destination=[Alias.digits("123")],
                destination_address=("127.0.0.1", 1720),
                call_reference=9,
                conference_id=conf,
                call_identifier=guid,
            )
            await client.disengage(call_reference=9, conference_id=conf, call_identifier=guid)
        return client, acf

    (client, acf), gatekeeper = with_gatekeeper(body, max_ttl=1)
    kinds = [e.kind for e in client.events]
    assert kinds[:3] == ["discovered", "registered", "refreshed"]
    assert kinds[-3:] == ["admitted", "disengaged", "unregistered"]
    assert acf["destCallSignalAddress"] == ("ipAddress", {"ip": b"\x7f\0\0\1", "port": 1720})
    assert gatekeeper.received[-1] == "unregistrationRequest" and gatekeeper.registrations == {}


def test_registration_rejected() -> None:
    async def body(port: int) -> Any:
        async with RasClient("127.0.0.1", [Alias.h323_id("room1")], gatekeeper_port=port) as c:
            with pytest.raises(RasRejected, match="registrationReject: invalidAlias"):
                await c.register()

    with_gatekeeper(body, reject_registration="invalidAlias")


def test_silent_gatekeeper_times_out() -> None:
    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        silent, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        port = silent.get_extra_info("sockname")[1]
        try:
            async with RasClient(
                "127.0.0.1", [Alias.h323_id("r")], gatekeeper_port=port, timeout=0.1, retries=2
            ) as client:
                started = loop.time()
                with pytest.raises(H323Timeout, match="after 3 tries"):
                    await client.register()
                assert loop.time() - started < 2
        finally:
            silent.close()

    run(scenario())


def test_gatekeeper_admitted_call() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer, GatekeeperServer() as gk:
            result = await dial(
                f"127.0.0.1:{peer.port}##123456789",
                timeout=5,
                gatekeeper="127.0.0.1",
                gatekeeper_port=gk.port,
            )
            return result, gk.gatekeeper

    result, gatekeeper = run(scenario())
    assert result.connected and result.error is None
    infos = [e.message for e in result.events if e.direction == "info"]
    assert infos == ["RAS registered", "RAS admitted", "TCP connected", "RAS disengaged"]
    assert gatekeeper.received == [
        "gatekeeperRequest",
        "registrationRequest",
        "admissionRequest",
        "disengageRequest",
        "unregistrationRequest",
    ]


def test_gatekeeper_refusal_is_reported() -> None:
    async def scenario() -> Any:
        async with GatekeeperServer(reject_registration="securityDenial") as gk:
            return await dial(
                "127.0.0.1:1720##123456789",
                timeout=2,
                gatekeeper="127.0.0.1",
                gatekeeper_port=gk.port,
            )

    result = run(scenario())
    assert not result.connected
    assert result.error == "gatekeeper: gatekeeper answered registrationReject: securityDenial"


def test_setup_timeout_bounds_a_chatty_far_end() -> None:
    status = tpkt.encode(bytes(Q931Message(MessageType.STATUS, 1, True)))

    async def chatty(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(50):
                writer.write(status)
                await writer.drain()
                await asyncio.sleep(0.05)
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def scenario() -> Any:
        server = await asyncio.start_server(chatty, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            return await dial(f"127.0.0.1:{port}##123456789", timeout=1, setup_timeout=0.4)

    result = run(scenario())
    assert result.error == "not connected within 0.4 s" and result.duration < 1.5
    assert "Status" in [e.message for e in result.events]
    assert result.events[-1].message == "Release Complete"
    assert "cause 102 recovery on timer expiry" in result.events[-1].detail


def test_peer_rings_then_clears_the_call_itself() -> None:
    async def scenario() -> Any:
        async with H323Peer(ring=0.3, hangup_after=0.2) as peer:
            return await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5, hold=10)

    result = run(scenario())
    at = {e.message: e.at for e in result.events if e.direction == "received"}
    assert at["Connect"] - at["Alerting"] >= 0.29
    assert result.connected and result.cause == 16 and result.duration < 5
    assert result.events[-1].direction == "received"
    assert result.events[-1].message == "Release Complete"
    assert result.outcome == (
        "connected (H.245 complete); cleared by the far end: cause 16 normal call clearing"
    )


def test_forwarded_call_is_followed() -> None:
    async def scenario() -> Any:
        async with H323Peer() as final:
            forwarder = H323Peer(answer="forward", forward_to=("127.0.0.1", final.port))
            async with forwarder:
                result = await dial(f"127.0.0.1:{forwarder.port}##123456789", timeout=5)
                await asyncio.sleep(0.05)
                return result, forwarder.calls, final.calls, final.port

    result, forwarded, answered, final_port = run(scenario())
    assert result.connected and result.remote == f"127.0.0.1:{final_port}"
    messages = [e.message for e in result.events]
    assert messages[:5] == ["TCP connected", "Setup", "Facility", "Release Complete", "forwarded"]
    assert forwarded[0].sent == ["Facility", "Release Complete"]
    assert answered[0].connected and answered[0].destination[0].value == "123456789"


def test_forwarding_loops_are_cut() -> None:
    async def scenario() -> Any:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        async with H323Peer(port=port, answer="forward", forward_to=("127.0.0.1", port)):
            return await dial(f"127.0.0.1:{port}##123456789", timeout=5)

    result = run(scenario())
    assert not result.connected and result.error == "forwarded more than 3 times"
    assert [e.message for e in result.events].count("forwarded") == 3


def test_fast_start_is_answered_by_the_peer_and_audio_flows_both_ways() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            return await dial_with_media(peer, fast_start=True, hold=1.0)

    result, call = run(scenario())
    assert call.fast_start_codec == "g711Ulaw64k"
    ours, theirs = result.media, call.media
    assert ours is not None and theirs is not None
    assert ours["codec"] == theirs["codec"] == "g711Ulaw64k"
    # each side sent to the address the other advertised in its fastStart channel
    assert ours["remote_rtp"] != theirs["remote_rtp"]
    assert theirs["remote_rtp"] == ours["local_rtp"]
    # ~1 s at 50 packets/s each way: a loaded machine may start late, but never sends nothing
    assert ours["tx_packets"] >= 10 and theirs["tx_packets"] >= 10
    assert ours["rx_packets"] >= 10 and theirs["rx_packets"] >= 10
    assert ours["rx_payload_types"] == theirs["rx_payload_types"] == [0]
    assert theirs["rx_packets"] <= ours["tx_packets"]
    assert ours["lost"] == 0 and ours["jitter_ms"] is not None
    assert any(e.message == "RTP started" for e in result.events)


def test_h245_open_logical_channel_in_the_tunnel_carries_audio_both_ways() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            return await dial_with_media(peer, h245_channels=True, hold=1.0)

    result, call = run(scenario())
    assert result.connected and result.h245_ready and call.fast_start == 0
    ours, theirs = result.media, call.media
    assert ours is not None and theirs is not None
    assert ours["opened_by"] == "OpenLogicalChannel" and call.h245_channel_codec == "g711Ulaw64k"
    assert theirs["remote_rtp"] == ours["local_rtp"]
    assert ours["tx_packets"] >= 10 and theirs["tx_packets"] >= 10
    assert ours["rx_packets"] >= 10 and theirs["rx_packets"] >= 10
    assert ours["rx_payload_types"] == theirs["rx_payload_types"] == [0]
    sent = [e.detail for e in result.events if e.direction == "sent"]
    received = [e.detail for e in result.events if e.direction == "received"]
    assert any("openLogicalChannel" in d for d in sent)
    assert any("openLogicalChannelAck" in d for d in received)
    assert any("openLogicalChannelAck" in d for d in sent)  # the peer's channel back


def test_a_refused_fast_start_falls_back_to_open_logical_channel() -> None:
    async def scenario() -> Any:
        async with H323Peer(fast_start=False) as peer:
            return await dial_with_media(peer, fast_start=True, h245_channels=True, hold=1.0)

    result, call = run(scenario())
    assert call.fast_start == 4 and call.fast_start_codec is None  # offered, not answered
    ours, theirs = result.media, call.media
    assert ours is not None and theirs is not None
    assert ours["opened_by"] == "OpenLogicalChannel" and call.h245_channel_codec == "g711Ulaw64k"
    assert ours["rx_packets"] >= 10 and theirs["rx_packets"] >= 10


def test_an_accepted_fast_start_opens_no_h245_channel() -> None:
    async def scenario() -> Any:
        async with H323Peer() as peer:
            return await dial(
                f"127.0.0.1:{peer.port}##123456789",
                timeout=5,
                fast_start=True,
                h245_channels=True,
                hold=0.3,
            )

    result = run(scenario())
    assert result.media is not None and result.media["opened_by"] == "fastStart"
    assert not any("openLogicalChannel" in e.detail for e in result.events)


def test_hostile_datagrams_on_the_rtp_port_are_counted_and_survived() -> None:
    rtp_port = free_port(socket.SOCK_DGRAM)

    async def spray() -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            for i in range(3000):
                if i % 3 == 0:  # a stream of a payload type nobody opened
                    data = rtp_packet(RtpHeader(96, i, i * 160, 99, False), b"x" * 20)
                else:  # not RTP at all: empty, or version 0
                    data = [b"", b"\x00" * 40, bytes([0x80, 200]) + bytes(30)][i % 3 - 1]
                with contextlib.suppress(BlockingIOError):
                    sock.sendto(data, ("127.0.0.1", rtp_port))
                if i % 100 == 0:
                    await asyncio.sleep(0.01)

    async def scenario() -> Any:
        async with H323Peer() as peer:
            call = asyncio.create_task(
                dial_with_media(peer, fast_start=True, rtp_port=rtp_port, hold=1.0)
            )
            await asyncio.sleep(0.2)
            await spray()
            return await call

    result, call = run(scenario())
    assert result.connected and result.error is None
    media = result.media
    assert media is not None and call.media is not None
    assert media["rx_payload_types"] == [0, 96]
    assert media["rx_not_rtp"] >= 100  # most of the 2000 garbage datagrams (loopback, no loss)
    assert call.media["rx_packets"] >= 10  # the call's own audio still flowed


def test_rtp_packets_round_trip_and_rtcp_is_not_rtp() -> None:
    header = RtpHeader(8, 65535, 0xFFFFFFFF, 0x1234, True)
    packet = rtp_packet(header, b"\xd5" * 160)
    assert len(packet) == 172 and parse_rtp(packet) == header
    assert parse_rtp(bytes([0x80, 200]) + bytes(26)) is None  # an RTCP sender report
    assert parse_rtp(b"\x80\x00") is None
