"""gateway.live_usage: room systems joining and leaving, call-outs, and the periodic source."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.live_usage import LiveUsage, is_room_system
from gateway.ports import PortUsage

MEETING = {"id": "85746065432", "uuid": "abc==", "host_id": "h", "type": 2, "duration": 30}


def joined(pid: str, **participant: Any) -> dict[str, Any]:
    return {**MEETING, "participant": {"user_id": pid, "participant_uuid": pid,
                                       "user_name": pid, "email": "", **participant}}


def callout(device_ip: str) -> dict[str, Any]:
    return {"id": 85746065432, "uuid": "abc==", "host_id": "h", "message_id": "m-" + device_ip,
            "inviter_name": "Host", "participant": {"call_type": "sip",
                                                     "device_ip": device_ip}}


def test_room_systems_count_from_join_to_leave() -> None:
    live = LiveUsage()
    assert not live.primed
    assert live.apply("meeting.participant_joined", joined("r1", device="H.323/SIP"), 1.0)
    assert not live.apply("meeting.participant_joined", joined("laptop", device="Mac"), 2.0)
    assert live.apply("meeting.participant_joined", joined("r2", sip_uri="sip:r2@x"), 3.0)
    assert live.primed and live.in_use() == 2
    assert not live.apply("meeting.participant_joined", joined("r1", device="H.323/SIP"), 4.0)
    assert live.apply("meeting.participant_left", joined("r1"), 5.0)
    assert not live.apply("meeting.participant_left", joined("r1"), 6.0)  # already gone
    assert live.in_use() == 1
    assert live.apply("meeting.ended", MEETING, 7.0)
    assert live.in_use() == 0
    assert not live.apply("meeting.started", MEETING, 8.0)


def test_callouts_hold_a_port_until_they_end_or_join() -> None:
    live = LiveUsage()
    live.apply("meeting.participant_room_system_callout_ringing", callout("192.0.2.5"), 1.0)
    live.apply("meeting.participant_room_system_callout_ringing", callout("192.0.2.6"), 1.5)
    assert live.in_use() == 2
    live.apply("meeting.participant_room_system_callout_rejected", callout("192.0.2.6"), 2.0)
    assert live.in_use() == 1
    live.apply("meeting.participant_room_system_callout_accepted", callout("192.0.2.5"), 3.0)
    assert live.in_use() == 1
    # the accepted call-out joins: the same port, not a second one
    live.apply("meeting.participant_joined", joined("room-5", device="H.323/SIP"), 4.0)
    assert live.in_use() == 1 and not live.callouts
    live.apply("meeting.participant_room_system_callout_failed",
               {**callout("192.0.2.9"), "reason_type": 3}, 5.0)
    assert live.in_use() == 1


def test_device_detection() -> None:
    assert is_room_system({"device": "H.323/SIP"}) and is_room_system({"device": " sip "})
    assert not is_room_system({"device": "Windows"}) and not is_room_system({})
    assert is_room_system({"from_sip_uri": "sip:a@b"})


def test_bad_payloads_change_nothing() -> None:
    live = LiveUsage()
    for obj in ({}, {"participant": "x"}, {"participant": {}}, {"id": 5, "participant": None}):
        assert not live.apply("meeting.participant_joined", obj, 1.0)
        assert not live.apply("meeting.participant_left", obj, 1.0)
    assert live.in_use() == 0


def test_periodic_source() -> None:
    async def api() -> PortUsage:
        return PortUsage(in_use=4, allocated=12)

    async def run(live: LiveUsage, exact: bool) -> PortUsage | None:
        return await live.source(api, exact=exact)()

    live = LiveUsage()
    assert asyncio.run(run(live, exact=False)) == PortUsage(4, 12)  # no notification yet
    live.apply("meeting.participant_joined", joined("r1", device="H.323/SIP"), 1.0)
    assert asyncio.run(run(live, exact=False)) == PortUsage(1, 12)  # live beats hourly peaks
    assert asyncio.run(run(live, exact=True)) == PortUsage(4, 12)  # an exact API figure wins
    assert live.snapshot() == PortUsage(1, 12)
    assert asyncio.run(live.source(None, exact=False)()) == PortUsage(1, 12)


def test_participants_without_a_device_wait_for_the_dashboard() -> None:
    live = LiveUsage()
    assert not live.apply("meeting.participant_joined", joined("a"), 1.0)  # no device named
    assert not live.apply("meeting.participant_joined", joined("b"), 1.0)
    assert not live.apply("meeting.participant_joined", joined("mac", device="Mac"), 1.0)
    assert live.pending() == {"abc==": "85746065432"} and live.in_use() == 0
    assert live.resolve("abc==", {"a", "zz"}, 2.0)  # the Dashboard: "a" is a room system
    assert live.in_use() == 1 and live.pending() == {}
    assert not live.resolve("abc==", {"b"}, 3.0)  # "b" was settled as not one
    live.apply("meeting.participant_joined", joined("c"), 4.0)
    live.apply("meeting.participant_left", joined("c"), 5.0)
    assert live.pending() == {}  # left before it was looked up
