"""Accuracy against Wireshark on the captures others made (``../shared/testdata/pcaps``).

For every RTP stream: packets and lost equal ``tshark -q -z rtp,streams`` (RTP heuristic on, as
the analysis uses it), and on streams without telephone events the mean and max jitter are within
0.1 ms of Wireshark's. ``crcgw analyze`` gives its figures on every capture without a traceback.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.analysis.report import analyse_capture
from tests.analysis.conftest import need_tshark, shared_captures
from tests.analysis.wireshark_ref import assert_streams_match, wireshark_streams

CAPTURES = shared_captures()
pytestmark = [
    need_tshark,
    pytest.mark.capture,
    pytest.mark.skipif(not CAPTURES, reason="../shared/testdata/pcaps is absent"),
]


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_streams_match_wireshark(capture: Path) -> None:
    report = assert_streams_match(capture)
    assert report.streams, "every shared capture carries RTP"


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_without_heuristic_the_streams_of_sdp_and_h245_match(capture: Path) -> None:
    # tshark then decodes RTP only where SDP or H.245 announced it (rtp_example.raw: H.245)
    reference = wireshark_streams(capture, heuristic=False)
    report = analyse_capture(capture, heuristic_rtp=False)
    ours = {(s.src, s.dst, s.ssrc): (s.stats.packets, s.stats.lost) for s in report.streams}
    assert ours == {key: (ws.packets, ws.lost) for key, ws in reference.items()}


def test_dtmf_capture_reports_digits_and_audio_only_jitter() -> None:
    capture = next((p for p in CAPTURES if p.name == "SIP_DTMF2.cap"), None)
    if capture is None:
        pytest.skip("SIP_DTMF2.cap not in the shared captures")
    report = analyse_capture(capture)
    events = [s for s in report.streams if s.dtmf]
    assert [s.dtmf for s in events] == ["6789123"]
    ws = wireshark_streams(capture)[(events[0].src, events[0].dst, events[0].ssrc)]
    # Wireshark's jitter is inflated by the events' frozen timestamps; ours is audio only
    assert ws.max_jitter_ms > 10 * events[0].stats.max_jitter_ms
    answered = [c for c in report.calls if c.final_code == 200]
    assert answered and answered[0].setup_ms is not None and answered[0].setup_ms > 0
    assert any(c.final_code == 603 for c in report.calls)


def test_malformed_background_is_counted_with_full_dissection() -> None:
    capture = next((p for p in CAPTURES if p.name == "SIP_CALL_RTP_G711"), None)
    if capture is None:
        pytest.skip("SIP_CALL_RTP_G711 not in the shared captures")
    # two malformed SMPP packets in the background traffic: only a full dissection sees them
    assert analyse_capture(capture).malformed == 0
    full = analyse_capture(capture, full_dissection=True)
    assert full.malformed == 2
    assert len(full.streams) == 5


def test_h323_call_is_grouped_by_call_reference() -> None:
    capture = next((p for p in CAPTURES if p.name == "rtp_example.raw"), None)
    if capture is None:
        pytest.skip("rtp_example.raw not in the shared captures")
    report = analyse_capture(capture)
    (call,) = report.calls
    assert call.protocol == "H.323"
    assert [e.label for e in call.events][0] == "Setup"
    assert "Connect" in [e.label for e in call.events]
    assert call.setup_ms is not None and call.setup_ms > 0


def test_auth_challenges_are_counted() -> None:
    capture = next((p for p in CAPTURES if p.name == "aaa.pcap"), None)
    if capture is None:
        pytest.skip("aaa.pcap not in the shared captures")
    report = analyse_capture(capture)
    assert sum(c.auth_challenges for c in report.calls) >= 1
    assert any(o.method == "REGISTER" and 401 in o.final_codes for o in report.other_dialogs)


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_cli_json_on_every_shared_capture(capture: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "analyze", str(capture), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data = json.loads(proc.stdout)
    assert set(data) >= {"calls", "rtp_streams", "malformed"}
    assert isinstance(data["malformed"], int)
    for call in data["calls"]:
        assert set(call) >= {"call_id", "from", "to", "setup_ms", "final_code", "messages"}
    for stream in data["rtp_streams"]:
        assert stream["ssrc"].startswith("0x")
        assert ":" in stream["src"] and ":" in stream["dst"]
        for key in ("payload_type", "codec", "packets", "lost", "jitter_ms", "max_jitter_ms",
                    "max_delta_ms", "mos"):
            assert key in stream
