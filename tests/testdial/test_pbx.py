"""``crcgw test-dial`` through a real registrar: Kamailio with digest auth, baresip as the far
end (registered as bob); alice registers and dials bob's address of record through Kamailio."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.testdial.conftest import REPO, Pbx, crcgw_argv, run_crcgw, stage, verdict

pytestmark = [pytest.mark.sip, pytest.mark.slow]

ENV = {"ALICE_PW": "alicepw"}


def _dial(pbx: Pbx, transport: str, *extra: str) -> list[str]:
    duration = [] if "--duration" in extra else ["--duration", "2s"]
    return ["test-dial", pbx.bob.aor, "--registrar", pbx.kamailio.address(transport),
            "--user", "alice", "--password-env", "ALICE_PW", "--transport", transport,
            *duration, "--json", *extra]


def test_registers_and_dials_baresip_through_kamailio_over_udp(pbx: Pbx) -> None:
    mark = pbx.bob.mark()
    run = run_crcgw(_dial(pbx, "udp"), ENV)
    assert run.code == 0, run.stderr + run.stdout
    assert "alicepw" not in run.stdout + run.stderr
    report = run.json()
    assert report["ok"] is True and report["target"] == pbx.bob.aor
    register = stage(report, "register")
    assert register["status"] == "ok" and register["ms"] > 0 and "200" in register["detail"]
    assert verdict(report, "register_ms")["status"] == "pass"
    assert stage(report, "crc_port")["status"] == "skipped"  # no API credentials
    # baresip sends 180 and 200 about 0.6 ms apart and Kamailio relays them from two UDP
    # workers. UDP keeps no order and a 180 is never retransmitted (no 100rel): it may come
    # after the 200 (the caller then ignores it) or not at all. What holds: a ringing stage,
    # when reported, came before the answer; otherwise the report says none was seen.
    ringing, answered = stage(report, "invite_180"), stage(report, "invite_200")
    assert answered["status"] == "ok"
    if ringing["status"] == "ok":
        assert 0 < ringing["ms"] <= answered["ms"]
    else:
        assert ringing["status"] == "skipped", ringing
        assert ringing["detail"] == "the far end answered without ringing"
    assert stage(report, "bye")["status"] == "ok"
    assert stage(report, "dtmf")["status"] == "skipped"
    media = report["media"]
    assert media["rx_packets"] >= 60 and media["tx_packets"] >= 60 and media["lost"] == 0
    assert all(v["status"] == "pass" for v in report["verdicts"])
    # the far end really had the call
    assert pbx.bob.wait_event("CALL_ESTABLISHED", 5, mark) is not None
    assert pbx.bob.wait_event("CALL_CLOSED", 5, mark) is not None


def test_tls_times_the_tcp_connect_and_the_handshake(pbx: Pbx) -> None:
    run = run_crcgw(_dial(pbx, "tls", "--ca", str(pbx.kamailio.cert)), ENV)
    assert run.code == 0, run.stderr + run.stdout
    report = run.json()
    assert report["transport"] == "tls"
    connect = stage(report, "connect")
    assert connect["status"] == "ok" and connect["ms"] > 0
    assert "TLS handshake" in connect["detail"] and "TLSv1." in connect["detail"]
    assert verdict(report, "connect_ms")["status"] == "pass"
    assert "over TLS" in stage(report, "register")["detail"]


def test_wrong_password_fails_at_register_with_the_reason(pbx: Pbx) -> None:
    run = run_crcgw(_dial(pbx, "udp"), {"ALICE_PW": "not-the-password"})
    assert run.code == 1, run.stderr + run.stdout
    assert "not-the-password" not in run.stdout + run.stderr
    report = run.json()
    assert report["ok"] is False
    register = stage(report, "register")
    assert register["status"] == "failed"
    assert register["detail"].startswith("alice: registrar ")
    assert "refused the credentials (403" in register["detail"]
    assert report["error"] == register["detail"]
    assert stage(report, "invite_200")["status"] == "skipped"
    assert report["media"] is None


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_dtmf_from_the_far_end_stays_out_of_the_captured_jitter(
    pbx: Pbx, tmp_path: Path
) -> None:
    """baresip sends RFC 4733 digits in the middle of the call: pjmedia's own jitter counts
    those packets (tens of ms), the capture's audio-only jitter does not."""
    pcap = tmp_path / "dtmf.pcapng"
    mark = pbx.bob.mark()
    proc = subprocess.Popen(
        crcgw_argv(*_dial(pbx, "udp", "--duration", "4s", "--capture", str(pcap))),
        env={**os.environ, **ENV, "PYTHONPATH": str(REPO)}, cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert pbx.bob.wait_event("CALL_ESTABLISHED", 15, mark) is not None
        time.sleep(1.0)
        pbx.bob.send_dtmf("1234567890*#")
        out, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err + out
    report = json.loads(out)
    media = report["media"]
    assert media["source"] == "pjsua; jitter from the capture (audio only)"
    # RFC 4733 packets would put tens of ms (~90) into it; loaded-machine audio jitter alone
    # stays well under 40 ms.
    assert media["max_jitter_ms"] < 40, media
    assert any("sent 12 RFC 4733 DTMF digits" in note for note in report["notes"])
    received = [s for s in report["capture"]["rtp_streams"] if s["dtmf"]]
    assert len(received) == 1 and received[0]["jitter_ms"] == media["jitter_ms"]
