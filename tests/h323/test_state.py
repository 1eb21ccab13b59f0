"""Sans-I/O state machines: the call on both sides, H.245 in the tunnel, RAS with a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.h323 import per
from signaling.h323.call import CallEvent, CallState, IncomingCall, OutgoingCall, build_message
from signaling.h323.faststart import answer_fast_start, fast_start_proposals, parse_channels
from signaling.h323.gatekeeper import Gatekeeper
from signaling.h323.h225 import (
    Alias,
    CallMessage,
    UserInformation,
    alerting_uuie,
    call_proceeding_uuie,
    connect_uuie,
    facility_uuie,
)
from signaling.h323.h245 import (
    H245Session,
    master_slave_determination,
    summarize,
)
from signaling.h323.q931 import MessageType, Q931Message
from signaling.h323.ras import RasEndpoint, RasMessage, RegistrationState, keepalive_due

GUID = bytes(range(16))
CONF = bytes(range(16, 32))


def wire(message: CallMessage) -> CallMessage:
    """What the far end decodes: through bytes, so encoder and decoder both take part."""
    return CallMessage.parse(bytes(message))


def outgoing(tunnel: bool = True) -> OutgoingCall:
    return OutgoingCall(
        0x1234,
        CONF,
        GUID,
        False,
        H245Session(1000) if tunnel else None,
        destination=[Alias.digits("123456789#4321")],
        called_digits="123456789#4321",
        source=[Alias.h323_id("crcgw")],
    )


def converse(
    caller: OutgoingCall, answer: str = "connect", cause: int | None = None
) -> tuple[IncomingCall, list[str], list[CallEvent]]:
    """Run the call to quiescence; return the callee, the message log and the caller's events."""
    setup = wire(caller.setup())
    callee = IncomingCall.from_setup(
        setup,
        answer=answer,
        random_number=5000,  # type: ignore[arg-type]
        cause=cause,
    )
    log: list[str] = ["> " + setup.name]
    events: list[CallEvent] = []
    queue: list[tuple[str, CallMessage]] = [("callee", setup)]
    while queue:
        side, message = queue.pop(0)
        if side == "callee":
            replies, _ = callee.receive(message)
            queue += [("caller", wire(r)) for r in replies]
            log += ["< " + r.name for r in replies]
        else:
            replies, got = caller.receive(message)
            events += got
            queue += [("callee", wire(r)) for r in replies]
            log += ["> " + r.name for r in replies]
    return callee, log, events


def test_tunnelled_call_reaches_connect_after_h245() -> None:
    caller = outgoing()
    callee, log, events = converse(caller)
    assert log == ["> Setup", "< Call Proceeding", "< Alerting", "> Facility", "< Connect"]
    assert [e.kind for e in events] == ["proceeding", "alerting", "h245-ready", "connected"]
    assert caller.state is CallState.CONNECTED and callee.state is CallState.CONNECTED
    assert caller.h245 is not None and callee.h245 is not None
    assert {caller.h245.status, callee.h245.status} == {"master", "slave"}
    assert caller.h245.remote_capabilities == ("g711Ulaw64k", "g711Alaw64k")


def test_caller_release_carries_normal_clearing() -> None:
    caller = outgoing()
    callee, _, _ = converse(caller)
    release = wire(caller.release())
    assert release.q931.cause is not None and release.q931.cause.value == 16
    assert release.uu is not None and release.uu.release_reason is None
    assert [summarize(m).name for m in release.uu.h245_control] == ["endSessionCommand"]
    _, events = callee.receive(release)
    assert events == [CallEvent("released", 16, None)]
    assert callee.state is CallState.RELEASED


def test_without_tunnelling_the_peer_connects_at_once() -> None:
    caller = outgoing(tunnel=False)
    _, log, events = converse(caller)
    assert log == ["> Setup", "< Call Proceeding", "< Alerting", "< Connect"]
    assert events[-1].kind == "connected"


