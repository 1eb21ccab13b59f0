"""The SIP core's pure logic, without pjsua2 or peers."""

from __future__ import annotations

import asyncio
import random

import pytest

from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import ivr_steps
from signaling.sip.address import (
    HostPort,
    add_transport_param,
    dial_uri,
    parse_host_port,
    registrar_uri,
)
from signaling.sip.autoselect import TransportMemory, auto_candidates, probe_port
from signaling.sip.codecs import codec_priorities
from signaling.sip.config import (
    CallOptions,
    EndpointConfig,
    EngineConfig,
    NatSettings,
    RetryPolicy,
    TlsSettings,
    endpoint_from_sip_phone,
)
from signaling.sip.dtmf import SETTLE_S, DtmfSend, check_digits, dtmf_plan, hold_s, plan_done_s
from signaling.sip.errors import SipConfigError
from signaling.sip.eventlog import EventLog
from signaling.sip.expiry import expires_from_zoom_minutes, zoom_minutes_from_expires
from signaling.sip.explain import explain_call_end, explain_registration_failure
from signaling.sip.retry import retry_delay
from signaling.sip.types import Transport

# -- Zoom minutes <-> SIP seconds ------------------------------------------------------------------


@pytest.mark.parametrize(("minutes", "seconds"), [(1, 60), (60, 3600), ("5", 300), (0.5, 30)])
def test_zoom_minutes_become_sip_seconds(minutes: object, seconds: int) -> None:
    assert expires_from_zoom_minutes(minutes) == seconds  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -5, "abc", None, float("nan")])
def test_zoom_minutes_reject_nonsense(bad: object) -> None:
    with pytest.raises(ValueError, match="registration_expire_time"):
        expires_from_zoom_minutes(bad)  # type: ignore[arg-type]


def test_sip_seconds_round_up_to_zoom_minutes() -> None:
    assert [zoom_minutes_from_expires(s) for s in (1, 59, 60, 61, 3600)] == [1, 1, 1, 2, 60]
    with pytest.raises(ValueError):
        zoom_minutes_from_expires(0)


def test_sip_phone_record_converts_minutes_at_the_boundary() -> None:
    phone = {
        "user_name": "conference_room_1",
        "password": "secure_password",
        "authorization_name": "conf-room-1",
        "domain": "sip.company.com",
        "register_server": "10.1.2.3:5080",
        "proxy_server": "10.1.2.4",
        "transport_protocol": "TLS",
        "registration_expire_time": 60,
    }
    endpoint = endpoint_from_sip_phone(phone)
    assert endpoint.expires_s == 3600
    assert endpoint.transport is Transport.TLS
    assert endpoint.auth_user == "conf-room-1"
    assert endpoint.aor == "sip:conference_room_1@sip.company.com"
    assert endpoint.proxy_address == HostPort("10.1.2.4")
    assert "secure_password" not in repr(endpoint)


def test_sip_phone_nested_server_form() -> None:
    phone = {
        "user_name": "room2",
        "password": "pw",
        "registration_expire_time": 2,
        "server": {"register_server": "pbx.example.com", "transport_protocol": "AUTO"},
    }
    endpoint = endpoint_from_sip_phone(phone)
    assert (endpoint.expires_s, endpoint.transport) == (120, Transport.AUTO)
    with pytest.raises(SipConfigError, match="transport_protocol"):
        endpoint_from_sip_phone(
            {**phone, "server": {"register_server": "x", "transport_protocol": "SCTP"}}
        )


# -- addresses and URIs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", HostPort("127.0.0.1")),
        ("127.0.0.1:5070", HostPort("127.0.0.1", 5070)),
        ("[::1]:5061", HostPort("::1", 5061)),
        ("::1", HostPort("::1")),
        ("pbx.example.com:5060", HostPort("pbx.example.com", 5060)),
    ],
)
def test_parse_host_port(text: str, expected: HostPort) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    "bad", ["", "host:0", "host:70000", "[::1", "[1.2.3.4]", "bad host", "a:b"]
)
def test_parse_host_port_rejects(bad: str) -> None:
    with pytest.raises(SipConfigError):
        parse_host_port(bad)


