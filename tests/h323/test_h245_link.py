"""H.245 on its own TCP connection (no tunnelling): the state machines sans I/O, then crcgw's
dialler against the project's peer on loopback, with the tunnel declined by either side."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from signaling.h323 import H323Peer, dial, tpkt
from signaling.h323.call import CallEvent, CallState, IncomingCall, OutgoingCall
from signaling.h323.channels import LogicalChannels
from signaling.h323.errors import H323Error
from signaling.h323.h225 import Alias, CallMessage
from signaling.h323.h245 import G711_CODECS, H245Session, summarize
from signaling.h323.transport import SignalChannel
from tests.h323.conftest import dial_with_media, free_port

H245_AT = ("127.0.0.1", 31720)


def wire(message: CallMessage) -> CallMessage:
    return CallMessage.parse(bytes(message))


def caller(tunnelling: bool) -> OutgoingCall:
    session = H245Session(1000)
    session.channels = LogicalChannels(("127.0.0.1", 40000), G711_CODECS)
    return OutgoingCall(
        7,
        bytes(16),
        bytes(range(16)),
        False,
        session,
        destination=[Alias.digits("123456789")],
        tunnelling=tunnelling,
    )


def signal(call: OutgoingCall, accept_tunnelling: bool) -> tuple[IncomingCall, list[CallEvent]]:
    """Setup and the callee's answers; the callee listens for H.245 at H245_AT."""
    setup = wire(call.setup())
    callee = IncomingCall.from_setup(
        setup,
        answer="connect",
        random_number=5000,
        media_address=("127.0.0.1", 50000),
        accept_tunnelling=accept_tunnelling,
        h245_address=H245_AT,
    )
    events: list[CallEvent] = []
    replies, _ = callee.receive(setup)
    for reply in replies:
        back, got = call.receive(wire(reply))
        assert back == [] or call.tunnelling  # without the tunnel, nothing goes in one
        events += got
    return callee, events


def link(a: OutgoingCall, b: IncomingCall) -> tuple[list[str], list[CallEvent], list[CallEvent]]:
    """Both ends connected on the H.245 link: shuttle until quiet; names and each side's events."""
    a.h245_connected()
    b.h245_connected()
    names: list[str] = []
    a_events: list[CallEvent] = []
    b_events: list[CallEvent] = []
    while True:
        from_a, from_b = a.take_h245(), b.take_h245()
        if not from_a and not from_b:
            return names, a_events, b_events
        for data in from_a:
            names.append("> " + summarize(data).name)
            b_events += b.h245_receive(data)
        for data in from_b:
            names.append("< " + summarize(data).name)
            a_events += a.h245_receive(data)


@pytest.mark.parametrize(("tunnelling", "accept"), [(False, True), (True, False)])
def test_separate_h245_opens_audio_both_ways(tunnelling: bool, accept: bool) -> None:
    """The caller does not offer the tunnel, or the callee declines it: same outcome."""
    call = caller(tunnelling)
    callee, events = signal(call, accept)
    assert [e.kind for e in events] == ["proceeding", "alerting", "connected", "h245-address"]
    assert events[-1].detail == "127.0.0.1:31720" and call.h245_remote == H245_AT
    assert call.h245_separate and callee.h245_separate
    assert call.take_h245() == []  # queued until the edge reports the connection up
    names, ours, theirs = link(call, callee)
    for name in ("terminalCapabilitySet", "masterSlaveDetermination", "openLogicalChannel"):
        assert f"> {name}" in names and f"< {name}" in names
    assert names.count("> openLogicalChannelAck") == names.count("< openLogicalChannelAck") == 1
    assert {"h245-ready", "h245-channel"} <= {e.kind for e in ours}
    assert {"h245-ready", "h245-channel"} <= {e.kind for e in theirs}
    channel = next(e for e in ours if e.kind == "h245-channel")
    assert channel.detail == "127.0.0.1:50000" and channel.reason == "g711Ulaw64k"
    assert next(e for e in theirs if e.kind == "h245-channel").detail == "127.0.0.1:40000"

    release = wire(call.release())
    assert release.uu is not None and release.uu.h245_control == ()
    assert release.uu.h245_tunnelling is False
    assert [summarize(d).name for d in call.take_h245()] == ["endSessionCommand"]
    assert callee.receive(release)[1] == [CallEvent("released", 16, None)]


def test_a_tunnelling_callee_keeps_h245_in_the_tunnel() -> None:
    call = caller(True)
    callee, events = signal(call, True)
    assert not call.h245_separate and not callee.h245_separate and callee.h245_address is None
    assert "h245-address" not in [e.kind for e in events]


def test_no_address_no_tunnel_means_no_h245() -> None:
    """A callee that refuses the tunnel and gives no h245Address: connected, H.245 never runs."""
    call = caller(True)
    setup = wire(call.setup())
    callee = IncomingCall.from_setup(
        setup, answer="connect", random_number=5, accept_tunnelling=False
    )
    for reply in callee.receive(setup)[0]:
        call.receive(wire(reply))
    assert call.state is CallState.CONNECTED and call.h245_remote is None
    call.h245_connected()  # even if the edge said so, nothing was started by the far end
    release = wire(call.release())
    assert release.uu is not None and release.uu.h245_control == ()


