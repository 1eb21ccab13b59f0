"""How quickly ``GET /ports`` follows a room system joining or leaving, by webhook.

Run: ``.venv/bin/python -m pytest bench/test_bench_webhook_latency.py -s``.

The gateway runs on embedded defaults (its emulator subscribed to ``POST /zoom/webhook``, the
periodic reconcile set to an hour, so only webhooks move the figure). Each sample is one
emulated join or leave: the emulator's call report, its signed notification to the gateway,
the gateway's check and pool update, until the pool's "used elsewhere" reads the new value.
Target: under 1 s.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from gateway.config import GatewayConfig, HttpConfig, PortsConfig, SipConfig
from gateway.daemon import Gateway

ROUNDS = 20


async def _samples(data_dir: Path) -> list[float]:
    config = GatewayConfig(
        data_dir=data_dir, sip=SipConfig(listen=["udp://127.0.0.1:0"]),
        http=HttpConfig(bind="127.0.0.1:0"), ports=PortsConfig(reconcile_interval=3600),
    )
    samples: list[float] = []
    async with Gateway(config, environ={}, standin=False) as gw:
        assert gw.zoom is not None
        for i in range(ROUNDS):
            for joining in (True, False):
                started = time.perf_counter()
                if joining:
                    call = await gw.zoom.emulator.start_call(f"room-{i}", "85746065432", "SIP")
                else:
                    await gw.zoom.emulator.end_call(call.id)
                wanted = 1 if joining else 0
                while (await gw.ports()).used_elsewhere != wanted:
                    assert time.perf_counter() - started < 10
                    await asyncio.sleep(0.001)
                samples.append(time.perf_counter() - started)
    return samples


def test_webhook_latency(tmp_path: Path) -> None:
    samples = sorted(asyncio.run(_samples(tmp_path)))
    median, worst = statistics.median(samples), samples[-1]
    print(f"\njoin/leave -> GET /ports: n={len(samples)} median {median * 1000:.1f} ms, "
          f"max {worst * 1000:.1f} ms")
    assert median < 1.0
