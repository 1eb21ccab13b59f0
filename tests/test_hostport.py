"""The one HOST[:PORT] reader (signaling.hostport) and every place that reads addresses with it:
IPv6 literals, missing and bad ports, bad hosts, each with a clear error naming the rule."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.config import parse_host_port as config_host_port
from gateway.config import parse_listen
from gateway.testdial.target import TargetError, TargetRequest, parse_meeting
from signaling.dialstring import DialStringError, DialTarget, parse, split_host_port
from signaling.hostport import HostPort, HostPortError, parse_host_port
from signaling.ladder import _host as ladder_host
from signaling.sip.address import parse_host_port as sip_host_port
from signaling.sip.errors import SipConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("127.0.0.1", {}, HostPort("127.0.0.1")),
        ("127.0.0.1:5070", {}, HostPort("127.0.0.1", 5070)),
        (" PBX.Example.com.:5061 ", {}, HostPort("pbx.example.com", 5061)),
        ("[::1]", {}, HostPort("::1")),
        ("[::1]:5061", {}, HostPort("::1", 5061)),
        ("[2001:DB8::0001]:5060", {}, HostPort("2001:db8::1", 5060)),
        ("::1", {"bare_ipv6": True}, HostPort("::1")),
        # a bare IPv6 address never carries a port: the last group is part of the address
        ("2001:db8::1:5060", {"bare_ipv6": True}, HostPort("2001:db8::1:5060")),
        ("zoomcrc.com", {"default_port": 5060}, HostPort("zoomcrc.com", 5060)),
        ("[::1]", {"default_port": 1720}, HostPort("::1", 1720)),
        ("0.0.0.0:0", {"zero_port": True}, HostPort("0.0.0.0", 0)),
    ],
)
def test_addresses_read(text: str, kwargs: dict[str, object], expected: HostPort) -> None:
    assert parse_host_port(text, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "field", "rule"),
    [
        ("", "host", "is missing"),
        (":5060", "host", "is missing"),
        ("host:", "port", "is missing after ':'"),
        ("[::1]:", "port", "is missing after ':'"),
        ("host:0", "port", "must be a number from 1 to 65535"),
        ("host:65536", "port", "must be a number from 1 to 65535"),
        ("host:-1", "port", "must be a number from 1 to 65535"),
        ("host:http", "port", "must be a number from 1 to 65535"),
        ("host:\u0665\u0660", "port", "must be a number from 1 to 65535"),  # Arabic digits
        ("host:5060:1", "host", "not a valid host name or address"),
        ("::1", "host", "must be written in brackets: [::1]"),
        ("2001:DB8::1", "host", "must be written in brackets: [2001:db8::1]"),
        ("[::1", "host", "must be closed by ']'"),
        ("[::1]5060", "host", "only ':PORT' may follow ']'"),
        ("[1.2.3.4]:5060", "host", "not a valid IPv6 address"),
        ("[::zz]", "host", "not a valid IPv6 address"),
        ("300.1.1.1", "host", "not a valid IPv4 address"),
        ("bad host:5060", "host", "not a valid host name"),
        ("under_score.example", "host", "not a valid host name"),
    ],
)
def test_bad_addresses_name_the_field_and_the_rule(text: str, field: str, rule: str) -> None:
    with pytest.raises(HostPortError) as caught:
        parse_host_port(text)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert str(caught.value).startswith(f"{field}: ")
    assert repr(text) in str(caught.value) or text.strip() == ""


def test_zero_port_only_where_a_socket_is_bound() -> None:
    with pytest.raises(HostPortError, match="from 0 to 65535"):
        parse_host_port("h:70000", zero_port=True)
    assert parse_listen("udp://[::1]:0") == ("udp", "::1", 0)
    assert config_host_port("0.0.0.0:0", 8080, zero_port=True) == ("0.0.0.0", 0)
    with pytest.raises(ValueError, match="port: must be a number from 1 to 65535"):
        config_host_port("pbx.example.com:0")  # a registrar on port 0 is a mistake


def test_every_user_reads_the_same_address_the_same_way() -> None:
    """The dial-string grammar, the SIP core and the configuration agree (each in its own
    spelling of IPv6: the dial string keeps the brackets of what it will write back)."""
    assert split_host_port("[2001:DB8::7]:5061") == ("[2001:db8::7]", 5061)
    assert sip_host_port("[2001:DB8::7]:5061") == HostPort("2001:db8::7", 5061)
    assert config_host_port("[2001:DB8::7]:5061") == ("2001:db8::7", 5061)
    assert parse("123456789@[2001:DB8::7]:5061").host_port() == "[2001:db8::7]:5061"
    assert ladder_host("[2001:db8::7]:5061") == "2001:db8::7"
    assert ladder_host("10.0.0.1:5060") == "10.0.0.1"
    for bad in ("host:0", "[::1", "host:"):
        with pytest.raises(DialStringError):
            split_host_port(bad)
        with pytest.raises(SipConfigError):
            sip_host_port(bad)
        with pytest.raises(ValueError):
            config_host_port(bad)
    with pytest.raises(SipConfigError, match=r"bad address 'host:99999': port must be"):
        sip_host_port("host:99999")


def test_dial_string_hosts_keep_their_messages() -> None:
    with pytest.raises(DialStringError) as caught:
        DialTarget.sip("123456789", host="2001:db8::1")
    assert caught.value.field == "host" and "brackets: [2001:db8::1]" in caught.value.rule
    with pytest.raises(DialStringError) as caught:
        parse("123456789@zoomcrc.com:70000")
    assert caught.value.field == "port"


def test_test_dial_host_option_takes_ipv6_with_a_port() -> None:
    target = parse_meeting(TargetRequest(meeting="123456789", protocol="h323", host="[::1]:1721"))
    assert isinstance(target, DialTarget)
    assert (target.host, target.port) == ("[::1]", 1721)
    target = parse_meeting(TargetRequest(meeting="123456789", host="[2001:db8::2]"))
    assert isinstance(target, DialTarget) and target.host == "[2001:db8::2]"
    with pytest.raises(TargetError, match="--host: bad address"):
        parse_meeting(TargetRequest(meeting="123456789", host="pbx:0"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["h323-dial", "127.0.0.1##123456789", "--gatekeeper", "[::1]:abc"],
         "--gatekeeper: port: must be a number from 1 to 65535"),
        (["register-h323", "--gatekeeper", "gk:", "--alias", "room"],
         "--gatekeeper: port: is missing after ':'"),
    ],
)
def test_h323_commands_refuse_bad_addresses_cleanly(argv: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", "gateway", *argv], capture_output=True,
                          text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
