"""``crcgw serve`` killed with SIGKILL mid-call: no reported CDR is lost, no lease survives restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml

from api_client.emulator import meeting_passcode
from gateway.peers.kamailio import Kamailio
from gateway.peers.process import free_port
from gateway.store import open_store
from tests.daemon.conftest import ENVIRON, ROOM, TOKEN

MEETING = "82419374650"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def start_serve(config: Path, http_port: int, log: Path | None = None
                ) -> subprocess.Popen[bytes]:
    """``crcgw serve`` until ready; its stderr goes to a pipe, or to ``log`` (a file cannot
    fill up and block the daemon when it logs much)."""
    sink = log.open("wb") if log is not None else None
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--config", str(config)],
        env={**os.environ, **ENVIRON}, stdout=subprocess.DEVNULL,
        stderr=sink if sink is not None else subprocess.PIPE,
    )
    if sink is not None:
        sink.close()
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = log.read_text() if log is not None else (
                process.stderr.read().decode() if process.stderr else "exited")
            raise AssertionError(said)
        try:
            if httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("crcgw serve did not become ready")


def test_sigkill_mid_call_keeps_the_cdr_and_frees_the_lease_on_restart(
    tmp_path: Path, registrar: Kamailio
) -> None:
    http_port = free_port()
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "instance_id": "crash-test",
        "rooms": [{"name": ROOM, "registrar": registrar.address("udp"), "user": ROOM,
                   "password_env": "ROOM_A_PASSWORD"}],
        "sip": {"listen": ["udp://127.0.0.1:0"]},
        "http": {"bind": f"127.0.0.1:{http_port}", "token_env": "CRCGW_TOKEN"},
    }))
    base = f"http://127.0.0.1:{http_port}"
    process = start_serve(config, http_port)
    try:
        body = {"room": ROOM, "meeting_id": MEETING, "passcode": meeting_passcode(MEETING)}
        created = httpx.post(f"{base}/calls", json=body, headers=AUTH, timeout=20)
        assert created.status_code == 201, created.text
        call_id = created.json()["call_id"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            calls = httpx.get(f"{base}/calls").json()["calls"]
            if calls and calls[0]["state"] == "connected":
                break
            time.sleep(0.1)
        assert calls and calls[0]["state"] == "connected"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        if process.stderr is not None:
            process.stderr.close()

    store = open_store(f"sqlite:///{tmp_path / 'data' / 'crcgw.sqlite3'}")
    try:
        cdr = store.cdr(call_id)
        assert cdr is not None and cdr.answered_at is not None and cdr.ended_at is None
        assert [lease.call_id for lease in store.leases()] == [call_id]
    finally:
        store.close()

    process = start_serve(config, http_port)
    try:
        assert httpx.get(f"{base}/ports").json()["leased"] == 0
        cdrs = {c["call_id"]: c for c in httpx.get(f"{base}/cdrs").json()["cdrs"]}
        assert cdrs[call_id]["outcome"] == "interrupted"
        assert cdrs[call_id]["answered_at"] is not None
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        if process.stderr is not None:
            process.stderr.close()
    json.dumps(cdrs)  # the record is plain data
