"""Calls against baresip (and between two endpoints of one engine) through Kamailio."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from signaling.dialstring import DialTarget
from signaling.dialstring.ivr import ivr_steps
from signaling.pjsua import SipEngine, SipEnginePool
from signaling.sip.config import CallOptions, EndpointConfig
from signaling.sip.events import CallStateChanged, DtmfReceived, IncomingCall, MediaStateChanged
from signaling.sip.types import CallPhase, Direction, DtmfMethod, SrtpMode, Transport
from tests.harness import Baresip, Kamailio
from tests.harness.dns import TYPE_SRV, DnsServer
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = pytest.mark.sip


def _phases(engine: SipEngine, call_id: str) -> list[CallPhase]:
    return [
        e.phase
        for e in engine.events.since(0)
        if isinstance(e, CallStateChanged) and e.call_id == call_id
    ]


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_call_to_baresip_with_dtmf_both_ways_and_hangup_from_crcgw(
    kamailio: Kamailio, bob: Baresip, transport: str
) -> None:
    async def scenario(engine: SipEngine) -> None:
        user = {"udp": "room170", "tcp": "room171", "tls": "room172"}[transport]
        status = await engine.register(endpoint(kamailio, user, transport))
        assert status.ok, status.explanation
        since = bob.mark()
        options = CallOptions(dtmf="1234*#", dtmf_delay_s=0.2, timeout_s=10)
        call = await engine.dial(bob.aor, endpoint=f"{user}-{transport}", options=options)
        connected = await engine.wait_call(call, timeout=10)
        assert connected.phase is CallPhase.CONNECTED, connected.explanation
        assert await asyncio.to_thread(bob.wait_dtmf, "1234*#", 5, since) == "1234*#"
        bob.send_dtmf("9")
        assert await engine.wait_dtmf(call, 1, 5) == "9"
        digit = next(e for e in engine.events.since(0) if isinstance(e, DtmfReceived))
        assert digit.method is DtmfMethod.RFC4733 and digit.call_id == call
        await asyncio.sleep(0.5)
        stats = await engine.call_stats(call)
        assert stats.codec in ("PCMU", "PCMA", "G722")
        assert stats.rx_packets > 10 and stats.tx_packets > 10
        assert stats.rx_lost == 0
        assert stats.invite_to_200_ms is not None and stats.invite_to_200_ms < 2000
        # Kamailio's 100 Trying is not retransmitted: over UDP it may be lost, over TCP and
        # TLS it arrives, and before the 200 it answers.
        if transport != "udp" or stats.invite_to_provisional_ms is not None:
            assert stats.invite_to_provisional_ms is not None
            assert stats.invite_to_provisional_ms <= stats.invite_to_200_ms
        await engine.hangup(call)
        ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        assert ended.explanation is None
        assert await asyncio.to_thread(bob.wait_event, "CALL_CLOSED", 5, since)
        assert _phases(engine, call)[0] is CallPhase.CALLING
        final = await engine.call_stats(call)
        assert final.rx_packets >= stats.rx_packets and final.connected_s

    run_engine(engine_config(kamailio), scenario)


def test_hangup_from_baresip(kamailio: Kamailio, bob: Baresip) -> None:
    async def scenario(engine: SipEngine) -> None:
        await engine.register(endpoint(kamailio, "room173", "udp"))
        call = await engine.dial(bob.aor, endpoint="room173-udp")
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        await asyncio.sleep(0.3)
        bob.hangup()
        ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        assert ended.code == 200 and ended.explanation is None

    run_engine(engine_config(kamailio), scenario)


def test_ivr_sequence_reaches_the_far_end(baresip_factory: Callable[..., Baresip]) -> None:
    """Dial the meeting without secrets, then passcode# and host key# by DTMF after answer."""
    crc = baresip_factory("123456789")  # listens directly, no registrar
    target = DialTarget.sip(
        "123456789", passcode="4321", host_key="876543", host="127.0.0.1", port=crc.sip_port
    )
    steps = ivr_steps(target, first_delay_s=0.3, gap_s=0.4)

    async def scenario(engine: SipEngine) -> None:
        call = await engine.dial(target.without_secrets(), ivr=steps)
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        got = await asyncio.to_thread(crc.wait_dtmf, "4321#876543#", 6)
        assert got == "4321#876543#"
        await engine.hangup(call)

    run_engine(engine_config(), scenario)


@pytest.mark.parametrize(
    ("ours", "expected"), [(("G722",), "G722"), (("PCMA", "G722"), "PCMA"), (("PCMU",), "PCMU")]
)
def test_codec_preference_list_limits_the_offer(
    baresip_factory: Callable[..., Baresip], ours: tuple[str, ...], expected: str
) -> None:
    """Only the listed codecs are offered (the answerer, baresip, picks among them)."""
    peer = baresip_factory("dave", codecs=("PCMU", "PCMA", "G722"))

    async def scenario(engine: SipEngine) -> None:
        call = await engine.dial(peer.direct_uri)
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        media = await engine.events.wait_for(
            lambda e: isinstance(e, MediaStateChanged) and e.call_id == call and e.active, 5, 0
        )
        assert isinstance(media, MediaStateChanged) and media.codec == expected
        await engine.hangup(call)

    run_engine(engine_config(codecs=ours), scenario)


