"""``crcgw serve`` on embedded defaults (API emulator, stand-in connector) with one room
registered at a private Kamailio, a change token and a read-only token: the status page's
tests run against it as an operator would."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.peers.kamailio import Kamailio, kamailio_available
from gateway.peers.process import free_port, stop_process

ROOM = "demo-room"
ROOM_PASSWORD = secrets.token_hex(6)
TOKEN = secrets.token_hex(16)
READ_TOKEN = secrets.token_hex(16)
MEETING = "82419374650"


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def start_call(self, timeout: float = 20) -> str:
        from api_client.emulator import meeting_passcode

        body = {"room": ROOM, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
        created = httpx.post(f"{self.base}/calls", json=body, timeout=timeout,
                             headers={"Authorization": f"Bearer {TOKEN}"})
        assert created.status_code == 201, created.text
        call_id: str = created.json()["call_id"]
        self.wait(lambda: any(c["call_id"] == call_id and c["state"] == "connected"
                              for c in httpx.get(f"{self.base}/calls").json()["calls"]),
                  f"call {call_id} connected")
        return call_id

    def live_calls(self) -> list[str]:
        return [c["call_id"] for c in httpx.get(f"{self.base}/calls").json()["calls"]]

    @staticmethod
    def wait(condition: object, what: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():  # type: ignore[operator]
                return
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not kamailio_available():
        pytest.skip("kamailio is not installed")
    tmp = tmp_path_factory.mktemp("served")
    with Kamailio({ROOM: ROOM_PASSWORD}) as registrar:
        http_port = free_port()
        config = tmp / "crcgw.yaml"
        config.write_text(yaml.safe_dump({
            "data_dir": str(tmp / "data"),
            "rooms": [{"name": ROOM, "registrar": registrar.address("udp"), "user": ROOM,
                       "password_env": "ROOM_PASSWORD"}],
            "sip": {"listen": ["udp://127.0.0.1:0"]},
            "http": {"bind": f"127.0.0.1:{http_port}", "token_env": "CRCGW_TOKEN",
                     "read_token_env": "CRCGW_READ_TOKEN"},
        }))
        env = {**os.environ, "ROOM_PASSWORD": ROOM_PASSWORD, "CRCGW_TOKEN": TOKEN,
               "CRCGW_READ_TOKEN": READ_TOKEN}
        log = tmp / "serve.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
                env=env, stdout=subprocess.DEVNULL, stderr=sink,
            )
        served = Served(f"http://127.0.0.1:{http_port}", process, log)
        try:
            def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(log.read_text()[-3000:])
                try:
                    rooms = httpx.get(f"{served.base}/rooms", timeout=2).json()["rooms"]
                except (httpx.HTTPError, ValueError):
                    return False
                return bool(rooms) and rooms[0]["registration"] == "registered"

            served.wait(ready, "crcgw serve ready with its room registered", timeout=60)
            yield served
        finally:
            stop_process(process, timeout=30)
