"""``crcgw serve`` under attack, with a real call up: an INVITE flood from an untrusted source
(SIPp), a dial-plan rule with a nested quantifier, and floods of idle TCP connections to SIP and
to the control API. The rooms keep every port, the loop keeps answering, the call stays up."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from api_client.emulator import meeting_passcode
from gateway.peers.kamailio import Kamailio
from gateway.peers.process import free_port
from tests.daemon.conftest import ROOM, TOKEN
from tests.daemon.test_crash import start_serve
from tests.gateway.sipclient import UdpClient, exchange, invite
from tests.gateway.test_connection_limits import close_all, closed_within, connect_many

SIPP = Path(__file__).resolve().parents[1] / "gateway" / "sipp"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MEETING = "82419374650"

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None,
                                reason="SIPp not installed (apt-get install sip-tester)")


def test_serve_under_attack_keeps_ports_loop_and_call(tmp_path: Path,
                                                      registrar: Kamailio) -> None:
    http_port, sip_port = free_port(), free_port()
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "rooms": [{"name": ROOM, "registrar": registrar.address("udp"), "user": ROOM,
                   "password_env": "ROOM_A_PASSWORD"}],
        "sip": {"listen": [f"udp://127.0.0.1:{sip_port}", f"tcp://127.0.0.1:{sip_port}"],
                "redirect": {"trusted": ["127.0.0.1/32"]},
                "tcp_max_connections": 40, "tcp_idle_timeout": 5},
        "http": {"bind": f"127.0.0.1:{http_port}", "token_env": "CRCGW_TOKEN",
                 "max_connections": 40, "request_timeout": 5},
        "dialplan": [
            {"name": "nested", "pattern": r"(?P<meeting_id>(\d+)+)#"},
            {"name": "zoom", "pattern": r"(?P<meeting_id>\d{9,11})"},
        ],
    }))
    base = f"http://127.0.0.1:{http_port}"
    process = start_serve(config, http_port, tmp_path / "serve.log")
    try:
        asyncio.run(_attack(base, sip_port))
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


async def _attack(base: str, sip_port: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as api:
        size = (await api.get("/ports")).json()["size"]
        assert size >= 2
        # 1. An INVITE flood from an untrusted source takes no port.
        proc = await asyncio.create_subprocess_exec(
            "sipp", "-sf", str(SIPP / "invite_flood.xml"), "-s", "87654321012",
            "-i", "127.0.0.2", "-p", "0", "-m", "300", "-r", "300", "-timeout", "60s",
            "-nostdin", f"127.0.0.1:{sip_port}",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert await asyncio.wait_for(proc.wait(), 120) == 0
        await asyncio.sleep(0.5)
        assert (await api.get("/ports")).json()["leased"] == 0
        metrics = (await api.get("/metrics")).text
        assert 'crcgw_redirects_total{status="403"}' in metrics
        # 2. A real call through the control API, up during what follows.
        body = {"room": ROOM, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
        created = await api.post("/calls", json=body, headers=AUTH)
        assert created.status_code == 201, created.text
        call_id = created.json()["call_id"]
        await _until_state(api, call_id, "connected")
        # 3. A catastrophic dial-plan rule: OPTIONS answered while the INVITE is handled.
        attacker, monitor = UdpClient(), UdpClient()
        loop = asyncio.get_running_loop()
        server = ("127.0.0.1", sip_port)
        await attacker.send(invite("1" * 40, attacker.port), server)
        started = loop.time()
        await monitor.send(invite("x", monitor.port, method="OPTIONS"), server)
        reply = await monitor.recv(timeout=60)
        rtt = loop.time() - started
        assert reply is not None and reply.status == 200 and rtt < 0.5, rtt
        finals = [r.status for r in await attacker.replies() if r.status >= 200]
        assert finals[:1] == [404]
        # 4. Floods of idle TCP connections to SIP and to the control API.
        flood = await connect_many("127.0.0.1", sip_port, 300)
        flood += await connect_many("127.0.0.1", int(base.rsplit(":", 1)[1]), 300)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=30) as fresh:
                assert (await fresh.get("/healthz")).json() == {"status": "ok"}
            room = UdpClient()
            replies = await exchange(room, invite("87654321012", room.port), server)
            assert replies[-1].status == 302  # a room is still redirected
            calls = (await api.get("/calls")).json()["calls"]
            assert [c["state"] for c in calls if c["call_id"] == call_id] == ["connected"]
            assert await closed_within(flood, 5 + 10.0)  # idle and request timeouts close it
        finally:
            await close_all(flood)
        for client in (attacker, monitor, room):
            client.close()
        assert (await api.delete(f"/calls/{call_id}", headers=AUTH)).status_code == 200
        await _until_state(api, call_id, "ended", gone_ok=True)


async def _until_state(api: httpx.AsyncClient, call_id: str, state: str,
                       gone_ok: bool = False) -> None:
    deadline = asyncio.get_running_loop().time() + 30
    while asyncio.get_running_loop().time() < deadline:
        calls = {c["call_id"]: c["state"] for c in (await api.get("/calls")).json()["calls"]}
        if calls.get(call_id) == state or (gone_ok and call_id not in calls):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"call {call_id} never reached {state}")
