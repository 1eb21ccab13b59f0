"""Targets from the seed's and the real Zoom sip_dialing answers; the IVR digit plan."""

from __future__ import annotations

import pytest

from signaling.dialstring import (
    DialStringError,
    DialTarget,
    find_region,
    from_seed_sip_dialing,
    from_zoom_sip_dialing,
    ivr_steps,
    split_for_ivr,
)


def test_seed_answer_with_numeric_password() -> None:
    info = from_seed_sip_dialing(
        {"sip_dialing": {"uri": "12345678910@zoomcrc.com", "password": "556677",
                         "ip_addresses": ["162.255.37.11", "162.255.36.11"]}}
    )
    assert info.source.startswith("seed:")
    assert [t.dial_string() for t in info.targets] == [
        "12345678910.556677@zoomcrc.com",
        "162.255.37.11##12345678910#556677",
        "162.255.36.11##12345678910#556677",
    ]
    assert info.h323_labels == ("US West", "US East")


def test_seed_answer_as_printed_in_the_seed_keeps_the_web_password_out() -> None:
    # The seed's example password "abc123" is not a room-system passcode.
    info = from_seed_sip_dialing(
        {"sip_dialing": {"uri": "12345678910@zoomcrc.com", "password": "abc123",
                         "ip_addresses": ["162.255.37.11"]}}
    )
    assert info.passcode is None
    assert info.sip_targets[0].dial_string() == "12345678910@zoomcrc.com"
    assert "not a numeric room-system passcode" in info.problems[0]


def test_real_zoom_answer_keeps_the_uri_opaque() -> None:
    answer = {"sip_dialing": "98765432109.Xy7Qp2a9..z@zoomcrc.com", "paid_crc_plan_participant": True,
              "participant_identifier_code": "Xy7Qp2a9", "expire_in": 7200}
    info = from_zoom_sip_dialing(answer, "987 6543 2109")
    assert info.opaque_sip_uri == "sip:98765432109.Xy7Qp2a9..z@zoomcrc.com"
    assert info.expires_in == 7200
    assert info.meeting_id == "98765432109"
    assert info.sip_targets == ()
    assert "dial it as given" in info.problems[0]


def test_real_zoom_answer_that_follows_the_grammar_is_also_parsed() -> None:
    info = from_zoom_sip_dialing({"sip_dialing": "sip:98765432109.1234@zoomcrc.com"}, 98765432109)
    assert info.sip_targets[0].passcode == "1234"
    assert info.opaque_sip_uri == "sip:98765432109.1234@zoomcrc.com"


@pytest.mark.parametrize(
    "answer",
    [{}, {"sip_dialing": 5}, {"sip_dialing": {"password": "1"}},
     {"sip_dialing": {"uri": "1@zoomcrc.com"}}],
)
def test_malformed_answers_raise(answer: dict[str, object]) -> None:
    with pytest.raises(DialStringError):
        from_seed_sip_dialing(answer)


def test_ivr_sequence_after_answer() -> None:
    target = DialTarget.sip("12345678901", passcode="4321", host_key="876543")
    dial, steps = split_for_ivr(target, first_delay_s=2.0, gap_s=1.5)
    assert dial.dial_string() == "12345678901@zoomcrc.com"
    assert [(s.field, s.digits, s.at_s) for s in steps] == [
        ("passcode", "4321#", 2.0),
        ("host_key", "876543#", 3.5),
    ]
    assert "4321" not in repr(steps)


def test_ivr_with_meeting_id_when_dialling_the_bare_connector() -> None:
    steps = ivr_steps(DialTarget.sip("123456789", passcode="1"), meeting_id_in_uri=False)
    assert [s.digits for s in steps] == ["123456789#", "1#"]
    assert ivr_steps(DialTarget.sip("123456789")) == ()
    with pytest.raises(ValueError, match="IVR delays must be >= 0"):
        ivr_steps(DialTarget.sip("123456789"), gap_s=-1)


@pytest.mark.parametrize("name", ["us-west", "US West", "emea", "Hong Kong", "japan"])
def test_regions_resolve_by_slug_label_or_old_label(name: str) -> None:
    assert find_region(name).address in {"162.255.37.11", "213.19.144.110", "209.9.211.110",
                                         "207.226.132.110"}


def test_unknown_region_lists_the_known_ones() -> None:
    with pytest.raises(DialStringError, match="region: is not a known CRC region; one of: us-west"):
        find_region("atlantis")
