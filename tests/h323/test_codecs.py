"""Sans-I/O codecs: TPKT, Q.931, PER (H.225.0 and H.245) - round trips and precise errors."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.h323 import tpkt
from signaling.h323.errors import H323DecodeError, PerError, Q931Error, TpktError
from signaling.h323.h225 import (
    PROTOCOL_IDENTIFIER,
    Alias,
    CallMessage,
    UserInformation,
    alerting_uuie,
    call_proceeding_uuie,
    connect_uuie,
    facility_uuie,
    release_complete_uuie,
    setup_uuie,
    status_uuie,
    transport_address,
    transport_from_value,
)
from signaling.h323.q931 import BearerCapability, Cause, MessageType, PartyNumber, Q931Message

GUID = bytes(range(16))
CONF = bytes(range(16, 32))

# -- TPKT ----------------------------------------------------------------------------------------


def test_tpkt_header_counts_itself() -> None:
    assert tpkt.encode(b"\x08\x02\x00\x01\x05") == b"\x03\x00\x00\x09\x08\x02\x00\x01\x05"
    assert tpkt.decode(b"\x03\x00\x00\x05\xaa") == b"\xaa"


def test_tpkt_stream_reassembles_split_and_joined_frames() -> None:
    frames = [tpkt.encode(bytes([n % 256]) * n) for n in (1, 300, 7)]
    stream = b"".join(frames)
    decoder = tpkt.TpktDecoder()
    got: list[bytes] = []
    for i in range(0, len(stream), 3):  # three bytes at a time
        got += decoder.feed(stream[i : i + 3])
    assert got == [bytes([n % 256]) * n for n in (1, 300, 7)]
    assert decoder.pending == 0
    decoder.close()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x04\x00\x00\x05\x01", "not a TPKT frame: version 4 (expected 3)"),
        (b"\x03\x00\x00\x04", "bad TPKT length 4: must exceed the 4-byte header"),
        (b"\x03\x00\x00\x02", "bad TPKT length 2: must exceed the 4-byte header"),
        (b"\x03\x00\x00\x09\x01", "truncated TPKT frame: header says 9 bytes, got 5"),
        (b"\x03\x00", "truncated TPKT header: 2 of 4 bytes"),
        (b"\x03\x00\x00\x05\x01\x02", "1 bytes after the TPKT frame of 5 bytes"),
    ],
)
def test_tpkt_errors_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(TpktError, match=f"^{re.escape(message)}$"):
        tpkt.decode(data)


def test_tpkt_truncated_stream_is_reported_at_close() -> None:
    decoder = tpkt.TpktDecoder()
    assert decoder.feed(b"\x03\x00\x01\x00abc") == []
    with pytest.raises(TpktError, match="header says 256 bytes, got 7"):
        decoder.close()


def test_tpkt_refuses_empty_and_oversized_payloads() -> None:
    with pytest.raises(TpktError, match="empty"):
        tpkt.encode(b"")
    with pytest.raises(TpktError, match="exceeds 65531"):
        tpkt.encode(bytes(65532))


@given(st.lists(st.binary(min_size=1, max_size=600), max_size=5), st.integers(1, 50))
@settings(max_examples=60, deadline=None)
def test_tpkt_round_trip_any_chunking(payloads: list[bytes], chunk: int) -> None:
    stream = b"".join(map(tpkt.encode, payloads))
    decoder = tpkt.TpktDecoder()
    got = [p for i in range(0, len(stream), chunk) for p in decoder.feed(stream[i : i + chunk])]
    assert got == payloads


@given(st.binary(max_size=80))
@settings(max_examples=200, deadline=None)
def test_tpkt_decoder_never_fails_otherwise(data: bytes) -> None:
    decoder = tpkt.TpktDecoder()
    try:
        decoder.feed(data)
        decoder.close()
    except TpktError:
        pass


# -- Q.931 ---------------------------------------------------------------------------------------


def test_q931_matches_the_h225_layout_byte_for_byte() -> None:
    message = Q931Message(
        MessageType.SETUP,
        0x542B,
        bearer_capability=BearerCapability(0x08, 0x10, 0x05),
        display="Jon",
        user_user=b"\x20\xb8",
    )
    assert bytes(message) == bytes.fromhex("0802542b0504038890a528034a6f6e7e00030520b8")


def test_q931_round_trip_with_every_ie() -> None:
    message = Q931Message(
        MessageType.RELEASE_COMPLETE,
        0x1234,
        True,
        bearer_capability=BearerCapability(0x00, 0x18, 0x02, rate_multiplier=6),
        cause=Cause(17, location=1, diagnostics=b"\x01"),
        display="room 1",
        calling_number=PartyNumber("4321", 1, 1, presentation=0),
        called_number=PartyNumber("123456789#4321"),
        user_user=b"\x01\x02\x03",
        other_ies=((0x1E, b"\x81\x88"), (0xA1, b"")),
    )
    parsed = Q931Message.parse(bytes(message))
    assert parsed == message
    assert parsed.name == "Release Complete"
    assert bytes(parsed) == bytes(message)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x08\x02", "Q.931 message of 2 bytes is shorter than its header"),
        (b"\x09\x02\x00\x01\x05", "not Q.931: protocol discriminator 0x09 (expected 0x08)"),
        (b"\x08\x03\x00\x01\x02\x05", "call reference length 3 (H.225.0 allows at most 2)"),
        (b"\x08\x02\x00\x01", "Q.931 message ends inside its header"),
        (b"\x08\x02\x00\x01\x85", "message type 0x85 has its top bit set"),
        (b"\x08\x02\x00\x01\x05\x28\x09ab", "IE 0x28 at offset 5 says 9 bytes, only 2 remain"),
        (b"\x08\x02\x00\x01\x05\x7e\x00", "IE 0x7e at offset 5 has no length"),
        (b"\x08\x02\x00\x01\x05\x7e\x00\x02\x04\x00", "user-user protocol discriminator 0x04"),
        (b"\x08\x02\x00\x01\x05\x04\x01\x88", "bearer capability IE has 1 bytes, needs at least 2"),
        (b"\x08\x02\x00\x01\x5a\x08\x01\x80", "cause IE has 1 bytes, too short for a cause value"),
    ],
)
def test_q931_errors_are_precise(data: bytes, error: str) -> None:
    with pytest.raises(Q931Error, match=re.escape(error)):
        Q931Message.parse(data)


@given(st.binary(max_size=64))
@settings(max_examples=300, deadline=None)
def test_call_message_parse_raises_only_decode_errors(data: bytes) -> None:
    try:
        CallMessage.parse(b"\x08\x02\x00\x01\x05" + data)
    except H323DecodeError:
        pass


# -- H.225.0 PER ---------------------------------------------------------------------------------

BODIES = [
    (
        "setup",
        setup_uuie(
            destination=[Alias.digits("123456789#4321"), Alias.h323_id("123456789")],
            source=[Alias.h323_id("crcgw")],
            conference_id=CONF,
            call_identifier=GUID,
            destination_address=("127.0.0.1", 1720),
            source_address=("::1", 40000),
            fast_start=[b"\x00\x01"],
        ),
    ),
    ("callProceeding", call_proceeding_uuie(GUID)),
    ("alerting", alerting_uuie(GUID)),
    ("connect", connect_uuie(CONF, GUID)),
    ("releaseComplete", release_complete_uuie("inConf", GUID)),
    ("releaseComplete", release_complete_uuie(None, GUID)),
    ("facility", facility_uuie("undefinedReason", GUID, CONF)),
    ("status", status_uuie(GUID)),
    ("empty", {}),
]


@pytest.mark.parametrize(("body", "uuie"), BODIES, ids=[b[0] for b in BODIES])
@pytest.mark.parametrize("control", [(), (b"\x01\x02",)])
def test_user_information_round_trips(
    body: str, uuie: dict[str, object], control: tuple[bytes, ...]
) -> None:
    info = UserInformation(body, uuie, True, control)
    decoded = UserInformation.decode(info.encode())
    assert decoded == info
    if body != "empty":
        assert decoded.protocol_identifier == PROTOCOL_IDENTIFIER


def test_extension_additions_after_an_unaligned_root_decode() -> None:
    """pycrate 0.8 mis-padded this one (reason + callIdentifier); per.py fixes the encoder."""
    data = UserInformation("releaseComplete", release_complete_uuie("inConf", GUID)).encode()
    assert UserInformation.decode(data).release_reason == "inConf"
    assert UserInformation.decode(data).call_identifier == GUID


def test_setup_fields_are_readable() -> None:
    info = UserInformation.decode(UserInformation(*BODIES[0]).encode())
    assert info.aliases() == [
        Alias("dialledDigits", "123456789#4321"),
        Alias("h323-ID", "123456789"),
    ]
    assert info.aliases("sourceAddress") == [Alias("h323-ID", "crcgw")]
    assert info.conference_id == CONF and info.call_identifier == GUID
    assert info.fast_start == (b"\x00\x01",)
    assert transport_from_value(info.uuie["destCallSignalAddress"]) == ("127.0.0.1", 1720)
    assert transport_from_value(info.uuie["sourceCallSignalAddress"]) == ("::1", 40000)


def test_aliases_are_checked() -> None:
    with pytest.raises(ValueError, match="bad 'A'"):
        Alias.digits("123A")
    with pytest.raises(ValueError, match="1-256"):
        Alias.h323_id("")
    assert transport_address("10.0.0.1", 1) == ("ipAddress", {"ip": b"\n\0\0\1", "port": 1})


@pytest.mark.parametrize("data", [b"", b"\xff", b"\x20\xb8\x06\x00\x08\x91", bytes(3)])
def test_undecodable_per_is_a_per_error(data: bytes) -> None:
    with pytest.raises(PerError, match="H323-UserInformation"):
        UserInformation.decode(data)


@given(st.binary(min_size=1, max_size=48))
@settings(max_examples=300, deadline=None)
def test_per_decoder_raises_only_per_errors(data: bytes) -> None:
    try:
        UserInformation.decode(data)
    except PerError:
        pass
