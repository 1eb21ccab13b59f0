"""The foundation pieces composed the way the daemon will: configuration -> store -> pool ->
redirect service + control API on real sockets; a real baresip dials digits, and the control API
shows the lease, the readiness and the metrics."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import load_config
from gateway.http_api import HttpServer, create_app
from gateway.metrics import GatewayMetrics
from gateway.ports import PortPool
from gateway.redirect import RedirectService, RedirectSettings
from gateway.store import open_store
from tests.gateway.control import StoreControl
from tests.harness import Baresip, baresip_available


@pytest.mark.sip
@pytest.mark.skipif(not baresip_available(), reason="baresip-core not installed")
def test_config_store_pool_redirect_and_api_work_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = tmp_path / "crcgw.yaml"
    config_file.write_text(
        f"data_dir: {tmp_path / 'data'}\n"
        "ports: {pool_size: 3}\n"
        "http: {bind: '127.0.0.1:0', token_env: GW_TOKEN}\n"
        "sip: {listen: ['udp://127.0.0.1:0', 'tcp://127.0.0.1:0'], redirect_hold: 30}\n"
    )
    monkeypatch.setenv("GW_TOKEN", "composition-token")
    config = load_config(config_file)
    store = open_store(config.store_url, ttl=config.ports.lease_ttl)
    metrics = GatewayMetrics()
    pool = PortPool(store, config.owner_id, metrics=metrics)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def call(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(15)

    redirect = RedirectService(config.dial_plan(), pool, RedirectSettings.from_config(config.sip),
                               metrics=metrics)
    stop = asyncio.Event()

    async def boot() -> tuple[list[str], HttpServer, asyncio.Task[None]]:
        await pool.restart()
        listen = await redirect.start(config.sip.listen)
        control = StoreControl(pool, ["boardroom"], listen)
        app = create_app(control, token=config.http_token(), metrics=metrics)
        server = HttpServer(app, *config.http.host_port)
        await server.start()
        runner = asyncio.create_task(pool.run(
            None, redirect.live_call_ids, configured_size=config.ports.pool_size,
            reconcile_interval=0.2, heartbeat_interval=0.1, stop=stop))
        return listen, server, runner

    listen, server, runner = call(boot())
    try:
        udp_port = int(listen[0].rsplit(":", 1)[1])
        base = f"http://{server.address}"
        with Baresip("room7", "unused", registrar=None) as room:
            mark = room.mark()
            room.dial(f"sip:87654321012*4321@127.0.0.1:{udp_port}")
            assert room.wait_event("CALL_CLOSED", timeout=10, since=mark) is not None
        call(asyncio.sleep(0.5))  # two reconcile passes: the redirect hold must survive them
        with httpx.Client(base_url=base) as api:
            ready = api.get("/readyz").json()
            assert ready["ready"] and ready["sip_listen"] == listen
            ports = api.get("/ports").json()
            assert ports == {"size": 3, "leased": 1, "used_elsewhere": 0, "free": 2}
            text = api.get("/metrics").text
            assert 'crcgw_redirects_total{status="302"} 1.0' in text
            assert "crcgw_ports_leased 1.0" in text
            created = api.post("/calls", json={"room": "boardroom", "meeting_id": "123456789"},
                               headers={"Authorization": "Bearer composition-token"})
            assert created.status_code == 201
            assert api.get("/ports").json()["leased"] == 2
        (lease, _) = sorted(store.leases(), key=lambda x: x.call_id, reverse=True)
        assert lease.call_id.startswith("redirect:") and lease.room == "room7"
        assert lease.owner == config.owner_id
    finally:
        async def shutdown() -> None:
            stop.set()
            await runner
            await redirect.close()
            await server.stop()

        call(shutdown())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
    assert [x.call_id for x in store.leases()] == ["call-1"]  # redirect hold released on close
    store.close()
