"""Calls the tests make themselves with real peers (two baresip UAs on loopback, captured by
tshark with a capture filter), checked against the call that was made and against Wireshark."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.etree import ElementTree

import pytest

from gateway.analysis.report import analyse_capture
from tests.analysis.capture import CallFacts
from tests.analysis.conftest import need_peers
from tests.analysis.wireshark_ref import wireshark_streams

pytestmark = [need_peers, pytest.mark.sip, pytest.mark.capture, pytest.mark.slow]


def _check_call(facts: CallFacts) -> None:
    report = analyse_capture(facts.capture)
    (call,) = report.calls
    assert call.final_code == 200
    assert call.setup_ms is not None and 0 < call.setup_ms < 1000 * facts.established_s + 50
    assert call.ended_by == call.events[0].src  # the caller hung up, from where it sent INVITE
    assert [e.label.split()[0] for e in call.events][:1] == ["INVITE"]
    assert "BYE" in [e.label for e in call.events]
    assert len(report.streams) == 2
    expected_packets = facts.talk_s / 0.020
    for stream in report.streams:
        assert stream.call_id == call.call_id
        assert stream.codec.upper() in ("PCMU", "PCMA", "G722")
        assert stream.stats.lost == 0 and stream.stats.sequence_errors == 0
        audio = stream.stats.audio_packets
        # the RTP clock runs from answer to BYE: duration / 20 ms, with a little slack for the
        # packets around the answer and the hang-up
        assert expected_packets * 0.85 < audio < expected_packets * 1.2, (audio, expected_packets)
        assert stream.mos is not None and stream.mos > 4.0
    senders = {s.src.rsplit(":", 1)[1]: s for s in report.streams}
    from_caller = [s for port, s in senders.items()
                   if facts.caller_rtp[0] <= int(port) <= facts.caller_rtp[1]]
    assert [s.dtmf for s in from_caller] == [facts.digits_sent]
    assert facts.digits_received == facts.digits_sent  # baresip agrees on what was sent

    reference = wireshark_streams(facts.capture)
    for stream in report.streams:
        ws = reference[(stream.src, stream.dst, stream.ssrc)]
        assert (stream.stats.packets, stream.stats.lost) == (ws.packets, ws.lost)
        if "telephone-event" not in ws.payload:
            assert stream.stats.mean_jitter_ms == pytest.approx(ws.mean_jitter_ms, abs=0.1)
            assert stream.stats.max_jitter_ms == pytest.approx(ws.max_jitter_ms, abs=0.1)


def test_udp_call_analysis_matches_the_call_made(udp_call: CallFacts) -> None:
    _check_call(udp_call)


def test_tcp_call_analysis_matches_the_call_made(tcp_call: CallFacts) -> None:
    assert tcp_call.capture.suffix == ".pcap"
    _check_call(tcp_call)
    (call,) = analyse_capture(tcp_call.capture).calls
    assert call.events and all(e.src and e.dst for e in call.events)


def test_cli_table_json_and_diagram(udp_call: CallFacts, tmp_path) -> None:  # type: ignore[no-untyped-def]
    svg = tmp_path / "ladder.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "analyze", str(udp_call.capture), "--diagram", str(svg)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "INVITE" in proc.stdout and "RTP streams" in proc.stdout
    root = ElementTree.fromstring(svg.read_text())
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any(t.startswith("INVITE") for t in texts) and "BYE" in texts
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "analyze", str(udp_call.capture), "--json"],
        capture_output=True, text=True, timeout=120,
    )
    data = json.loads(proc.stdout)
    assert data["calls"][0]["dtmf_rtp"] == udp_call.digits_sent
    assert data["malformed"] == 0


def test_call_through_kamailio_shows_auth_rounds(proxied_call: CallFacts) -> None:
    report = analyse_capture(proxied_call.capture)
    calls = [c for c in report.calls if c.final_code == 200]
    assert len(calls) == 1, [(c.call_id, c.final) for c in report.calls]
    call = calls[0]
    assert call.auth_challenges == 1  # the INVITE's 407 round
    labels = [e.label for e in call.events]
    assert any(label.startswith("407") for label in labels)
    # the proxy forwards: the same messages appear on both legs (over UDP a BYE whose 200 is
    # late, past T1 on a busy machine, is sent again: at least once on each leg)
    assert labels.count("BYE") >= 2
    assert call.setup_ms is not None and call.setup_ms < 1000 * proxied_call.established_s + 50
    first = call.events[0]
    ok_to_caller = next(e for e in call.events if e.label.startswith("200") and e.dst == first.src)
    assert call.setup_ms == pytest.approx((ok_to_caller.time_s - first.time_s) * 1000.0)
    registers = [o for o in report.other_dialogs if o.method == "REGISTER"]
    assert len(registers) == 2 and all(401 in o.final_codes for o in registers)
    assert all(200 in o.final_codes for o in registers)
    dtmf = [s.dtmf for s in report.streams if s.dtmf]
    assert dtmf == [proxied_call.digits_sent]
    reference = wireshark_streams(proxied_call.capture)
    assert len(report.streams) == len(reference) == 2
    for stream in report.streams:
        ws = reference[(stream.src, stream.dst, stream.ssrc)]
        assert (stream.stats.packets, stream.stats.lost) == (ws.packets, ws.lost)
        assert stream.stats.lost == 0
        assert stream.call_id == call.call_id
