"""SIP core on loopback against real peers: REGISTER throughput and call set-up time.

- REGISTER transactions per second for 200 endpoints at Kamailio (one REGISTER = the 401
  challenge round and the authenticated REGISTER; 200 endpoints need 29 engine processes,
  pjsua2 holds 8 accounts per process).
- Call set-up against baresip (B on UDP, through Kamailio, 407 round included): calls per second
  (INVITE to 200 OK, then BYE) and the median INVITE-to-200 time per transport of the caller.
  Target: the median stays within 2 ms of the rig README's pjsua2-only figures.

Run: ``.venv/bin/python -m pytest bench/test_bench_sip.py --benchmark-only -s``
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Iterator
from typing import Any

import pytest

from signaling.pjsua import SipEngine, SipEnginePool
from signaling.sip.types import CallPhase, RegState
from tests.harness import Baresip, Kamailio, baresip_available, kamailio_available
from tests.sip.helpers import endpoint, engine_config

pytestmark = [
    pytest.mark.benchmark(group="sip"),
    pytest.mark.skipif(
        not (kamailio_available() and baresip_available()), reason="needs kamailio and baresip"
    ),
]

ENDPOINTS = 200
CALLS_PER_TRANSPORT = 30
# rig README, "INVITE->200 (A measures, incl. 407 round): A over UDP / TCP / TLS, B on UDP"
RIG_INVITE_TO_200_MS = {"udp": (2.0, 3.3), "tcp": (2.0, 2.5), "tls": (5.8, 5.9)}
ALLOWANCE_MS = 2.0


@pytest.fixture(scope="module")
def kam() -> Iterator[Kamailio]:
    users = {f"room{i:03d}": f"room{i:03d}pw" for i in range(ENDPOINTS)}
    users.update({"bob": "bobpw", "alice": "alicepw"})
    with Kamailio(users=users) as kamailio:
        yield kamailio


def test_register_transactions_per_second(benchmark: Any, kam: Kamailio) -> None:
    transports = ("udp", "tcp", "tls")
    configs = [
        endpoint(kam, f"room{i:03d}", transports[i % 3], register=False) for i in range(ENDPOINTS)
    ]
    result: dict[str, float] = {}

    async def scenario() -> None:
        async with SipEnginePool(engine_config(kam, pjsip_log_level=1)) as pool:
            await asyncio.gather(*(pool.add_endpoint(c) for c in configs))  # processes up
            mark = pool.events.mark()
            started = time.perf_counter()
            await asyncio.gather(*(pool.set_registration(c.name, True) for c in configs))
            statuses = await asyncio.gather(
                *(pool.wait_registration(c.name, 30, mark) for c in configs)
            )
            took = time.perf_counter() - started
            assert all(s.state is RegState.REGISTERED for s in statuses)
            result.update(
                seconds=took,
                registrations_per_s=ENDPOINTS / took,
                engines=pool.engine_count,
                median_register_ms=statistics.median(s.duration_ms or 0 for s in statuses),
            )

    benchmark.pedantic(lambda: asyncio.run(scenario()), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    print(
        f"\n{ENDPOINTS} endpoints on {result['engines']:.0f} engines: "
        f"{result['registrations_per_s']:.0f} REGISTER transactions/s "
        f"({result['seconds'] * 1000:.0f} ms for all, median {result['median_register_ms']:.1f} ms"
        " each incl. the 401 round)"
    )
    assert len(kam.registered_users() & {c.user for c in configs}) == 0  # unregistered at close


@pytest.mark.parametrize("transport", ["udp", "tcp", "tls"])
def test_call_setup_against_baresip(benchmark: Any, kam: Kamailio, transport: str) -> None:
    result: dict[str, float] = {}
    with Baresip("bob", "bobpw", registrar=kam.address("udp"), codecs=("PCMU",)) as bob:
        assert bob.wait_registered()

        async def scenario() -> None:
            async with SipEngine(engine_config(kam, pjsip_log_level=1)) as engine:
                status = await engine.register(endpoint(kam, "alice", transport))
                assert status.ok, status.explanation
                setup: list[float] = []
                warm = await engine.dial(bob.aor, endpoint=f"alice-{transport}")  # not counted
                await engine.wait_call(warm, timeout=10)
                await engine.hangup(warm)
                await engine.wait_call(warm, {CallPhase.DISCONNECTED}, 5)
                started = time.perf_counter()
                for _ in range(CALLS_PER_TRANSPORT):
                    call = await engine.dial(bob.aor, endpoint=f"alice-{transport}")
                    assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
                    await engine.hangup(call)
                    await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
                    stats = await engine.call_stats(call)
                    assert stats.invite_to_200_ms is not None
                    setup.append(stats.invite_to_200_ms)
                took = time.perf_counter() - started
                result.update(
                    calls_per_s=CALLS_PER_TRANSPORT / took,
                    median_invite_to_200_ms=statistics.median(setup),
                    min_invite_to_200_ms=min(setup),
                    p90_invite_to_200_ms=sorted(setup)[int(len(setup) * 0.9)],
                )

        benchmark.pedantic(lambda: asyncio.run(scenario()), rounds=1, iterations=1)
    benchmark.extra_info.update(result)
    low, high = RIG_INVITE_TO_200_MS[transport]
    median = result["median_invite_to_200_ms"]
    print(
        f"\n{transport.upper()}: {result['calls_per_s']:.1f} calls/s (INVITE..200, BYE), "
        f"INVITE->200 median {median:.2f} ms (min {result['min_invite_to_200_ms']:.2f}, "
        f"p90 {result['p90_invite_to_200_ms']:.2f}); rig pjsua2 alone {low}-{high} ms"
    )
    assert median <= high + ALLOWANCE_MS, f"{transport}: {median:.2f} ms > {high} + 2 ms"
