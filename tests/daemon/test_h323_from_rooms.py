"""Rooms dial H.323 meetings from the daemon: a real ``crcgw serve`` places ``POST /calls`` with
``protocol: h323`` to the project's own H.323 answering peer (``crcgw h323-peer``, another
process); the call holds a CRC port, shows its events and leaves a CDR, as SIP calls do."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from gateway.peers.kamailio import Kamailio
from gateway.peers.process import free_port, stop_process
from tests.daemon.conftest import ROOM, TOKEN
from tests.daemon.test_crash import start_serve
from tests.h323.test_cli import peer_process

AUTH = {"Authorization": f"Bearer {TOKEN}"}
MEETING = "123456789"
PASSCODE = "97531"


def _config(tmp_path: Path, registrar: Kamailio, http_port: int) -> Path:
    config = tmp_path / "crcgw.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": str(tmp_path / "data"),
        "rooms": [{"name": ROOM, "registrar": registrar.address("udp"), "user": ROOM,
                   "password_env": "ROOM_A_PASSWORD", "h323_alias": "Boardroom"}],
        "sip": {"listen": ["udp://127.0.0.1:0"]},
        "http": {"bind": f"127.0.0.1:{http_port}", "token_env": "CRCGW_TOKEN"},
    }))
    return config


def _until(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def _cdr(base: str, call_id: str) -> dict[str, Any] | None:
    cdrs = httpx.get(f"{base}/cdrs", params={"room": ROOM}, timeout=10).json()["cdrs"]
    return next((c for c in cdrs if c["call_id"] == call_id and c["ended_at"]), None)


def test_a_room_dials_an_h323_meeting_through_the_control_api(
    tmp_path: Path, registrar: Kamailio
) -> None:
    http_port = free_port()
    base = f"http://127.0.0.1:{http_port}"
    serve = start_serve(_config(tmp_path, registrar, http_port), http_port,
                        log=tmp_path / "serve.log")
    try:
        with peer_process("--answer", "connect") as (peer_port, _):
            body = {"room": ROOM, "protocol": "h323", "meeting_id": MEETING,
                    "passcode": PASSCODE, "host": "127.0.0.1", "port": peer_port}
            created = httpx.post(f"{base}/calls", json=body, headers=AUTH, timeout=20)
            assert created.status_code == 201, created.text
            call = created.json()
            assert call["protocol"] == "h323" and PASSCODE not in created.text

            def up() -> dict[str, Any] | None:
                calls = httpx.get(f"{base}/calls", timeout=10).json()["calls"]
                live = next((c for c in calls if c["call_id"] == call["call_id"]), None)
                kinds = [e["event"] for e in live["events"]] if live else []
                return live if live and "media-up" in kinds else None

            live = _until(up, 30, "the H.323 call never had media up")
            assert live["state"] == "connected"
            kinds = [e["event"] for e in live["events"]]
            # the peer answers fastStart in its first reply: media is up before Connect
            assert {"progress", "answered", "media-up"} <= set(kinds), kinds
            assert [e["seq"] for e in live["events"]] == sorted(e["seq"] for e in live["events"])
            assert httpx.get(f"{base}/ports", timeout=10).json()["leased"] == 1
            time.sleep(1.0)  # some RTP both ways
            gone = httpx.delete(f"{base}/calls/{call['call_id']}", headers=AUTH, timeout=30)
            assert gone.status_code == 200, gone.text
            record = _until(lambda: _cdr(base, call["call_id"]), 20, "no closed CDR")
            assert record["outcome"] == "connected", record
            assert record["sip_reason"].endswith("(local)"), record  # we hung up
            assert record["rtp"]["tx_packets"] > 0 and record["rtp"]["rx_packets"] > 0, record
            assert record["answered_at"] is not None
            assert httpx.get(f"{base}/ports", timeout=10).json()["leased"] == 0

        with peer_process("--answer", "busy") as (peer_port, _):
            body = {"room": ROOM, "protocol": "h323", "meeting_id": MEETING,
                    "host": "127.0.0.1", "port": peer_port}
            created = httpx.post(f"{base}/calls", json=body, headers=AUTH, timeout=20)
            assert created.status_code == 201, created.text
            call_id = created.json()["call_id"]
            record = _until(lambda: _cdr(base, call_id), 30, "no closed CDR for the busy call")
            assert record["outcome"] == "busy", record
            assert record["sip_code"] == 17 and record["sip_reason"].endswith("(received)")
            assert httpx.get(f"{base}/ports", timeout=10).json()["leased"] == 0
    finally:
        stop_process(serve)