def test_srtp_mandatory_and_its_failure(baresip_factory: Callable[..., Baresip]) -> None:
    secure = baresip_factory("sec", media_encryption="srtp-mand")
    plain = baresip_factory("plain")

    async def scenario(engine: SipEngine) -> None:
        await engine.add_endpoint(
            EndpointConfig("srtp", "crcgw", domain="127.0.0.1", srtp=SrtpMode.MANDATORY)
        )
        call = await engine.dial(secure.direct_uri, endpoint="srtp")
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        await asyncio.sleep(0.3)
        assert (await engine.call_stats(call)).srtp is True
        await engine.hangup(call)
        refused = await engine.dial(plain.direct_uri, endpoint="srtp")
        ended = await engine.wait_call(refused, timeout=10)
        assert ended.phase is CallPhase.DISCONNECTED
        assert ended.code is not None and ended.code >= 400
        assert ended.explanation

    run_engine(engine_config(), scenario)


def test_unanswered_call_times_out_after_ringing(baresip_factory: Callable[..., Baresip]) -> None:
    slow = baresip_factory("slow", answer="manual")

    async def scenario(engine: SipEngine) -> None:
        started = time.monotonic()
        call = await engine.dial(slow.direct_uri, options=CallOptions(timeout_s=1.0))
        ringing = await engine.wait_call(call, {CallPhase.RINGING, CallPhase.EARLY_MEDIA}, 5)
        assert ringing.code in (180, 183)
        ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        assert "no answer within 1 s" in (ended.explanation or "")
        assert 0.9 < time.monotonic() - started < 4
        assert (await engine.call_stats(call)).invite_to_ringing_ms is not None

    run_engine(engine_config(), scenario)


def test_incoming_call_is_auto_answered(kamailio: Kamailio, bob: Baresip) -> None:
    async def scenario(engine: SipEngine) -> None:
        status = await engine.register(endpoint(kamailio, "carol", "tcp", auto_answer=True))
        assert status.ok
        mark = engine.events.mark()
        bob.dial("sip:carol@127.0.0.1")
        incoming = await engine.wait_incoming("carol-tcp", 10, mark)
        assert isinstance(incoming, IncomingCall) and "bob" in incoming.remote_uri
        answered = await engine.wait_call(incoming.call_id, timeout=10)
        assert answered.phase is CallPhase.CONNECTED
        assert answered.direction is Direction.INCOMING
        bob.send_dtmf("7")
        assert await engine.wait_dtmf(incoming.call_id, 1, 5) == "7"
        bob.hangup()
        ended = await engine.wait_call(incoming.call_id, {CallPhase.DISCONNECTED}, 5)
        assert ended.explanation is None

    run_engine(engine_config(kamailio), scenario)


def test_sip_info_dtmf_between_two_endpoints(kamailio: Kamailio) -> None:
    async def scenario(engine: SipEngine) -> None:
        caller = await engine.register(endpoint(kamailio, "room174", "tcp"))
        callee = await engine.register(endpoint(kamailio, "room175", "udp", auto_answer=True))
        assert caller.ok and callee.ok
        mark = engine.events.mark()
        options = CallOptions(dtmf="42#", dtmf_method=DtmfMethod.SIP_INFO, dtmf_delay_s=0.1)
        call = await engine.dial("sip:room175@127.0.0.1", endpoint="room174-tcp", options=options)
        incoming = await engine.wait_incoming("room175-udp", 10, mark)
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        assert await engine.wait_dtmf(incoming.call_id, 3, 5) == "42#"
        methods = {
            e.method
            for e in engine.events.since(mark)
            if isinstance(e, DtmfReceived) and e.call_id == incoming.call_id
        }
        assert methods == {DtmfMethod.SIP_INFO}
        await engine.hangup(incoming.call_id)  # hang up from the callee side this time
        assert (await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)).code == 200

    run_engine(engine_config(kamailio), scenario)


def test_close_hangs_up_a_live_call(kamailio: Kamailio, bob: Baresip) -> None:
    since = bob.mark()

    async def scenario(engine: SipEngine) -> None:
        call = await engine.dial(bob.direct_uri, options=CallOptions(transport=Transport.UDP))
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED

    run_engine(engine_config(kamailio), scenario)  # the scenario leaves the call up
    assert bob.wait_event("CALL_CLOSED", 5, since)


