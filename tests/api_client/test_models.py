"""Models: the seeds' bounds on what is sent, tolerance for what is answered, secrets masked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from api_client.models import (
    ConferenceRoom,
    ConferenceRoomCreate,
    ConferenceRoomPage,
    CrcSettings,
    H323DeviceCreate,
    PhoneNumberPage,
    PortingOrderCreate,
    ProvisionNumbers,
    SipPhone,
    SipPhoneCreate,
    SipTrunkSettings,
)

ROOM = {"extension_number": "8001", "mode": "VIDEO", "subject": "Board"}


def errors_of(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.value.errors()}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("extension_number", "12"),
        ("extension_number", "12a4"),
        ("extension_number", "1" * 65),
        ("mode", "HOLOGRAM"),
        ("control", "ANARCHY"),
        ("width", 143),
        ("width", 1921),
        ("height", 143),
        ("height", 1921),
        ("bitrate", 127),
        ("bitrate", 10241),
        ("framerate", 4),
        ("framerate", 31),
        ("layout", "LAYOUT5"),
        ("capacity", 0),
        ("capacity", 201),
        ("admin_pin", "12"),
        ("admin_pin", "1234567"),
        ("room_pin", "12a4"),
        ("subject", ""),
        ("subject", "x" * 65),
        ("timezone", "Mars/Olympus_Mons"),
        ("language", "english please"),
        ("scheduled_start_at", "2017-07-21T17:32:28"),  # no offset: not RFC 3339
        ("scheduled_end_at", "yesterday"),
        ("numbers", "1" * 129),
        ("custom_options", "{not json"),
        ("surprise", 1),  # unknown fields are refused on what the client sends
    ],
)
def test_conference_room_bounds(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        ConferenceRoomCreate.model_validate({**ROOM, field: value})
    assert errors_of(caught) == {field}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("extension_number", "123"),
        ("extension_number", "1" * 64),
        ("width", 144),
        ("height", 1920),
        ("bitrate", 128),
        ("bitrate", 10240),
        ("framerate", 5),
        ("framerate", 30),
        ("capacity", 1),
        ("capacity", 200),
        ("admin_pin", "123"),
        ("room_pin", "123456"),
        ("layout", "LAYOUT6"),
        ("timezone", "Asia/Shanghai"),
        ("language", "en-US"),
        ("language", "zh-Hant-TW"),
        ("scheduled_start_at", "2017-07-21T17:32:28Z"),
        ("scheduled_end_at", "2017-07-21T19:32:28+08:00"),
        ("numbers", "1" * 128),
        ("custom_options", '{"k": [1, 2]}'),
    ],
)
def test_conference_room_edges_are_accepted(field: str, value: Any) -> None:
    room = ConferenceRoomCreate.model_validate({**ROOM, field: value})
    wire = room.to_wire()
    if field.endswith("_at"):
        assert wire[field].endswith(("Z", "+08:00"))
    else:
        assert wire[field] == value


def test_room_defaults_and_wire_format() -> None:
    wire = ConferenceRoomCreate.model_validate(ROOM).to_wire()
    assert wire == {**ROOM, "capacity": 9}


def test_answers_tolerate_unknown_fields_and_keep_them() -> None:
    answer = {"id": "r1", "extension_number": "8001", "future_field": {"a": 1}, "sbc_port": 8883}
    room = ConferenceRoom.model_validate_json(json.dumps(answer))
    assert room.model_extra == {"future_field": {"a": 1}}
    dumped = room.model_dump(mode="json", exclude_none=True)
    assert dumped["future_field"] == {"a": 1}
    assert ConferenceRoom.model_validate(dumped) == room


def test_answers_are_still_checked_against_the_bounds() -> None:
    with pytest.raises(ValidationError) as caught:
        ConferenceRoomPage.model_validate({"count": 1, "items": [{"id": "r", "capacity": 500}]})
    assert errors_of(caught) == {"items.0.capacity"}


def test_secrets_are_masked_everywhere_but_on_the_wire() -> None:
    room = ConferenceRoomCreate.model_validate({**ROOM, "admin_pin": "9876", "room_pin": "1234"})
    for text in (repr(room), str(room), room.model_dump_json(), json.dumps(room.model_dump(mode="json"))):
        assert "9876" not in text and "1234" not in text
    assert room.to_wire()["admin_pin"] == "9876"
    phone = SipPhoneCreate(authorization_name="a", domain="sip.example.com", user_name="u",
                           password="hunter2")
    assert "hunter2" not in repr(phone) and phone.to_wire()["password"] == "hunter2"
    porting = PortingOrderCreate.model_validate({
        "phone_numbers": ["+14155559999"], "carrier_name": "c", "account_number": "777000",
        "account_pin": "4242", "authorized_person": "p",
        "billing_address": {"address": "a", "city": "c", "state": "s", "zip": "z"}})
    assert "4242" not in repr(porting) and "777000" not in porting.model_dump_json()


def test_unknown_secret_looking_answer_fields_are_masked() -> None:
    phone = SipPhone.model_validate({"id": "p", "sip_password": "leak-me", "next_page_token": "t"})
    assert "leak-me" not in repr(phone) and "leak-me" not in phone.model_dump_json()
    assert phone.model_extra is not None and phone.model_extra["next_page_token"] == "t"


def test_validation_errors_do_not_echo_secrets() -> None:
    with pytest.raises(ValidationError) as caught:
        ConferenceRoomCreate.model_validate({**ROOM, "room_pin": "12x45"})
    assert "12x45" not in str(caught.value)


def test_seed_examples_validate() -> None:
    crc = CrcSettings.model_validate_json(
        '{"enabled": true, "sip_uri": "meeting_id@zoomcrc.com", "h323_ip_addresses": '
        '["162.255.37.11", "162.255.36.11"], "ports_allocated": 10, "ports_in_use": 3}'
    )
    assert crc.ports_available == 7
    assert H323DeviceCreate(name="n", protocol="SIP", ip="10.0.0.1").encryption == "auto"
    with pytest.raises(ValidationError):
        ProvisionNumbers(phone_numbers=["4155551001"])  # not E.164
    with pytest.raises(ValidationError):
        SipPhoneCreate.model_validate({"authorization_name": "a", "domain": "d", "user_name": "u",
                                       "password": "p", "transport_protocol": "SCTP"})


def test_sip_trunk_form_follows_the_seed() -> None:
    settings = SipTrunkSettings(enable=False, show_callout_internal_number=False,
                                show_zoom_provided_callout_countries=0, show_zoom_provided_numbers=2)
    assert settings.to_form() == {
        "enable": "false",
        "show_callout_internal_number": "false",
        "show_zoom_provided_callout_countries": "0",
        "show_zoom_provided_numbers": "2",
    }
    assert SipTrunkSettings().to_form() == {}
    with pytest.raises(ValidationError):
        SipTrunkSettings.model_validate({"show_zoom_provided_numbers": 50968347})


def test_page_of_300_numbers_validates() -> None:
    items = [{"id": f"n{i}", "phone_number": f"+1415555{i:04d}", "type": "local",
              "capabilities": ["voice", "sms"], "status": "active"} for i in range(300)]
    page = PhoneNumberPage.model_validate_json(json.dumps({"phone_numbers": items, "next_page_token": ""}))
    assert len(page.phone_numbers) == 300 and page.phone_numbers[-1].phone_number == "+14155550299"
