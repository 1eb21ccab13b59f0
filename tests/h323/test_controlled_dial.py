"""H.323 calls under the call controller: the dialler's events in the call-event vocabulary
(who ended the call: received or local) and ``crcgw dial --protocol h323`` on the controller,
against the project's own H.323 peer on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from gateway.calllegs import dial_h323
from signaling.callevents import CallEvent, EventKind
from signaling.dialstring import parse
from signaling.h323 import H323Peer
from signaling.h323.dial import dial
from signaling.sip.types import CauseOrigin
from tests.h323.test_cli import app, peer_process, runner


def test_the_dialler_tells_its_story_and_who_ended_it() -> None:
    async def scenario() -> tuple[list[CallEvent], list[CallEvent]]:
        ours: list[CallEvent] = []
        theirs: list[CallEvent] = []
        async with H323Peer() as peer:
            stop = asyncio.Event()
            task = asyncio.create_task(dial(
                f"127.0.0.1:{peer.port}##123456789", timeout=5, hold=3600, fast_start=True,
                call_id="a", listener=ours.append, stop=stop))
            for _ in range(200):
                if any(e.kind is EventKind.MEDIA_UP for e in ours):
                    break
                await asyncio.sleep(0.05)
            stop.set()  # our hang-up, long before the hold is over
            result = await asyncio.wait_for(task, 20)
            assert result.connected
        async with H323Peer(hangup_after=0.3) as peer:
            result = await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5, hold=3600,
                                fast_start=True, call_id="b", listener=theirs.append)
            assert result.connected and result.cause is not None
        return ours, theirs

    ours, theirs = asyncio.run(scenario())
    for events in (ours, theirs):
        kinds = [e.kind for e in events]
        assert EventKind.ANSWERED in kinds and EventKind.MEDIA_UP in kinds
        assert kinds[-2:] == [EventKind.MEDIA_DOWN, EventKind.ENDED]
        assert [e.seq for e in events] == sorted({e.seq for e in events})  # strictly growing
    assert ours[-1].cause is not None and ours[-1].cause.origin is CauseOrigin.LOCAL
    assert ours[-1].cause.code == 16  # our Release Complete: normal clearing
    assert theirs[-1].cause is not None and theirs[-1].cause.origin is CauseOrigin.RECEIVED


def test_media_opened_by_h245_counts_and_the_hold_runs_from_it() -> None:
    """The peer refuses fastStart: the audio opens by H.245 OpenLogicalChannel after Connect;
    the controller takes that as the media coming up and hangs up 1 s later."""

    async def scenario() -> Any:
        async with H323Peer(fast_start=False) as peer:
            return await dial_h323(parse(f"127.0.0.1:{peer.port}##123456789"), 1, 10)

    result = asyncio.run(scenario())
    assert result.connected and result.error is None, result.outcome
    assert result.media is not None and result.media["opened_by"] == "OpenLogicalChannel"
    assert result.media["rx_packets"] > 0 and result.media["tx_packets"] > 0
    assert any(e.message == "Release Complete" and e.direction == "sent" for e in result.events)
    assert 1.0 <= result.duration < 20


def test_crcgw_dial_protocol_h323_runs_on_the_controller() -> None:
    with peer_process("--answer", "connect") as (port, _):
        ok = runner.invoke(app, ["dial", f"127.0.0.1:{port}##123456789#97531", "--protocol",
                                 "h323", "--duration", "1", "--json"])
    assert ok.exit_code == 0, ok.output
    report = json.loads(ok.stdout)
    assert report["connected"] is True and report["media"]["tx_packets"] > 0
    assert "97531" not in ok.output
    with peer_process("--answer", "busy") as (port, _):
        busy = runner.invoke(app, ["dial", f"127.0.0.1:{port}##123456789", "--protocol", "h323",
                                   "--json"])
    assert busy.exit_code == 1, busy.output
    assert json.loads(busy.stdout)["cause"] == 17