def test_incoming_call_answered_by_command_or_refused_after_ring_timeout(
    kamailio: Kamailio, bob: Baresip
) -> None:
    async def scenario(engine: SipEngine) -> None:
        assert (await engine.register(endpoint(kamailio, "room177", "udp"))).ok
        mark = engine.events.mark()
        bob.dial("sip:room177@127.0.0.1")
        first = await engine.wait_incoming("room177-udp", 10, mark)
        await engine.answer(first.call_id)
        assert (await engine.wait_call(first.call_id, timeout=5)).phase is CallPhase.CONNECTED
        await engine.hangup(first.call_id)
        await engine.wait_call(first.call_id, {CallPhase.DISCONNECTED}, 5)
        mark = engine.events.mark()
        bob.dial("sip:room177@127.0.0.1")
        second = await engine.wait_incoming("room177-udp", 10, mark)
        ended = await engine.wait_call(second.call_id, {CallPhase.DISCONNECTED}, 5)
        assert ended.code == 480

    run_engine(engine_config(kamailio, ring_timeout_s=0.5), scenario)


def test_early_media_before_answer(baresip_factory: Callable[..., Baresip]) -> None:
    early = baresip_factory("ed", answer="early")  # answers 183 with SDP, never 200

    async def scenario(engine: SipEngine) -> None:
        call = await engine.dial(early.direct_uri, options=CallOptions(timeout_s=2.0))
        phase = await engine.wait_call(call, {CallPhase.EARLY_MEDIA, CallPhase.CONNECTED}, 5)
        assert phase.phase is CallPhase.EARLY_MEDIA and phase.code == 183
        await asyncio.sleep(0.6)
        stats = await engine.call_stats(call)
        assert stats.tx_packets > 5  # the early media session runs before any answer
        media = [e for e in engine.events.since(0) if isinstance(e, MediaStateChanged)]
        assert media and media[0].active and media[0].codec
        ended = await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
        assert "no answer within 2 s" in (ended.explanation or "")

    run_engine(engine_config(), scenario)


def test_call_via_a_registrar_found_by_dns_srv(
    kamailio: Kamailio, bob: Baresip, pbx_dns: DnsServer
) -> None:
    """AUTO + name server: REGISTER and INVITE go to the proxy that DNS SRV names."""

    async def scenario(engine: SipEngine) -> None:
        room = EndpointConfig(
            "dns",
            "room178",
            "room178pw",
            registrar="pbx.test",
            domain="127.0.0.1",
            transport=Transport.AUTO,
        )
        assert (await engine.register(room)).ok
        call = await engine.dial(bob.aor, endpoint="dns")
        assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
        await engine.hangup(call)

    run_engine(engine_config(kamailio, nameservers=(pbx_dns.address,)), scenario)
    assert ("_sip._udp.pbx.test", TYPE_SRV) in pbx_dns.queries


def test_calls_through_an_engine_pool(kamailio: Kamailio, bob: Baresip) -> None:
    """The pool routes a call to the engine process holding its endpoint."""

    async def scenario() -> None:
        async with SipEnginePool(engine_config(kamailio), per_engine=1) as pool:
            heard: list[str] = []
            pool.add_listener(lambda e: heard.append(type(e).__name__))
            first = await pool.register(endpoint(kamailio, "room179", "udp", auto_answer=True))
            second = await pool.register(endpoint(kamailio, "room178", "tcp"))
            assert first.ok and second.ok and pool.engine_count == 2
            since = bob.mark()
            call = await pool.dial(
                bob.aor, endpoint="room178-tcp", options=CallOptions(dtmf="8#", dtmf_delay_s=0.2)
            )
            assert call.startswith("2/")
            connected = await pool.wait_call(call, timeout=10)
            assert connected.phase is CallPhase.CONNECTED and connected.call_id == call
            assert await asyncio.to_thread(bob.wait_dtmf, "8#", 5, since) == "8#"
            bob.send_dtmf("3")
            assert await pool.wait_dtmf(call, 1, 5) == "3"
            await pool.hangup(call)
            ended = await pool.wait_call(call, {CallPhase.DISCONNECTED}, 5)
            assert ended.code == 200
            stats = await pool.call_stats(call)
            assert stats.call_id == call and stats.rx_packets > 0
            seen = {e.call_id for e in pool.events.since(0) if isinstance(e, CallStateChanged)}
            assert seen == {call}
            assert "RegistrationChanged" in heard and "DtmfReceived" in heard
            mark = pool.events.mark()
            bob.dial("sip:room179@127.0.0.1")  # incoming, on the first engine, auto-answered
            incoming = await pool.wait_incoming("room179-udp", 10, mark)
            assert incoming.call_id.startswith("1/")
            answered = await pool.wait_call(incoming.call_id, timeout=10)
            assert answered.phase is CallPhase.CONNECTED
            await pool.hangup(incoming.call_id)
            assert pool.call_phases[incoming.call_id].phase in (
                CallPhase.CONNECTED,
                CallPhase.DISCONNECTED,
            )

    asyncio.run(scenario())
