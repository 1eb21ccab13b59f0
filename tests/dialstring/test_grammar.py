"""Every dial-string form of the grammar: build, render, parse, round-trip, and precise errors."""

from __future__ import annotations

import pytest

from signaling.dialstring import DialStringError, DialTarget, parse

# (dial string as written, protocol, meeting, passcode, layout, host key, host, port, canonical)
FORMS = [
    ("12345678901@zoomcrc.com", "sip", "12345678901", None, None, None, "zoomcrc.com", None, None),
    ("12345678901.4321@zoomcrc.com", "sip", "12345678901", "4321", None, None, "zoomcrc.com",
     None, None),
    ("123456789..308@192.168.1.25", "sip", "123456789", None, "308", None, "192.168.1.25", None,
     None),
    ("123456789.12345.308@192.168.1.25", "sip", "123456789", "12345", "308", None,
     "192.168.1.25", None, None),
    ("1234567890.55.11.765432@global.zoomcrc.com", "sip", "1234567890", "55", "11", "765432",
     "global.zoomcrc.com", None, None),
    ("12345678901.4321..876543@zoomcrc.com", "sip", "12345678901", "4321", None, "876543",
     "zoomcrc.com", None, None),
    ("12345678901...876543@zoomcrc.com", "sip", "12345678901", None, None, "876543",
     "zoomcrc.com", None, None),
    ("sip:123456789.1@[2001:db8::7]:5061;transport=tls", "sip", "123456789", "1", None, None,
     "[2001:db8::7]", 5061, "123456789.1@[2001:db8::7]:5061;transport=tls"),
    ("SIP:123456789@Rooms.Example.COM:5070", "sip", "123456789", None, None, None,
     "rooms.example.com", 5070, "123456789@rooms.example.com:5070"),
    ("123456789.@zoomcrc.com", "sip", "123456789", None, None, None, "zoomcrc.com", None,
     "123456789@zoomcrc.com"),
    ("  <sip:123456789.77@zoomcrc.com>\n", "sip", "123456789", "77", None, None, "zoomcrc.com",
     None, "123456789.77@zoomcrc.com"),
    ("162.255.37.11##12345678901", "h323", "12345678901", None, None, None, "162.255.37.11",
     None, None),
    ("162.255.37.11##8695632911#7894676141", "h323", "8695632911", "7894676141", None, None,
     "162.255.37.11", None, None),
    ("192.168.1.25##123456789#12345#308", "h323", "123456789", "12345", "308", None,
     "192.168.1.25", None, None),
    ("192.168.1.25##123456789#12345#308#123456", "h323", "123456789", "12345", "308", "123456",
     "192.168.1.25", None, None),
    ("192.168.1.25##123456789##308", "h323", "123456789", None, "308", None, "192.168.1.25",
     None, None),
    ("192.168.1.25##123456789###123456", "h323", "123456789", None, None, "123456",
     "192.168.1.25", None, None),
    ("[::1]:1720##123456789#1", "h323", "123456789", "1", None, None, "[::1]", 1720, None),
    ("gk.example.net##123456789#", "h323", "123456789", None, None, None, "gk.example.net",
     None, "gk.example.net##123456789"),
]


@pytest.mark.parametrize("form", FORMS, ids=[f[0].strip() for f in FORMS])
def test_form_parses_to_its_fields_and_round_trips(form: tuple[object, ...]) -> None:
    text, protocol, mid, passcode, layout, host_key, host, port, canonical = form
    assert isinstance(text, str)
    target = parse(text)
    assert (target.protocol, target.meeting_id, target.passcode, target.layout,
            target.host_key, target.host, target.port) == (protocol, mid, passcode, layout,
                                                           host_key, host, port)
    assert target.dial_string() == (canonical or text)
    assert parse(target.dial_string()) == target


@pytest.mark.parametrize("form", FORMS, ids=[f[0].strip() for f in FORMS])
def test_builder_gives_the_same_target(form: tuple[object, ...]) -> None:
    _, protocol, mid, passcode, layout, host_key, host, port, _ = form
    parsed = parse(str(form[0]))
    if protocol == "sip":
        built = DialTarget.sip(
            str(mid), passcode=passcode, layout=layout, host_key=host_key, host=str(host),
            port=port, params=parsed.params, scheme=parsed.scheme,
        )
        assert built.sip_uri() == parsed.sip_uri()
    else:
        built = DialTarget.h323(
            str(mid), host=str(host), passcode=passcode, layout=layout, host_key=host_key,
            port=port,
        )
    assert built == parsed


def test_scheme_and_params_are_kept_in_the_uri() -> None:
    target = parse("sips:12345678901.4321@zoomcrc.com;transport=tls;x-room=7")
    assert target.scheme == "sips"
    assert target.params == ";transport=tls;x-room=7"
    assert target.sip_uri() == "sips:12345678901.4321@zoomcrc.com;transport=tls;x-room=7"
    assert target.dial_string() == "12345678901.4321@zoomcrc.com;transport=tls;x-room=7"


