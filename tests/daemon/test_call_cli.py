"""``crcgw call start|list|hangup`` against a running gateway, as an operator types them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from api_client.emulator import meeting_passcode
from gateway.peers.kamailio import Kamailio
from tests.daemon.conftest import ROOM, TOKEN, gateway_config, running_gateway

MEETING = "82419374650"


def crcgw(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_start_list_hangup(tmp_path: Path, registrar: Kamailio) -> None:
    async def run() -> None:
        async with running_gateway(gateway_config(tmp_path, registrar)) as gw:
            api = f"http://{gw.http_address}"
            env = {"CRCGW_TOKEN": TOKEN, "PASS": meeting_passcode(MEETING), "CRCGW_API": api}
            started = await asyncio.to_thread(
                crcgw, "call", "start", MEETING, "--room", ROOM, "--passcode-env", "PASS",
                "--json", env=env)
            assert started.returncode == 0, started.stderr
            call = json.loads(started.stdout)[0]
            assert meeting_passcode(MEETING) not in started.stdout
            listed = await asyncio.to_thread(crcgw, "call", "list", "--json", env=env)
            assert [c["call_id"] for c in json.loads(listed.stdout)] == [call["call_id"]]
            await asyncio.sleep(1)
            ended = await asyncio.to_thread(crcgw, "call", "hangup", call["call_id"], env=env)
            assert ended.returncode == 0, ended.stderr
            assert "ended" in ended.stdout
            bad = await asyncio.to_thread(crcgw, "call", "start", "12", "--room", ROOM, env=env)
            assert bad.returncode == 2
            assert bad.stderr.startswith("crcgw: error: 422") and "meeting_id" in bad.stderr
            wrong = await asyncio.to_thread(crcgw, "call", "hangup", "nope",
                                            env={**env, "CRCGW_TOKEN": "wrong"})
            assert wrong.returncode == 1 and "401" in wrong.stderr

    asyncio.run(run())