def test_registrar_uris_per_transport() -> None:
    address = parse_host_port("[::1]")
    assert registrar_uri(address, Transport.UDP) == "sip:[::1]:5060;transport=udp"
    assert registrar_uri(address, Transport.TLS) == "sip:[::1]:5061;transport=tls"
    assert (
        registrar_uri(parse_host_port("pbx.example.com"), Transport.AUTO) == "sip:pbx.example.com"
    )


def test_dial_uri_from_targets() -> None:
    target = DialTarget.sip("123456789", passcode="1234", host="127.0.0.1", port=5070)
    assert dial_uri(target) == "sip:123456789.1234@127.0.0.1:5070"
    assert dial_uri("123456789@zoomcrc.com") == "sip:123456789@zoomcrc.com"
    assert dial_uri("sip:bob@127.0.0.1:5070") == "sip:bob@127.0.0.1:5070"
    with pytest.raises(SipConfigError, match="H.323"):
        dial_uri("162.255.37.11##123456789")
    with pytest.raises(SipConfigError):
        dial_uri("not a target at all")


def test_transport_param_added_once() -> None:
    assert add_transport_param("sip:a@h", Transport.TCP) == "sip:a@h;transport=tcp"
    assert add_transport_param("sip:a@h;transport=tls", Transport.TCP) == "sip:a@h;transport=tls"
    assert add_transport_param("sip:a@h", Transport.UDP) == "sip:a@h"


# -- settings -------------------------------------------------------------------------------------


def test_config_validation_names_the_field() -> None:
    with pytest.raises(SipConfigError, match="codecs"):
        EngineConfig(codecs=("G729",))
    with pytest.raises(SipConfigError, match="transports"):
        EngineConfig(transports=(Transport.AUTO,))
    with pytest.raises(SipConfigError, match="cert_file and key_file"):
        TlsSettings(cert_file="c.pem")
    with pytest.raises(SipConfigError, match="expires_s"):
        EndpointConfig("r", "u", registrar="h", expires_s=0)
    with pytest.raises(SipConfigError, match="bad user"):
        EndpointConfig("r", "u@x")
    with pytest.raises(SipConfigError, match="timeout_s"):
        CallOptions(timeout_s=0)
    with pytest.raises(SipConfigError, match="symmetric_rtp"):
        NatSettings(symmetric_rtp=False)


def test_endpoint_without_registrar_never_registers() -> None:
    endpoint = EndpointConfig("direct", "crcgw", domain="127.0.0.1")
    assert endpoint.register is False
    assert endpoint.aor == "sip:crcgw@127.0.0.1"
    assert endpoint.proxy_address is None


def test_tls_verification_is_on_by_default() -> None:
    assert TlsSettings().verify is True
    assert TlsSettings().min_version == "1.2"


# -- explanations ---------------------------------------------------------------------------------


def test_explanations_name_endpoint_transport_and_cause() -> None:
    def text(
        code: int | None, reason: str, transport: Transport = Transport.UDP, **kw: object
    ) -> str:
        return explain_registration_failure("room7", transport, "10.0.0.5:5060", code, reason, **kw)  # type: ignore[arg-type]

    assert "room7" in text(403, "Forbidden") and "UDP" in text(403, "Forbidden")
    assert "credentials" in text(401, "Unauthorized")
    assert "no answer" in text(408, "Request Timeout", timeout_s=2.0)
    assert "within 2 s" in text(408, "Request Timeout", timeout_s=2.0)
    assert "refused the connection" in text(503, "Connection refused", Transport.TCP)
    tls = text(
        503, "SSL certificate verification error", Transport.TLS, tls_problems=("untrusted",)
    )
    assert "certificate" in tls and "trusted CA" in tls and "TLS" in tls
    mismatch = text(171, "x", Transport.TLS, tls_problems=("identity_mismatch",))
    assert "does not name the host" in mismatch
    assert "resolve" in text(502, "gethostbyname() has returned error")