def test_builders_normalise_typed_meeting_ids() -> None:
    assert DialTarget.sip("123 4567 8901").meeting_id == "12345678901"
    assert DialTarget.sip("123-4567-8901", passcode="").passcode is None
    assert DialTarget.h323(12345678901, host="162.255.36.11").dial_string() == (
        "162.255.36.11##12345678901"
    )
    assert DialTarget.sip(123456789, host="2001:db8::1" and "[2001:DB8::0001]").host == (
        "[2001:db8::1]"
    )


def test_equality_is_by_value_not_by_tuple() -> None:
    a = parse("123456789@zoomcrc.com")
    assert a == DialTarget.sip("123456789")
    assert a != tuple(a)
    assert hash(a) == hash(DialTarget.sip("123456789"))
    assert parse("sips:123456789@zoomcrc.com") == a  # scheme is how it was written


def test_repr_hides_passcode_and_host_key() -> None:
    shown = repr(parse("12345678901.4321..876543@zoomcrc.com"))
    assert "4321" not in shown and "876543" not in shown
    assert "passcode=***" in shown and "host_key=***" in shown


def test_sip_uri_is_for_sip_only() -> None:
    with pytest.raises(DialStringError, match="protocol: sip_uri"):
        parse("162.255.37.11##123456789").sip_uri()


INVALID = [
    # (input, field, message fragment)
    ("1234@zoomcrc.com", "meeting_id", "must be 9 to 11 digits (got '1234')"),
    ("123456789012@zoomcrc.com", "meeting_id", "9 to 11 digits"),
    ("123-456-789@zoomcrc.com", "meeting_id", "no spaces or dashes"),
    (".1234@zoomcrc.com", "meeting_id", "may not be empty"),
    ("123456789.12a@zoomcrc.com", "passcode", "1 to 10 digits"),
    ("123456789.12345678901@zoomcrc.com", "passcode", "1 to 10 digits"),
    ("123456789.1.3O8@zoomcrc.com", "layout", "numeric layout code"),
    ("123456789.1.12345@zoomcrc.com", "layout", "1 to 4 digits"),
    ("123456789...12345@zoomcrc.com", "host_key", "6 to 10 digits"),
    ("123456789...12345678901@zoomcrc.com", "host_key", "6 to 10 digits"),
    ("123456789.1.2.123456.9@zoomcrc.com", "dial_string", "has 5 fields, at most 4"),
    ("123456789@", "host", "is missing"),
    ("123456789@300.1.1.1", "host", "not a valid IPv4 address"),
    ("123456789@2001:db8::1", "host", "must be written in brackets: [2001:db8::1]"),
    ("123456789@[2001:db8::zz]", "host", "not a valid IPv6 address"),
    ("123456789@zoom_crc.com", "host", "not a valid host name"),
    ("123456789@zoomcrc.com:0", "port", "1 to 65535"),
    ("123456789@zoomcrc.com:70000", "port", "1 to 65535"),
    ("123456789@zoomcrc.com;=x", "params", "not a valid URI parameter"),
    ("123456789@zoomcrc.com?Subject=x", "params", "URI headers"),
    ("tel:123456789@zoomcrc.com", "scheme", "sip: or sips:"),
    ("123456789@a@b", "dial_string", "more than one '@'"),
    ("123456789", "dial_string", "neither SIP"),
    ("", "dial_string", "is empty"),
    ("##123456789", "host", "H.323 dial string starts with the CRC IP"),
    ("1.2.3.4##12345", "meeting_id", "9 to 11 digits"),
    ("1.2.3.4##123456789#x", "passcode", "1 to 10 digits"),
    ("1.2.3.4##123456789#1#2#3", "host_key", "6 to 10 digits"),
    ("1.2.3.4##123456789#1#2#123456#5", "dial_string", "at most 4 (MEETING#PASSCODE"),
    ("1.2.3.4:99999##123456789", "port", "1 to 65535"),
]


@pytest.mark.parametrize(("text", "field", "fragment"), INVALID, ids=[i[0] or "empty" for i in INVALID])
def test_invalid_input_names_field_and_rule(text: str, field: str, fragment: str) -> None:
    with pytest.raises(DialStringError) as caught:
        parse(text)
    assert caught.value.field == field
    assert fragment in str(caught.value)
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"meeting_id": "12 34"}, "meeting_id"),
        ({"meeting_id": "123456789", "passcode": "abc"}, "passcode"),
        ({"meeting_id": "123456789", "layout": "x"}, "layout"),
        ({"meeting_id": "123456789", "host_key": "1"}, "host_key"),
        ({"meeting_id": "123456789", "host": "bad host"}, "host"),
        ({"meeting_id": "123456789", "port": 0}, "port"),
        ({"meeting_id": "123456789", "params": "transport=tls"}, "params"),
    ],
)
def test_builder_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(DialStringError) as caught:
        DialTarget.sip(**kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_h323_builder_needs_a_host() -> None:
    with pytest.raises(DialStringError, match="host: is missing"):
        DialTarget.h323("123456789", host=" ")


def test_parse_rejects_non_text() -> None:
    with pytest.raises(DialStringError, match="must be text"):
        parse(123456789)  # type: ignore[arg-type]
