"""Registration against a real Kamailio: every transport, TLS checks, failures, restarts, scale."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from signaling.pjsua import ROOMS_PER_ENGINE, SipEngine, SipEnginePool
from signaling.sip.config import EndpointConfig, NatSettings, TlsSettings
from signaling.sip.errors import EngineError, SipConfigError
from signaling.sip.events import RegistrationChanged, TransportDisconnected
from signaling.sip.types import RegState, Transport
from tests.harness import Kamailio, free_port, make_self_signed_cert
from tests.harness.dns import TYPE_A, TYPE_SRV, DnsServer
from tests.harness.stun import StunServer
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = pytest.mark.sip


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_registers_on_each_transport_and_unregisters_on_close(
    kamailio: Kamailio, transport: str
) -> None:
    user = {"udp": "room190", "tcp": "room191", "tls": "room192"}[transport]

    async def scenario(engine: SipEngine) -> list[str]:
        status = await engine.register(endpoint(kamailio, user, transport))
        assert status.state is RegState.REGISTERED, status.explanation
        assert (status.code, status.transport) == (200, Transport(transport))
        assert status.duration_ms is not None and 0 < status.duration_ms < 1500
        assert status.expires_s is not None and status.expires_s > 0
        return kamailio.contacts(user)

    contacts = run_engine(engine_config(kamailio), scenario)
    assert len(contacts) == 1
    if transport != "udp":
        assert f"transport={transport}" in contacts[0].lower()
    assert kamailio.contacts(user) == []  # close() unregistered


@pytest.mark.parametrize("transport", ["udp", "tls"])
def test_registers_over_ipv6(kamailio: Kamailio, transport: str) -> None:
    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "room193", transport, ipv6=True))
        assert status.state is RegState.REGISTERED, status.explanation
        assert any("[::1]" in c for c in kamailio.contacts("room193"))

    run_engine(engine_config(kamailio, bind_address6="::1"), scenario)


def test_tls_with_another_ca_fails_verification(kamailio: Kamailio, tmp_path: Path) -> None:
    other_ca, _ = make_self_signed_cert(tmp_path, "other")

    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "alice", "tls", name="tls-wrong-ca"))
        assert status.state is RegState.FAILED
        text = status.explanation or ""
        assert "tls-wrong-ca" in text and "TLS" in text and "certificate" in text
        assert "CA" in text  # says which check failed: the issuer is not trusted

    config = engine_config(kamailio, tls=TlsSettings(ca_file=str(other_ca)))
    run_engine(config, scenario)


def test_tls_insecure_accepts_any_certificate_and_warns(
    kamailio: Kamailio, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other_ca, _ = make_self_signed_cert(tmp_path, "other")
    config = engine_config(kamailio, tls=TlsSettings(verify=False, ca_file=str(other_ca)))

    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "room194", "tls"))
        assert status.state is RegState.REGISTERED

    with caplog.at_level(logging.WARNING, logger="signaling.pjsua"):
        run_engine(config, scenario)
    assert any("verification is OFF" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("user", "password", "reason"),
    [("alice", "not-her-password", "Wrong Password"), ("mallory", "whatever", "Unknown User")],
)
def test_wrong_credentials_are_explained_without_the_password(
    kamailio: Kamailio, user: str, password: str, reason: str
) -> None:
    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, user, "tcp", password=password))
        assert status.state is RegState.FAILED
        assert (status.code, status.reason) == (403, reason)
        assert "credentials" in (status.explanation or "")
        assert "TCP" in (status.explanation or "")
        assert password not in repr(status) and password not in (status.explanation or "")

    run_engine(engine_config(kamailio), scenario)


def test_unreachable_registrar(kamailio: Kamailio) -> None:
    """TCP/TLS: refused at once (503); UDP: no answer, given up after the short timeout (408)."""
    dead = free_port()

    async def scenario(engine: SipEngine) -> None:
        for transport in ("tcp", "tls", "udp"):
            config = endpoint(kamailio, "alice", transport, name=f"dead-{transport}")
            config = replace(config, registrar=f"127.0.0.1:{dead}")
            started = time.monotonic()
            status = await engine.register(config)
            took = time.monotonic() - started
            assert status.state is RegState.FAILED
            text = status.explanation or ""
            assert f"dead-{transport}" in text and transport.upper() in text
            if transport == "udp":
                assert status.code == 408 and "no answer" in text
                assert 1.0 < took < 4.0
            else:
                assert status.code == 503 and "refused the connection" in text
                assert took < 1.0

    run_engine(engine_config(kamailio), scenario)


@pytest.mark.parametrize("transport", ["tcp", "tls"])
def test_reregisters_with_backoff_after_kamailio_restarts(
    kamailio_factory: Callable[..., Kamailio], transport: str
) -> None:
    kam = kamailio_factory(users={"alice": "alicepw", "bob": "bobpw"})

    async def scenario(engine: SipEngine) -> None:
        first = await engine.register(endpoint(kam, "alice", transport))
        assert first.state is RegState.REGISTERED
        assert kam.contacts("alice")
        mark = engine.events.mark()
        await asyncio.to_thread(kam.stop)
        # the dropped connection is noticed, the retry finds nobody (503), backoff continues
        dropped = await engine.events.wait_for(
            lambda e: isinstance(e, TransportDisconnected), 5, mark
        )
        assert isinstance(dropped, TransportDisconnected)
        assert dropped.transport is Transport(transport)
        failed = await engine.wait_registration(f"alice-{transport}", 5, mark, (RegState.FAILED,))
        assert failed.code == 503
        kam.start()  # main thread: PR_SET_PDEATHSIG
        back = await engine.wait_registration(
            f"alice-{transport}", 10, mark, (RegState.REGISTERED,)
        )
        assert back.code == 200
        assert kam.contacts("alice")
        failures = [
            e
            for e in engine.events.since(mark)
            if isinstance(e, RegistrationChanged) and e.status.state is RegState.FAILED
        ]
        gaps = [b.at - a.at for a, b in zip(failures, failures[1:], strict=False)]
        assert all(g > 0.25 for g in gaps)  # retries are spaced by the backoff, not a busy loop

    run_engine(engine_config(kam), scenario)


def test_udp_registration_is_refreshed_after_restart(
    kamailio_factory: Callable[..., Kamailio],
) -> None:
    """With a 3 s expiry the refresh re-creates the binding a restarted registrar lost."""
    kam = kamailio_factory(users={"bob": "bobpw"})

    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kam, "bob", "udp", expires_s=3))
        assert status.state is RegState.REGISTERED and status.expires_s == 3
        kam.restart()  # main thread: PR_SET_PDEATHSIG
        assert kam.contacts("bob") == []
        mark = engine.events.mark()
        refreshed = await engine.wait_registration("bob-udp", 6, mark, (RegState.REGISTERED,))
        assert refreshed.code == 200
        assert kam.contacts("bob")

    run_engine(engine_config(kam), scenario)


def test_fifty_endpoints_register_at_once(kamailio: Kamailio) -> None:
    """50 rooms on one pool (4 rooms per engine process, as many as it has calls: 13)."""
    transports = ["udp", "tcp", "tls"]
    configs = [endpoint(kamailio, f"room{i:03d}", transports[i % 3]) for i in range(50)]
    rooms = {f"room{i:03d}" for i in range(50)}

    async def scenario() -> None:
        async with SipEnginePool(engine_config(kamailio)) as pool:
            started = time.monotonic()
            statuses = await asyncio.gather(*(pool.register(c) for c in configs))
            took = time.monotonic() - started
            failed = [s.explanation for s in statuses if s.state is not RegState.REGISTERED]
            assert not failed, failed
            assert rooms <= kamailio.registered_users()
            assert pool.engine_count == -(-50 // ROOMS_PER_ENGINE) == 13
            assert took < 20
            assert {n for n, s in pool.registrations.items() if s.ok} >= {c.name for c in configs}

    asyncio.run(scenario())
    assert not rooms & kamailio.registered_users()  # every engine unregistered on close


def test_one_engine_refuses_a_ninth_endpoint_cleanly(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> None:
        for i in range(8):
            await engine.add_endpoint(
                endpoint(kamailio, f"room{180 + i:03d}", "udp", register=False)
            )
        with pytest.raises(SipConfigError, match="at most 8 endpoints.*SipEnginePool"):
            await engine.add_endpoint(endpoint(kamailio, "room189", "udp", register=False))

    run_engine(engine_config(kamailio), scenario)


def test_explicit_unregister_and_register_again(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> None:
        await engine.register(endpoint(kamailio, "room195", "udp"))
        mark = engine.events.mark()
        await engine.set_registration("room195-udp", False)
        off = await engine.wait_registration("room195-udp", 3, mark, (RegState.UNREGISTERED,))
        assert off.code == 200 and kamailio.contacts("room195") == []
        await engine.set_registration("room195-udp", True)
        on = await engine.wait_registration("room195-udp", 3, mark, (RegState.REGISTERED,))
        assert on.ok and kamailio.contacts("room195")

    run_engine(engine_config(kamailio), scenario)


def test_auto_prefers_tls_then_tcp_then_udp_and_remembers(kamailio: Kamailio) -> None:
    udp_only = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # no TCP listener there

    async def scenario(engine: SipEngine) -> None:
        tls = await engine.register(
            endpoint(kamailio, "room196", "auto", name="auto-tls", registrar_port=None)
            if False
            else _auto(kamailio, "room196", kamailio.tls_port)
        )
        assert (tls.state, tls.transport) == (RegState.REGISTERED, Transport.TLS)
        tcp = await engine.register(_auto(kamailio, "room197", kamailio.sip_port))
        assert (tcp.state, tcp.transport) == (RegState.REGISTERED, Transport.TCP)
        udp_only.bind(("127.0.0.1", 0))
        udp = await engine.register(_auto(kamailio, "room198", udp_only.getsockname()[1]))
        assert udp.transport is Transport.UDP and udp.code == 408
        again = await engine.register(_auto(kamailio, "room199", kamailio.tls_port, "again"))
        assert again.transport is Transport.TLS

    try:
        run_engine(engine_config(kamailio), scenario)
    finally:
        udp_only.close()


def _auto(kam: Kamailio, user: str, port: int, suffix: str = "") -> EndpointConfig:
    base = endpoint(kam, user, "udp")
    return replace(
        base, name=f"{user}-auto{suffix}", transport=Transport.AUTO, registrar=f"127.0.0.1:{port}"
    )


def test_only_one_engine_per_process(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> None:
        with pytest.raises(EngineError):
            await SipEngine(engine_config(kamailio)).start()
        status = await engine.register(endpoint(kamailio, "carol", "udp"))
        assert status.ok  # the first engine is unharmed

    run_engine(engine_config(kamailio), scenario)


def test_unresolvable_registrar_is_explained_as_dns(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> None:
        config = replace(endpoint(kamailio, "alice", "tcp"), registrar="nosuchhost.invalid")
        status = await engine.register(config)
        assert status.state is RegState.FAILED and status.code == 502
        text = status.explanation or ""
        assert "cannot resolve" in text and "nosuchhost.invalid" in text and "TCP" in text

    run_engine(engine_config(kamailio), scenario)


def test_stun_server_is_queried_when_configured(kamailio: Kamailio) -> None:
    with StunServer() as stun:

        async def scenario(engine: SipEngine) -> None:
            status = await engine.register(endpoint(kamailio, "room169", "udp"))
            assert status.ok, status.explanation

        run_engine(engine_config(kamailio, nat=NatSettings(stun_server=stun.address)), scenario)
        assert stun.requests >= 1


def test_auto_with_a_name_server_follows_dns_srv(kamailio: Kamailio, pbx_dns: DnsServer) -> None:
    """RFC 3263 through pjsip's resolver: SRV for the domain, then A for the target."""

    async def scenario(engine: SipEngine) -> None:
        config = EndpointConfig(
            "dns", "alice", "alicepw", registrar="pbx.test", transport=Transport.AUTO
        )
        status = await engine.register(config)
        assert status.ok, status.explanation

    run_engine(engine_config(kamailio, nameservers=(pbx_dns.address,)), scenario)
    assert ("_sip._udp.pbx.test", TYPE_SRV) in pbx_dns.queries
    assert ("kam.test", TYPE_A) in pbx_dns.queries


def test_refreshes_keep_a_short_registration_registered_without_a_failure(
    kamailio: Kamailio,
) -> None:
    """pjsip refreshes a 4 s registration every 5 s (a little after it expired): the
    registration machine's expiry watch must not call that a failure."""

    async def scenario(engine: SipEngine) -> None:
        mark = engine.events.mark()
        status = await engine.register(endpoint(kamailio, "room193", "udp", expires_s=4))
        assert status.state is RegState.REGISTERED
        for _ in range(2):  # two refreshes answered
            again = await engine.wait_registration("room193-udp", 12, None, (RegState.REGISTERED,))
            assert again.code == 200
        states = [
            e.status.state
            for e in engine.events.since(mark)
            if isinstance(e, RegistrationChanged) and e.endpoint == "room193-udp"
        ]
        assert RegState.FAILED not in states, states
        assert states.count(RegState.REGISTERED) >= 3

    # the watch waits register_timeout_s past expiry: 5 s leaves a loaded machine room
    run_engine(engine_config(kamailio, register_timeout_s=5.0), scenario)