@pytest.mark.parametrize(
    ("answer", "cause", "expected", "reason"),
    [
        ("busy", None, 17, "inConf"),
        ("reject", None, 21, "destinationRejection"),
        ("reject", 1, 1, "undefinedReason"),
        ("busy", 34, 34, "noBandwidth"),
    ],
)
def test_refusals_report_their_cause(
    answer: str, cause: int | None, expected: int, reason: str
) -> None:
    caller = outgoing()
    _, log, events = converse(caller, answer, cause)
    assert log == ["> Setup", "< Release Complete"]
    assert events == [CallEvent("released", expected, reason)]
    assert caller.state is CallState.RELEASED


def test_status_enquiry_is_answered_with_status() -> None:
    caller = outgoing()
    caller.setup()
    enquiry = wire(CallMessage(Q931Message(MessageType.STATUS_ENQUIRY, 0x1234, True), None))
    replies, _ = caller.receive(enquiry)
    assert [r.name for r in replies] == ["Status"]
    assert replies[0].q931.cause is not None and replies[0].q931.cause.value == 30


def test_setup_carries_the_meeting_alias_and_identifiers() -> None:
    setup = wire(outgoing().setup())
    assert setup.q931.message_type == MessageType.SETUP
    assert setup.q931.called_number is not None
    assert setup.q931.called_number.digits == "123456789#4321"
    assert setup.uu is not None
    assert setup.uu.aliases() == [Alias("dialledDigits", "123456789#4321")]
    assert setup.uu.h245_tunnelling is True
    assert setup.uu.conference_id == CONF and setup.uu.call_identifier == GUID


# -- H.245 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ((50, 10), (50, 20), "slave"),  # their number is larger (mod 2^24): they are master
        ((50, 20), (50, 10), "master"),
        ((50, 10), (50, 10 + (1 << 23) + 1), "master"),  # modular comparison wraps
        ((60, 10), (50, 99), "master"),  # larger terminal type wins outright
    ],
)
def test_master_slave_determination(
    ours: tuple[int, int], theirs: tuple[int, int], expected: str
) -> None:
    session = H245Session(ours[1], terminal_type=ours[0])
    session.start()
    replies = session.receive(per.encode_h245(master_slave_determination(theirs[1], theirs[0])))
    assert session.status == expected
    ack = summarize(replies[0])
    assert ack.name == "masterSlaveDeterminationAck"
    assert ack.body["decision"][0] == ("slave" if expected == "master" else "master")


def test_identical_numbers_are_indeterminate() -> None:
    session = H245Session(77)
    assert session.receive(per.encode_h245(master_slave_determination(77))) == []
    assert session.status is None and not session.ready


def test_fast_start_proposals_are_open_logical_channels() -> None:
    proposals = fast_start_proposals("127.0.0.1", 5000)
    decoded = [per.decode_open_logical_channel(p) for p in proposals]
    assert [d["forwardLogicalChannelNumber"] for d in decoded] == [1, 2, 3, 4]
    reverse = decoded[1]["reverseLogicalChannelParameters"]
    assert reverse["dataType"] == ("audioData", ("g711Ulaw64k", 20))
    media = reverse["multiplexParameters"][1]["mediaChannel"][1][1]
    assert media == {"network": b"\x7f\0\0\1", "tsapIdentifier": 5000}


# -- RAS -----------------------------------------------------------------------------------------


def endpoint(**options: object) -> RasEndpoint:
    return RasEndpoint(
        [Alias.h323_id("room1")], ("127.0.0.1", 5001), ("127.0.0.1", 1720), **options
    )  # type: ignore[arg-type]


def exchange(ep: RasEndpoint, gk: Gatekeeper, datagrams: list[bytes], now: float) -> None:
    while datagrams:
        reply = gk.handle(datagrams.pop(0), now)
        if reply is not None:
            datagrams += ep.receive(reply, now)


