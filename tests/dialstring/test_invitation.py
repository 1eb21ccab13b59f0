"""Invitation texts with 2, 14 and 17 H.323 addresses, CRLF, bullets and older wording."""

from __future__ import annotations

from pathlib import Path

import pytest

from signaling.dialstring import CRC_REGIONS, DialStringError, parse_invitation

HERE = Path(__file__).parent / "invitations"


@pytest.mark.parametrize(
    ("name", "count"),
    [("two_addresses.txt", 2), ("fourteen_addresses_crlf.txt", 14), ("seventeen_addresses.txt", 17)],
)
def test_every_listed_h323_address_becomes_a_target(name: str, count: int) -> None:
    info = parse_invitation((HERE / name).read_text(encoding="utf-8"))
    assert info.meeting_id == "82419374650"
    assert info.passcode == "6083311947"  # the H.323 block's, not the web "Lighthouse7"
    assert len(info.h323_targets) == count
    assert [t.dial_string() for t in info.h323_targets][:2] == [
        "162.255.37.11##82419374650#6083311947",
        "162.255.36.11##82419374650#6083311947",
    ]
    assert len(set(t.host for t in info.h323_targets)) == count
    assert info.h323_labels[0] == "US West"
    assert [t.sip_uri() for t in info.sip_targets] == ["sip:82419374650.6083311947@zoomcrc.com"]
    assert info.problems == ()


def test_seventeen_addresses_are_the_region_table() -> None:
    info = parse_invitation((HERE / "seventeen_addresses.txt").read_text(encoding="utf-8"))
    assert [t.host for t in info.h323_targets] == [r.address for r in CRC_REGIONS]
    assert list(info.h323_labels) == [r.label for r in CRC_REGIONS]


def test_older_wording_with_or_lists_and_password() -> None:
    info = parse_invitation((HERE / "older_wording.txt").read_text(encoding="utf-8"))
    assert info.passcode == "036740"
    assert [t.dial_string() for t in info.sip_targets] == [
        "937557828.036740@zoomcrc.com",
        "937557828.036740@192.0.2.10",
    ]
    assert [t.dial_string() for t in info.h323_targets] == [
        "162.255.37.11##937557828#036740",
        "213.19.144.110##937557828#036740",
    ]
    assert info.h323_labels == ("US West", "EMEA")


def test_invitation_without_h323_passcode_never_uses_the_web_passcode() -> None:
    text = (
        "Meeting ID: 824 1937 4650\nPasscode: 445566\n\nJoin by SIP\n82419374650@zoomcrc.com\n\n"
        "Join by H.323\n162.255.37.11 (US West)\n"
    )
    info = parse_invitation(text)
    assert info.passcode is None
    assert info.sip_targets[0].passcode is None
    assert info.h323_targets[0].dial_string() == "162.255.37.11##82419374650"


def test_bad_sip_line_is_reported_not_fatal() -> None:
    text = "Join by SIP\n1231231231234@zoomabc.com\n\nJoin by H.323\n162.255.37.11 (US West)\n" \
        "Meeting ID: 123 1234 1234\nPasscode: 44730043\n"
    info = parse_invitation(text)
    assert info.sip_targets == ()
    assert len(info.h323_targets) == 1
    assert "meeting_id" in info.problems[0]


def test_text_without_join_blocks_is_an_error() -> None:
    with pytest.raises(DialStringError, match="invitation: has no 'Join by SIP'"):
        parse_invitation("Topic: nothing to see\nMeeting ID: 123 456 789\n")


def test_alphanumeric_h323_passcode_is_an_error() -> None:
    with pytest.raises(DialStringError, match="passcode: the H.323 block's passcode must be digits"):
        parse_invitation("Join by H.323\n162.255.37.11 (US West)\nMeeting ID: 123456789\nPasscode: abc\n")
