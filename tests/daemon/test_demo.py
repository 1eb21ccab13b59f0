"""The README's main job: ``crcgw demo`` on embedded defaults, as a new user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gateway.peers.kamailio import kamailio_available


@pytest.mark.skipif(not kamailio_available(), reason="kamailio is not installed")
def test_demo_json_reports_a_full_call() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--json", "--hold", "2"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    report = json.loads(result.stdout)
    # The failed checks first, then the progress (stderr): enough to tell what went wrong.
    assert report["failed"] == [], (report["failed"], result.stderr[-3000:])
    assert result.returncode == 0 and report["ok"] is True
    assert report["registration"]["state"] == "registered"
    assert report["registration"]["code"] == 200
    call = report["call"]
    assert call["connected"] is True and call["dtmf_ok"] is True
    assert report["callout"]["answered"] is True  # the meeting called the room, which answered
    assert 0 < call["setup_ms"] < 5000
    assert call["rtp"]["rx_packets"] > 50 and call["rtp"]["tx_packets"] > 50
    video = call["video"]  # the room's call carries video both ways (the stand-in's picture)
    assert video["received_frames"] > 5 and video["sent_frames"] > 5, video
    assert (video["width"], video["height"]) == (640, 360)
    ports = report["ports"]
    for when in ("before", "during", "after"):
        assert set(ports[when]) == {"allocated", "in_use"}
    assert ports["during"]["in_use"] == ports["before"]["in_use"] + 1
    assert ports["after"] == ports["before"]


def test_demo_table_output() -> None:
    if not kamailio_available():
        pytest.skip("kamailio is not installed")
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "demo", "--hold", "1"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "result: OK" in result.stdout
    assert "CRC ports during" in result.stdout
    assert "meeting calls the room" in result.stdout