def test_registration_and_keepalive_inside_the_granted_ttl() -> None:
    ep, gk = endpoint(ttl=600), Gatekeeper(max_ttl=60)
    exchange(ep, gk, ep.start(100.0), 100.0)
    assert ep.state is RegistrationState.REGISTERED
    assert ep.granted_ttl == 60 and ep.endpoint_id == "ep0001" and ep.gatekeeper_id == "crcgw-gk"
    due = keepalive_due(100.0, 60)
    assert 100.0 < due < 160.0 and ep.next_deadline() == due
    assert ep.poll(due - 0.01) == []
    keepalive = ep.poll(due)
    rrq = RasMessage.decode(keepalive[0])
    assert rrq.name == "registrationRequest" and rrq.body["keepAlive"] is True
    assert rrq.body["endpointIdentifier"] == "ep0001" and "terminalAlias" not in rrq.body
    exchange(ep, gk, keepalive, due)
    assert [e.kind for e in ep.events] == ["discovered", "registered", "refreshed"]
    assert gk.registrations["ep0001"].refreshes == 1
    assert ep.next_deadline() == keepalive_due(due, 60)
    exchange(ep, gk, ep.unregister(due + 1), due + 1)
    assert ep.state is RegistrationState.UNREGISTERED and gk.registrations == {}
    assert gk.received == [
        "gatekeeperRequest",
        "registrationRequest",
        "registrationRequest",
        "unregistrationRequest",
    ]


def test_unanswered_requests_are_repeated_then_fail() -> None:
    ep = endpoint(timeout=3.0, retries=2)
    first = ep.start(0.0)
    assert ep.poll(2.9) == []
    assert ep.poll(3.0) == first  # same datagram, same sequence number
    assert ep.poll(6.0) == first
    assert ep.poll(9.0) == []
    assert ep.state is RegistrationState.FAILED
    assert ep.events[-1].kind == "timeout" and "after 3 tries" in ep.events[-1].detail


def test_rejection_and_stray_answers() -> None:
    ep, gk = endpoint(discover=False), Gatekeeper(reject_registration="duplicateAlias")
    sent = ep.start(0.0)
    stray = RasMessage(
        "registrationConfirm",
        {
            "requestSeqNum": 999,
            "protocolIdentifier": (0, 0, 8, 2250, 0, 4),
            "callSignalAddress": [],
            "endpointIdentifier": "x",
        },
    ).encode()
    assert ep.receive(stray, 0.1) == [] and ep.state is RegistrationState.REGISTERING
    exchange(ep, gk, sent, 0.2)
    assert ep.state is RegistrationState.FAILED
    assert ep.events[-1].detail == "registrationReject: duplicateAlias"


def test_admission_and_disengage() -> None:
    ep, gk = endpoint(), Gatekeeper()
    exchange(ep, gk, ep.start(0.0), 0.0)
    arq = ep.admit(
        1.0,
        destination=[Alias.digits("123")],
        destination_address=("10.0.0.9", 1720),
        call_reference=7,
        conference_id=CONF,
        call_identifier=GUID,
    )
    exchange(ep, gk, arq, 1.0)
    assert ep.admitted is not None and ep.events[-1].detail.startswith("call to 10.0.0.9:1720")
    exchange(
        ep, gk, ep.disengage(2.0, call_reference=7, conference_id=CONF, call_identifier=GUID), 2.0
    )
    assert ep.events[-1].kind == "disengaged"


def test_gatekeeper_may_unregister_the_endpoint() -> None:
    ep, gk = endpoint(), Gatekeeper()
    exchange(ep, gk, ep.start(0.0), 0.0)
    urq = RasMessage("unregistrationRequest", {"requestSeqNum": 41, "callSignalAddress": []})
    answer = RasMessage.decode(ep.receive(urq.encode(), 5.0)[0])
    assert answer == RasMessage("unregistrationConfirm", {"requestSeqNum": 41})
    assert ep.state is RegistrationState.UNREGISTERED and ep.next_deadline() is None


def test_arq_needs_a_registration() -> None:
    with pytest.raises(RuntimeError, match="ARQ needs a registration"):
        endpoint().admit(
            0.0,
            destination=[],
            destination_address=None,
            call_reference=1,
            conference_id=CONF,
            call_identifier=GUID,
        )


def test_gatekeeper_ignores_garbage() -> None:
    gk = Gatekeeper()
    assert gk.handle(b"\xff\xff\xff", 0.0) is None
    assert gk.received == ["undecodable"]


def test_undecodable_tunnelled_h245_does_not_end_the_call() -> None:
    caller = outgoing()
    caller.setup()
    alerting = build_message(
        MessageType.ALERTING,
        0x1234,
        True,
        UserInformation("alerting", alerting_uuie(GUID), True, (b"\xff\xff\xff",)),
    )
    replies, events = caller.receive(wire(alerting))
    assert [e.kind for e in events] == ["h245-undecodable", "alerting"]
    assert caller.state is CallState.ALERTING
    assert [r.name for r in replies] == ["Facility"]  # our own TCS and MSD still go out