# -- on loopback: crcgw's dialler and the project's peer --------------------------------------


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 30))


@pytest.mark.parametrize(
    ("dial_options", "peer_options"),
    [
        ({"h245_tunnelling": False}, {}),
        ({}, {"tunnelling": False}),
        ({"fast_start": True}, {"tunnelling": False, "fast_start": False}),
    ],
    ids=["caller-declines", "peer-declines", "fast-start-refused"],
)
def test_dialler_runs_h245_on_its_own_connection_and_audio_flows(
    dial_options: dict[str, Any], peer_options: dict[str, Any]
) -> None:
    async def scenario() -> Any:
        async with H323Peer(**peer_options) as peer:
            return await dial_with_media(peer, h245_channels=True, hold=1.0, **dial_options)

    result, call = run(scenario())
    assert result.connected and result.h245_ready and result.h245_separate
    assert call.h245_separate and call.error is None
    for name in (
        "terminalCapabilitySet",
        "masterSlaveDetermination",
        "openLogicalChannel",
        "openLogicalChannelAck",
    ):
        assert name in call.h245_received and name in call.h245_sent
    assert call.h245_received[-1] == "endSessionCommand"
    sent = [e.message for e in result.events if e.direction == "sent"]
    assert sent.index("H.245 endSessionCommand") < sent.index("Release Complete")
    assert not any("H.245" in e.detail for e in result.events)  # nothing in the tunnel
    ours, theirs = result.media, call.media
    assert ours is not None and theirs is not None
    assert ours["opened_by"] == "OpenLogicalChannel" and call.h245_channel_codec == "g711Ulaw64k"
    assert theirs["remote_rtp"] == ours["local_rtp"]
    assert ours["rx_packets"] >= 10 and theirs["rx_packets"] >= 10


def test_an_unreachable_h245_address_leaves_the_call_up_without_media() -> None:
    """The far end names an H.245 address where nothing listens: said so, the call goes on."""
    nowhere = ("127.0.0.1", free_port())

    async def far_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        channel = SignalChannel(reader, writer)
        setup = await channel.receive(10)
        callee = IncomingCall.from_setup(
            setup, answer="connect", random_number=5, h245_address=nowhere
        )
        for reply in callee.receive(setup)[0]:
            await channel.send(reply)
        with contextlib.suppress(H323Error):
            await channel.receive(10)  # the caller's Release Complete
        await channel.close()

    async def scenario() -> Any:
        server = await asyncio.start_server(far_end, "127.0.0.1", 0)
        async with server:
            port = server.sockets[0].getsockname()[1]
            return await dial(
                f"127.0.0.1:{port}##123456789", timeout=5, h245_tunnelling=False, hold=0.3
            )

    result = run(scenario())
    assert result.connected and not result.h245_separate and not result.h245_ready
    failed = [e for e in result.events if e.message == "H.245 connection failed"]
    assert len(failed) == 1 and "refused" in failed[0].detail
    assert [e.message for e in result.events if e.direction == "sent"][-1] == "Release Complete"


def test_garbage_on_the_h245_connection_is_survived() -> None:
    """The far end's H.245 connection sends undecodable PER, then a cut TPKT frame and closes:
    the call stays up, says so, and is released normally."""
    garbage = tpkt.encode(b"\xff\xff\xff") + b"\x03\x00\x00\x20\x01"

    async def h245_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(garbage)
        await writer.drain()
        # read what the dialler sends (TCS, MSD) until it is quiet: closing with unread data
        # would reset the connection and could discard the garbage before the dialler reads it
        with contextlib.suppress(TimeoutError):
            while await asyncio.wait_for(reader.read(4096), 0.3):
                pass
        writer.close()

    async def scenario() -> Any:
        h245_server = await asyncio.start_server(h245_side, "127.0.0.1", 0)
        h245_at = ("127.0.0.1", h245_server.sockets[0].getsockname()[1])

        async def far_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            channel = SignalChannel(reader, writer)
            setup = await channel.receive(10)
            callee = IncomingCall.from_setup(
                setup, answer="connect", random_number=5, h245_address=h245_at
            )
            for reply in callee.receive(setup)[0]:
                await channel.send(reply)
            with contextlib.suppress(H323Error):
                await channel.receive(10)
            await channel.close()

        server = await asyncio.start_server(far_end, "127.0.0.1", 0)
        async with server, h245_server:
            port = server.sockets[0].getsockname()[1]
            return await dial(
                f"127.0.0.1:{port}##123456789", timeout=5, h245_tunnelling=False, hold=3.0
            )

    result = run(scenario())
    assert result.connected and result.h245_separate and result.error is None
    messages = [e.message for e in result.events]
    assert "H.245 undecodable" in messages and messages.count("H.245 closed") == 1
    assert [e.message for e in result.events if e.direction == "sent"][-1] == "Release Complete"
