"""Property tests: every valid target survives dial_string() -> parse(), via the CLI too."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from signaling.dialstring import CRC_REGIONS, DialStringError, DialTarget, parse

digits = st.text(alphabet="0123456789", min_size=1, max_size=1)
meeting_ids = st.integers(min_value=9, max_value=11).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)
passcodes = st.none() | st.text(alphabet="0123456789", min_size=1, max_size=10)
layouts = st.none() | st.text(alphabet="0123456789", min_size=1, max_size=4)
host_keys = st.none() | st.text(alphabet="0123456789", min_size=6, max_size=10)
ports = st.none() | st.integers(min_value=1, max_value=65535)
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
dns_names = st.lists(label, min_size=2, max_size=4).map(".".join).filter(
    lambda name: not name.replace(".", "").isdigit()
)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(lambda a: f"[{ipaddress.IPv6Address(a).compressed}]")
hosts = (
    st.sampled_from(["zoomcrc.com", "global.zoomcrc.com"])
    | st.sampled_from([r.address for r in CRC_REGIONS])
    | ipv4
    | ipv6
    | dns_names
)
params = st.sampled_from(["", ";transport=tls", ";transport=tcp", ";transport=udp;lr"])


@st.composite
def targets(draw: st.DrawFn) -> DialTarget:
    common = {
        "passcode": draw(passcodes),
        "layout": draw(layouts),
        "host_key": draw(host_keys),
        "host": draw(hosts),
        "port": draw(ports),
    }
    if draw(st.booleans()):
        return DialTarget.sip(draw(meeting_ids), params=draw(params), **common)  # type: ignore[arg-type]
    return DialTarget.h323(draw(meeting_ids), **common)  # type: ignore[arg-type]


@given(targets())
def test_parse_of_dial_string_is_identity(target: DialTarget) -> None:
    assert parse(target.dial_string()) == target
    if target.protocol == "sip":
        assert parse(target.sip_uri()) == target


@given(targets())
def test_interior_empty_fields_keep_their_separators(target: DialTarget) -> None:
    user = target.user_part()
    separator = "." if target.protocol == "sip" else "#"
    fields = user.split(separator)
    present = [target.passcode, target.layout, target.host_key]
    # the rendered field count reaches the last present field and no further
    last = max((i + 1 for i, value in enumerate(present) if value), default=0)
    assert len(fields) == 1 + last
    assert fields[0] == target.meeting_id


@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_dial_string_error(text: str) -> None:
    try:
        target = parse(text)
    except DialStringError as exc:
        assert exc.field and str(exc).startswith(exc.field + ": ")
    else:
        assert parse(target.dial_string()) == target


@given(meeting_ids, st.sampled_from([" ", "-", " - "]))
def test_typed_separators_are_normalised_by_builders(mid: str, sep: str) -> None:
    typed = sep.join([mid[:3], mid[3:7], mid[7:]]).strip(sep)
    assert DialTarget.sip(typed).meeting_id == mid
