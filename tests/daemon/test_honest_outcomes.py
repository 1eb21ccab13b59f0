"""The daemon's CDRs follow the wire, through the one call controller: a room dials SIPp
(Debian ``sip-tester``) misbehaving in one way per scenario, and the record says the outcome and
whether its cause was received from the far end or made locally."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.http_api import StartCall
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, gateway_config, running_gateway
from tests.harness.sipp import Sipp, sipp_available

pytestmark = pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed")


@pytest.mark.parametrize(
    ("scenario", "outcome", "code", "origin", "said"),
    [
        # answered with G.729 only: the engine ends it here before any media (the code it
        # keeps is the far end's 200, the end is made locally)
        ("no_common_codec", "failed", (200, 415, 488), "local", "no audio"),
        ("busy_after_183", "busy", (486,), "received", "Busy"),
    ],
)
def test_the_record_follows_the_wire(
    tmp_path: Path, registrar: Kamailio, scenario: str, outcome: str, code: tuple[int, ...],
    origin: str, said: str,
) -> None:
    peer = Sipp(scenario).start()
    try:
        async def run() -> None:
            async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
                assert gw.tracker is not None
                call = await gw.start_call(StartCall(room=ROOM, meeting_id="85012345678",
                                                     host="127.0.0.1", port=peer.port))
                ended = await gw.tracker.wait_ended(call.call_id, 40)
                assert ended.state == "ended"
                assert ended.events[-1]["event"] == "ended"
                assert ended.events[-1]["cause"]["origin"] == origin, ended.events
                record = next(c for c in await gw.cdrs(5, ROOM) if c.call_id == call.call_id)
                assert record.outcome == outcome, record
                assert record.sip_code in code, record
                assert record.sip_reason is not None
                assert record.sip_reason.endswith(f"({origin})"), record.sip_reason
                assert said in record.sip_reason, record.sip_reason
                assert (await gw.ports()).leased == 0

        asyncio.run(run())
    finally:
        peer.stop()