def test_call_end_explanations() -> None:
    assert explain_call_end(200, "Normal call clearing", connected=True) is None
    assert "busy" in (explain_call_end(486, "Busy Here", connected=False) or "")
    assert "codec" in (explain_call_end(488, "Not Acceptable Here", connected=False) or "")


# -- retry, AUTO, DTMF, codecs --------------------------------------------------------------------


def test_retry_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_s=1, max_s=10, jitter=0)
    assert [retry_delay(policy, n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    jittered = RetryPolicy(initial_s=10, max_s=100, jitter=0.1)
    rng = random.Random(1)
    values = [retry_delay(jittered, 1, rng) for _ in range(50)]
    assert all(9 <= v <= 11 for v in values) and len(set(values)) > 1
    with pytest.raises(ValueError):
        retry_delay(policy, 0)


def test_auto_order_and_memory() -> None:
    available = (Transport.UDP, Transport.TCP, Transport.TLS)
    assert auto_candidates(available) == [Transport.TLS, Transport.TCP, Transport.UDP]
    memory = TransportMemory()
    registrar = parse_host_port("pbx.example.com")
    memory.remember(registrar, Transport.TCP)
    assert auto_candidates(available, memory.recall(registrar))[0] is Transport.TCP
    memory.forget(registrar)
    assert memory.recall(registrar) is None
    assert auto_candidates((Transport.UDP,)) == [Transport.UDP]
    assert probe_port(registrar, Transport.TLS) == 5061
    assert probe_port(parse_host_port("h:5080"), Transport.TLS) == 5080


def test_dtmf_plan_from_digits_and_ivr() -> None:
    target = DialTarget.sip("123456789", passcode="4321", host_key="876543", host="127.0.0.1")
    steps = ivr_steps(target, first_delay_s=0.5, gap_s=0.25)
    plan = dtmf_plan("1", steps, delay_s=0.1)
    assert [(p.at_s, p.digits, p.secret) for p in plan] == [
        (0.1, "1", False),
        (0.5, "4321#", True),
        (0.75, "876543#", True),
    ]
    assert "4321" not in repr(plan)
    # a step waits for the digits before it: 0.1 + 1 digit, 0.5 + 5, then 7 more back to back
    assert plan_done_s(plan, slot_s=0.2) == pytest.approx(0.5 + 12 * 0.2)
    assert plan_done_s((DtmfSend(1.0, "47#"),), slot_s=0.25) == pytest.approx(1.75)
    assert plan_done_s(()) == 0.0
    # the call stays up for the duration, or until the digits are out and had time to arrive
    assert hold_s(10.0, plan) == 10.0
    assert hold_s(1.0, plan) == pytest.approx(plan_done_s(plan) + SETTLE_S)
    assert hold_s(1.0, ()) == 1.0
    assert check_digits(" 12ab*# ") == "12AB*#"
    with pytest.raises(SipConfigError, match="'x'"):
        check_digits("12x")


def test_codec_preference_disables_the_rest() -> None:
    available = ["speex/16000/1", "PCMU/8000/1", "PCMA/8000/1", "G722/16000/1"]
    prio = codec_priorities(["G722", "PCMU", "PCMA"], available)
    assert prio["G722/16000/1"] > prio["PCMU/8000/1"] > prio["PCMA/8000/1"] > 0
    assert prio["speex/16000/1"] == 0


# -- event log ------------------------------------------------------------------------------------


def test_event_log_wait_sees_events_after_the_mark() -> None:
    async def scenario() -> None:
        log: EventLog[int] = EventLog(maxlen=4)
        log.append(1)
        mark = log.mark()
        log.append(2)  # before the wait starts: still found from the mark
        assert await log.wait_for(lambda e: e == 2, 0.1, since=mark) == 2
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, log.append, 7)
        assert await log.wait_for(lambda e: e == 7, 1.0) == 7
        with pytest.raises(TimeoutError):
            await log.wait_for(lambda e: e == 99, 0.05)
        for n in range(10):
            log.append(n)
        assert log.since(log.mark() - 2) == [8, 9]
        assert len(log.since(0)) == 4

    asyncio.run(scenario())