def test_progress_is_reported() -> None:
    caller = outgoing()
    caller.setup()
    progress = CallMessage(Q931Message(MessageType.PROGRESS, 0x1234, True), None)
    assert caller.receive(wire(progress))[1] == [CallEvent("progress")]


def test_fast_start_answer_round_trip() -> None:
    offer = fast_start_proposals("10.0.0.2", 5000, codecs=("g711Alaw64k", "g711Ulaw64k"))
    answer, codec = answer_fast_start(offer, "10.0.0.9", 7000)
    assert codec == "g711Alaw64k"  # the caller's first choice that we support
    channels = parse_channels(answer)
    assert [(c.number, c.direction, c.codec) for c in channels] == [
        (1, "transmit", "g711Alaw64k"),
        (2, "receive", "g711Alaw64k"),
    ]
    assert channels[0].rtp == ("10.0.0.9", 7000) and channels[0].rtcp == ("10.0.0.9", 7001)
    assert channels[1].rtp == ("10.0.0.2", 5000)  # where we send: the caller's receive address


def test_fast_start_nothing_in_common() -> None:
    offer = fast_start_proposals("10.0.0.2", 5000, codecs=("g711Alaw64k",))
    assert answer_fast_start(offer, "10.0.0.9", 7000, codecs=("g711Ulaw64k",)) == ([], None)
    assert parse_channels([b"\xff"]) == []


def test_caller_learns_where_to_send_media() -> None:
    caller = outgoing()
    caller.fast_start = fast_start_proposals("127.0.0.1", 5000)
    setup = wire(caller.setup())
    callee = IncomingCall.from_setup(
        setup, answer="connect", random_number=9, media_address=("127.0.0.1", 6000)
    )
    proceeding = wire(callee.receive(setup)[0][0])
    assert callee.fast_start_codec == "g711Ulaw64k"
    events = caller.receive(proceeding)[1]
    # RTP to the callee's media channel, RTCP to its mediaControlChannel (the port above)
    started = CallEvent(
        "fast-start", reason="g711Ulaw64k", detail="127.0.0.1:6000", rtcp="127.0.0.1:6001"
    )
    assert started in events


def _pool() -> list[CallMessage]:
    """Messages a far end might send, in any order, including odd ones."""
    callee_leg = IncomingCall(0x1234, CONF, GUID, True, H245Session(5))
    tcs = callee_leg.h245.start() if callee_leg.h245 else []
    return [
        wire(m)
        for m in (
            callee_leg.message(
                MessageType.CALL_PROCEEDING, "callProceeding", call_proceeding_uuie(GUID), tcs
            ),
            callee_leg.message(MessageType.ALERTING, "alerting", alerting_uuie(GUID), []),
            callee_leg.message(MessageType.CONNECT, "connect", connect_uuie(CONF, GUID), []),
            callee_leg.tunnel([b"\x00", b"\xff\xff"]),
            callee_leg.message(
                MessageType.FACILITY,
                "facility",
                facility_uuie("callForwarded", GUID, CONF, ("10.0.0.1", 1720)),
                [],
            ),
            CallMessage(Q931Message(MessageType.STATUS, 0x1234, True), None),
            CallMessage(Q931Message(MessageType.STATUS_ENQUIRY, 0x1234, True), None),
            CallMessage(Q931Message(MessageType.PROGRESS, 0x1234, True), None),
            CallMessage(Q931Message(0x42, 0x1234, True), None),
            callee_leg.release(17),
        )
    ]


POOL = _pool()


@given(st.lists(st.integers(0, len(POOL) - 1), max_size=12))
@settings(max_examples=150, deadline=None)
def test_any_message_order_is_handled(order: list[int]) -> None:
    caller = outgoing()
    caller.setup()
    for index in order:
        released = caller.state is CallState.RELEASED
        replies, events = caller.receive(POOL[index])
        if released:
            assert replies == [] and events == []
        for reply in replies:
            assert CallMessage.parse(bytes(reply)).q931.call_reference == 0x1234
