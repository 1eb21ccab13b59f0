"""Port accounting: the pure reconcile, and the pool under concurrency and failure."""

from __future__ import annotations

import asyncio

import pytest

from gateway.metrics import GatewayMetrics
from gateway.ports import PoolFullError, PortPool, PortUsage, reconcile
from gateway.store import Lease, PoolState, Store


def lease(call_id: str, owner: str = "gw", acquired: float = 0.0, expires: float = 1e9) -> Lease:
    return Lease(call_id, "room", "t", owner, acquired, acquired, expires)


# -- reconcile (pure) -------------------------------------------------------------------------


def test_size_comes_from_the_api_when_it_has_one_else_from_config() -> None:
    assert reconcile(PortUsage(0, 12), [], [], owner="gw", now=0, configured_size=5).size == 12
    assert reconcile(PortUsage(0, None), [], [], owner="gw", now=0, configured_size=5).size == 5
    assert reconcile(None, [], [], owner="gw", now=0, configured_size=5).size == 5
    unknown = reconcile(None, [], [], owner="gw", now=0)
    assert unknown.size is None and any("unknown" in line for line in unknown.lines)


def test_usage_beyond_the_leases_is_used_elsewhere() -> None:
    leases = [lease("a"), lease("b")]
    result = reconcile(PortUsage(5, 10), leases, {"a", "b"}, owner="gw", now=100)
    assert (result.used_elsewhere, result.drift, result.reclaim) == (3, 3, ())
    assert any("drift +3" in line for line in result.lines)
    # API lagging behind our new calls: negative drift, nothing elsewhere
    lagging = reconcile(PortUsage(1, 10), leases, {"a", "b"}, owner="gw", now=100)
    assert (lagging.used_elsewhere, lagging.drift) == (0, -1)


def test_only_our_old_leases_without_a_live_call_are_reclaimed() -> None:
    leases = [
        lease("live"),
        lease("gone"),
        lease("young", acquired=95.0),          # inside the grace period
        lease("theirs", owner="other-gw"),       # another gateway's call
        lease("expired", expires=50.0),          # no longer counts at all
    ]
    result = reconcile(PortUsage(3, 10), leases, {"live"}, owner="gw", now=100, grace=10)
    assert [x.call_id for x in result.reclaim] == ["gone"]
    # counted after reclaiming: live, young, theirs
    assert result.drift == 0 and result.used_elsewhere == 0
    assert any("reclaiming lease gone" in line for line in result.lines)


def test_without_an_api_figure_the_last_elsewhere_count_stays() -> None:
    previous = PoolState(size=4, leased=1, used_elsewhere=2)
    result = reconcile(None, [lease("a")], {"a"}, owner="gw", now=1, configured_size=4,
                       previous=previous)
    assert result.used_elsewhere is None and result.drift is None
    over = reconcile(PortUsage(9, 4), [lease("a")], {"a"}, owner="gw", now=1, previous=previous)
    assert any("over-committed" in line for line in over.lines)
    assert any("used elsewhere 2 -> 8" in line for line in over.lines)


# -- the pool on a real store -----------------------------------------------------------------


def test_200_concurrent_acquires_never_exceed_the_pool(store: Store) -> None:
    store.set_pool_size(10)
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", metrics=metrics)
    seen: list[int] = []

    async def dial(n: int) -> Lease | None:
        got = await pool.acquire(f"call-{n}", "room", "t")
        seen.append((await pool.status()).leased)
        return got

    async def main() -> list[Lease | None]:
        return await asyncio.gather(*(dial(n) for n in range(200)))

    results = asyncio.run(main())
    granted = [r for r in results if r is not None]
    assert len(granted) == 10
    assert max(seen) == 10
    assert store.pool_state().leased == 10
    assert metrics.port_refusals._value.get() == 190
    assert metrics.ports_free._value.get() == 0


