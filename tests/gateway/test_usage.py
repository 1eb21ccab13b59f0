"""The reconcile loop against the real API emulator (loopback HTTP): other devices' calls
shrink what is free, the allocation comes from the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

from api_client import AsyncZoomClient, RetryPolicy
from api_client.emulator import EmulatorSettings, run_emulator
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.store import open_store
from gateway.usage import metrics_usage, seed_usage


def test_reconcile_against_the_emulator(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", metrics=metrics)
    with run_emulator(settings=EmulatorSettings(ports_allocated=4)) as emulator:
        other_calls = [emulator.start_call() for _ in range(3)]  # devices the gateway never saw

        async def main() -> None:
            async with AsyncZoomClient(emulator.zoom_credentials()) as client:
                usage = seed_usage(client)
                assert await pool.acquire("mine", "room", "t") is None  # size not known yet
                result = await pool.reconcile_once(usage, lambda: set(), configured_size=None)
                assert (result.size, result.used_elsewhere, result.drift) == (4, 3, 3)
                assert (await pool.acquire("mine", "room", "t")) is not None
                emulator.start_call()  # our call reaches the meeting: the API counts it too
                assert (await pool.acquire("second", "room", "t")) is None  # 1 + 3 = 4
                emulator.end_call(other_calls[0].id)
                await pool.reconcile_once(usage, lambda: {"mine"}, configured_size=None)
                assert (await pool.status()).free == 1
                hourly = await metrics_usage(client)()
                assert hourly is not None and hourly.allocated is None
                assert hourly.in_use >= 2

        asyncio.run(main())
    assert metrics.ports_used_elsewhere._value.get() == 2
    assert metrics.ports_allocated._value.get() == 4
    store.close()


def test_api_errors_are_counted_and_the_last_figures_kept(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}", ttl=60)
    metrics = GatewayMetrics()
    pool = PortPool(store, "gw", metrics=metrics)
    store.set_used_elsewhere(2)

    async def main() -> None:
        with run_emulator() as emulator:
            credentials = emulator.zoom_credentials()
        # the emulator is gone now: connection refused
        async with AsyncZoomClient(credentials, retry=RetryPolicy(max_retries=0)) as client:
            result = await pool.reconcile_once(seed_usage(client), lambda: set(), 6)
        assert result.used_elsewhere is None and result.size == 6

    asyncio.run(main())
    assert store.pool_state().used_elsewhere == 2
    assert metrics.api_errors.labels("crc_ports")._value.get() == 1
    store.close()
