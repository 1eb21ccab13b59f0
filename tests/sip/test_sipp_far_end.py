"""Honest reports against SIPp as the far end (Debian ``sip-tester``), one scenario per fault.

Each scenario (``tests/sip/sipp/*.xml``) makes the far end misbehave in one way; ``crcgw dial``
and ``crcgw test-dial`` must give the right exit code and a cause that says whether it was
received from the far end or made locally. The set-up time is compared with tshark's reading
of a capture of the same call.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.harness.sipp import Sipp, sipp_available
from tests.sip.test_cli import crcgw

pytestmark = [
    pytest.mark.sip,
    pytest.mark.skipif(not sipp_available(), reason="sipp (sip-tester) not installed"),
]


@pytest.fixture
def far_end() -> Iterator[Any]:
    started: list[Sipp] = []

    def make(scenario: str) -> Sipp:
        peer = Sipp(scenario)
        started.append(peer)
        return peer.start()

    try:
        yield make
    finally:
        for peer in started:
            peer.stop()


def dial_json(peer: Sipp, *extra: str) -> tuple[int, dict[str, Any], str]:
    out = crcgw("dial", peer.uri, "--json", "--duration", "1", "--timeout", "5", *extra)
    return out.returncode, json.loads(out.stdout), out.stderr


def test_no_common_codec_is_a_failed_call_with_a_local_cause(far_end: Any) -> None:
    peer = far_end("no_common_codec")
    code, report, stderr = dial_json(peer)
    assert code == 1, stderr
    assert report["connected"] is False
    assert "connected" not in [row["event"] for row in report["events"]]
    cause = report["cause"]
    assert cause["origin"] == "local" and cause["code"] in (415, 488)
    assert "no codec in common" in cause["explanation"]
    assert "made locally" in stderr
    assert report["stats"]["rx_packets"] == 0
    assert "G729" in peer.messages()  # the far end really offered only G.729


def test_200_without_sdp_is_a_failed_call_with_a_local_cause(far_end: Any) -> None:
    peer = far_end("ok_without_sdp")
    code, report, stderr = dial_json(peer)
    assert code == 1, stderr
    assert report["connected"] is False
    cause = report["cause"]
    assert cause["origin"] == "local", cause
    assert cause["code"] != 200
    assert "without SDP" in cause["explanation"]


def test_busy_after_session_progress_is_received(far_end: Any) -> None:
    peer = far_end("busy_after_183")
    code, report, stderr = dial_json(peer)
    assert code == 1, stderr
    events = [(row["event"], row["code"]) for row in report["events"]]
    assert ("early-media", 183) in events
    cause = report["cause"]
    assert (cause["code"], cause["origin"]) == (486, "received")
    assert "received from the far end" in stderr
    assert report["stats"]["invite_to_ringing_ms"] is not None


def test_silent_far_end_times_out_locally(far_end: Any) -> None:
    peer = far_end("silent")
    out = crcgw("dial", peer.uri, "--json", "--timeout", "2")
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    cause = report["cause"]
    assert cause["origin"] == "local", cause  # pjsip's 487/408, nothing came back
    assert cause["explanation"].startswith("no answer within 2 s")
    assert "SIP/2.0 " not in peer.messages().split("INVITE sip:", 1)[0]


def test_normal_call_bye_answered_and_received(far_end: Any) -> None:
    peer = far_end("answer")
    code, report, stderr = dial_json(peer)
    assert code == 0, stderr
    assert report["connected"] is True
    assert report["stats"]["rx_packets"] > 0  # SIPp echoes our RTP
    assert report["bye"]["code"] == 200 and report["bye"]["origin"] == "received"
    assert report["cause"]["origin"] == "local"  # we hung up
    assert report["cause"]["explanation"] is None


def test_bye_never_answered_dial_and_test_dial(far_end: Any) -> None:
    peer = far_end("bye_unanswered")
    code, report, stderr = dial_json(peer, "--bye-timeout", "2")
    assert code == 0, stderr  # the call itself connected and had media
    assert report["bye"]["code"] is None
    assert report["bye"]["origin"] == "local"
    assert report["bye"]["ms"] >= 2000
    assert peer.wait_message("BYE sip:", 5)

    peer = far_end("bye_unanswered")
    out = crcgw("test-dial", peer.uri, "--duration", "1s", "--bye-timeout", "2s", "--json")
    assert out.returncode == 1, out.stderr
    stages = {stage["name"]: stage for stage in json.loads(out.stdout)["stages"]}
    bye = stages["bye"]
    assert bye["status"] == "failed", bye
    assert "no answer to the BYE within 2 s" in bye["detail"] and "(local)" in bye["detail"]
    assert "200" not in bye["detail"]  # not the INVITE's code
    assert bye["ms"] >= 2000
    assert stages["invite_200"]["status"] == "ok"


def test_far_end_gone_mid_call_is_ended_by_rtp_inactivity(far_end: Any) -> None:
    peer = far_end("answer")
    killer = threading.Thread(
        target=lambda: peer.wait_message("ACK sip:", 20) and peer.kill(), daemon=True
    )
    killer.start()
    out = crcgw(
        "dial", peer.uri, "--json", "--duration", "60", "--timeout", "5", "--rtp-timeout", "2"
    )
    killer.join(30)
    assert out.returncode == 1, out.stderr
    report = json.loads(out.stdout)
    assert report["connected"] is True
    cause = report["cause"]
    assert cause["origin"] == "local", cause
    assert "no RTP from the far end" in cause["explanation"]
    assert report["stats"]["connected_s"] < 30  # not the 60 s asked for
    assert "connected, then failed" in out.stderr


def _wire_setup_ms(pcap: Path, port: int) -> float:
    """INVITE out to 200 in, read by tshark itself from the capture (first INVITE, first 200)."""
    fields = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), "-d", f"udp.port=={port},sip", "-Y", "sip",
         "-T", "fields", "-e", "frame.time_epoch", "-e", "sip.Method",
         "-e", "sip.Status-Code", "-e", "sip.CSeq.method"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout
    invite = ok = None
    for line in fields.splitlines():
        at, method, status, cseq_method = (line.split("\t") + ["", "", "", ""])[:4]
        if method == "INVITE" and invite is None:
            invite = float(at)
        elif status == "200" and cseq_method == "INVITE" and ok is None:
            ok = float(at)
    assert invite is not None and ok is not None, fields
    return (ok - invite) * 1000


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_setup_time_matches_the_capture(far_end: Any, tmp_path: Path) -> None:
    """Our INVITE->200 against tshark's on the same call. The engine stamps messages where
    pjsip logs them (just before the send, right after the receive). Measured on the 2-core
    machine under load: 0.15-0.2 ms above the wire, one call in six 2.9 ms (the engine thread
    descheduled). An answer 0.13 ms after the INVITE (SIPp's immediate one) reads up to 4 ms
    late: the engine thread is still finishing the dial command when it arrives. So: up to
    five calls, one must agree within 1 ms; none may be off by more than a scheduling stall
    (50 ms) on a loaded machine."""
    differences = []
    for attempt in range(5):
        peer = far_end("answer_slow")  # 200 after 50 ms: the engine is idle when it comes
        pcap = tmp_path / f"call{attempt}.pcapng"
        out = crcgw("test-dial", peer.uri, "--duration", "1s", "--capture", str(pcap), "--json")
        report = json.loads(out.stdout)
        stages = {stage["name"]: stage for stage in report["stages"]}
        ours = stages["invite_200"]["ms"]
        wire = _wire_setup_ms(pcap, peer.port)
        assert ours >= wire - 0.05, (ours, wire)  # never faster than the wire
        differences.append(ours - wire)
        if differences[-1] <= 1.0:
            break
    assert min(differences) <= 1.0, differences
    assert max(differences) <= 50.0, differences