def test_the_lease_context_releases_on_every_way_out(store: Store) -> None:
    store.set_pool_size(1)
    pool = PortPool(store, "gw")

    async def main() -> None:
        async with pool.lease("ok", "room", "t") as held:
            assert held.call_id == "ok"
            with pytest.raises(PoolFullError):
                async with pool.lease("second", "room", "t"):
                    pass
        assert (await pool.status()).leased == 0

        with pytest.raises(RuntimeError, match="SIP 503"):
            async with pool.lease("fails", "room", "t"):
                raise RuntimeError("SIP 503 from the far end")
        assert (await pool.status()).leased == 0

        async def call() -> None:
            async with pool.lease("cancelled", "room", "t"):
                await asyncio.sleep(30)

        task = asyncio.create_task(call())
        while (await pool.status()).leased == 0:
            await asyncio.sleep(0.001)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (await pool.status()).leased == 0

        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05), pool.lease("timeout", "room", "t"):
                await asyncio.sleep(30)
        assert (await pool.status()).leased == 0

    asyncio.run(main())


def test_cancelled_acquires_leak_no_port(store: Store) -> None:
    store.set_pool_size(50)
    pool = PortPool(store, "gw")

    async def main() -> None:
        tasks = [asyncio.create_task(pool.acquire(f"c{n}", "room", "t")) for n in range(50)]
        await asyncio.sleep(0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(200):  # acquires already running in threads finish, then are released
            await asyncio.sleep(0.01)
            if (await pool.status()).leased == 0:
                break

    asyncio.run(main())
    assert store.pool_state().leased == 0


def test_reconcile_once_reclaims_counts_elsewhere_and_survives_api_errors(store: Store) -> None:
    now = [1000.0]
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", metrics=metrics, clock=lambda: now[0], grace=5)
    store.set_pool_size(8)
    live = {"a"}

    async def usage() -> PortUsage:
        return PortUsage(in_use=4, allocated=6)

    async def broken() -> PortUsage:
        raise ConnectionError("api down")

    async def main() -> None:
        assert await pool.acquire("a", "room", "t") is not None
        assert await pool.acquire("b", "room", "t") is not None
        now[0] += 6  # past the grace (5 s), inside the TTL (10 s)
        result = await pool.reconcile_once(usage, lambda: live, configured_size=3)
        assert [x.call_id for x in result.reclaim] == ["b"]
        state = await pool.status()
        assert (state.size, state.leased, state.used_elsewhere, state.free) == (6, 1, 3, 2)
        result = await pool.reconcile_once(broken, lambda: live, configured_size=3)
        state = await pool.status()
        # the last good figures are kept (younger than stale_after)
        assert (state.size, state.used_elsewhere) == (6, 3)
        now[0] += pool.stale_after + 1
        await pool.reconcile_once(broken, lambda: live, configured_size=3)
        state = await pool.status()
        assert (state.size, state.used_elsewhere) == (3, 3)  # then the configured size

    asyncio.run(main())
    assert metrics.api_errors.labels("crc_ports")._value.get() == 2
    assert metrics.reconcile_drift._value.get() == 3
    assert metrics.leases_reclaimed.labels("call-gone")._value.get() == 1
    text = metrics.render().decode()
    assert "crcgw_ports_used_elsewhere 3.0" in text and "crcgw_api_errors_total" in text


def test_run_loop_heartbeats_reconciles_and_stops(store: Store) -> None:
    store.set_pool_size(2)
    pool = PortPool(store, "gw")
    calls = 0

    async def usage() -> PortUsage:
        nonlocal calls
        calls += 1
        return PortUsage(in_use=0, allocated=5)

    async def main() -> None:
        stop = asyncio.Event()
        lease = await pool.acquire("a", "room", "t")
        assert lease is not None
        runner = asyncio.create_task(pool.run(
            usage, lambda: {"a"}, configured_size=None, reconcile_interval=0.05,
            heartbeat_interval=0.02, stop=stop,
        ))
        await asyncio.sleep(0.3)
        stop.set()
        await asyncio.wait_for(runner, 2)
        (after,) = await pool.leases()
        assert after.heartbeat_at > lease.heartbeat_at

    asyncio.run(main())
    assert calls >= 3
    assert store.pool_state().size == 5
