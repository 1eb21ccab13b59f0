"""``crcgw test-dial --embedded``: the API emulator and the stand-in meeting, dialled for real
(passcode in the URI, passcode by IVR, a wrong passcode, strict thresholds, ``--capture``)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from api_client.emulator import meeting_passcode
from gateway.analysis.pcapscan import scan_capture
from tests.testdial.conftest import MEETING, run_crcgw, stage, verdict

pytestmark = pytest.mark.slow

STAGES = ["dns", "connect", "crc_port", "register", "invite_100", "invite_180", "invite_200",
          "dtmf", "media", "video", "bye"]
SECRET = meeting_passcode(MEETING)


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text


def test_passcode_in_uri_passes_with_every_figure() -> None:
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--duration", "2s", "--json"])
    assert run.code == 0, run.stderr + run.stdout
    _no_secret(run.stdout, run.stderr)
    report = run.json()
    assert set(report) >= {"ok", "target", "protocol", "transport", "stages", "media",
                           "verdicts", "ports", "capture", "error", "notes"}
    assert report["ok"] is True and report["error"] is None
    assert report["protocol"] == "sip" and report["transport"] == "udp"
    assert report["target"].startswith(f"sip:{MEETING}.***@127.0.0.1:")
    assert [s["name"] for s in report["stages"]] == STAGES
    for s in report["stages"]:
        assert set(s) == {"name", "label", "status", "ms", "detail"}
    assert stage(report, "dns") | {"detail": ""} == {
        "name": "dns", "label": "DNS", "status": "ok", "ms": 0.0, "detail": ""}
    assert stage(report, "connect")["status"] == "skipped"  # UDP
    assert stage(report, "register")["status"] == "skipped"  # no account
    assert stage(report, "crc_port")["status"] == "ok"
    setup = stage(report, "invite_200")
    assert setup["status"] == "ok" and 0 < setup["ms"] < 5000
    trying = stage(report, "invite_100")  # a 100 over UDP is never retransmitted: may be lost
    assert trying["status"] in ("ok", "skipped"), trying
    if trying["status"] == "ok":
        assert 0 < trying["ms"] <= setup["ms"]
    dtmf = stage(report, "dtmf")
    assert dtmf["status"] == "skipped" and f"joined meeting {MEETING}" in dtmf["detail"]
    assert stage(report, "media")["status"] == "ok"
    assert stage(report, "bye")["status"] == "ok" and stage(report, "bye")["ms"] > 0
    media = report["media"]
    # 2 s of 20 ms packets each way (a loaded machine may start a little late)
    assert 60 <= media["rx_packets"] <= 130 and 60 <= media["tx_packets"] <= 130
    assert media["lost"] == 0 and media["loss_pct"] == 0
    assert media["codec"] in ("G722", "PCMU", "PCMA")
    assert 0 <= media["jitter_ms"] <= media["max_jitter_ms"] < 30
    assert 4.0 < media["mos"] <= 4.5
    # the keyframe round trip is judged only when a keyframe was asked for (a 2 s call may
    # end before test-dial's probe one second after the first picture)
    metrics = {v["metric"] for v in report["verdicts"]} - {"video_keyframe_rtt_ms"}
    assert metrics == {"dns_ms", "invite_to_100_ms", "invite_to_180_ms", "setup_ms", "bye_ms",
                       "packets", "loss_pct", "jitter_ms", "max_jitter_ms", "mos",
                       "video_first_frame_ms", "video_fps", "video_height", "video_loss_pct",
                       "video_freezes", "video_frames"}
    # the stand-in answers video with its composed picture at its room size
    assert stage(report, "video")["status"] == "ok"
    assert (report["video"]["width"], report["video"]["height"]) == (640, 360)
    assert all(v["status"] == "pass" for v in report["verdicts"])
    assert verdict(report, "mos")["value"] == pytest.approx(media["mos"], abs=0.001)
    ports = report["ports"]
    assert ports["during"]["in_use"] == ports["before"]["in_use"] + 1
    assert ports["after"]["in_use"] == ports["before"]["in_use"]


def test_ivr_passcode_is_sent_when_asked_and_accepted() -> None:
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--ivr", "--duration", "2s", "--json"])
    assert run.code == 0, run.stderr + run.stdout
    _no_secret(run.stdout, run.stderr)
    report = run.json()
    assert report["ok"] is True
    assert report["target"].startswith(f"sip:{MEETING}@127.0.0.1:")
    dtmf = stage(report, "dtmf")
    assert dtmf["status"] == "ok", dtmf
    assert "passcode accepted" in dtmf["detail"]
    # ten digits and '#' of 160 ms each at least, then the meeting's answer
    assert 1000 < dtmf["ms"] < 3000
    assert verdict(report, "dtmf_ms")["status"] == "pass"
    assert report["ports"]["during"]["in_use"] == report["ports"]["before"]["in_use"] + 1


def test_wrong_passcode_fails_the_dtmf_stage_and_the_exit_code() -> None:
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--ivr", "--passcode", "1111",
                     "--duration", "1s", "--json"])
    assert run.code == 1, run.stderr + run.stdout
    report = run.json()
    assert report["ok"] is False
    dtmf = stage(report, "dtmf")
    assert dtmf["status"] == "failed" and "refused" in dtmf["detail"]
    assert verdict(report, "dtmf_ms")["status"] == "missing"
    assert "1111" not in run.stdout


def test_strict_thresholds_file_fails_and_the_table_says_why(tmp_path: Path) -> None:
    limits = tmp_path / "limits.yaml"
    limits.write_text("setup_ms: 0.001\nmos: {min: 3.0}\n")
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--duration", "1s", "--transport",
                     "auto", "--thresholds", str(limits)])
    assert run.code == 1, run.stderr + run.stdout
    # AUTO: the stand-in speaks no TLS, so TCP is taken (the table says why)
    assert "(SIP/TCP)" in run.stdout and "AUTO," in run.stdout
    lines = [line for line in run.stdout.splitlines() if "setup_ms" in line]
    assert lines and "FAIL" in lines[0] and "<= 0.001 ms" in lines[0]
    assert "result: FAIL" in run.stdout
    mos_line = next(line for line in run.stdout.splitlines() if line.strip("│ ").startswith("mos"))
    assert ">= 3 " in mos_line and "PASS" in mos_line


@pytest.mark.capture
@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
def test_capture_records_the_call_and_adds_its_analysis(tmp_path: Path) -> None:
    pcap = tmp_path / "call.pcapng"
    run = run_crcgw(["test-dial", MEETING, "--embedded", "--duration", "2s", "--capture",
                     str(pcap), "--json"])
    assert run.code == 0, run.stderr + run.stdout
    _no_secret(run.stdout, run.stderr)
    assert pcap.is_file() and pcap.stat().st_size > 10_000
    report = run.json()
    capture = report["capture"]
    assert capture["file"] == str(pcap)
    calls = capture["calls"]
    assert len(calls) == 1 and calls[0]["final_code"] == 200
    # INVITE to 200 on the wire agrees with the engine's own figure
    assert calls[0]["setup_ms"] == pytest.approx(stage(report, "invite_200")["ms"], abs=20)
    assert f"{MEETING}.***@" in calls[0]["to"]
    media = report["media"]
    video = [s for s in capture["rtp_streams"] if s["codec"] != media["codec"]]
    assert len(video) == 2 and all(s["packets"] > 10 for s in video), video  # video both ways
    streams = [s for s in capture["rtp_streams"] if s["codec"] == media["codec"]]
    assert len(streams) == 2, streams
    ours, theirs = sorted(streams, key=lambda s: s["src"] != streams[0]["src"])
    counts = sorted(s["packets"] for s in streams)
    assert all(s["lost"] == 0 and s["codec"] == media["codec"] for s in streams)
    # the capture sees what pjsua counted each way (a few packets may follow the last reading)
    assert abs(counts[0] - min(media["rx_packets"], media["tx_packets"])) <= 5
    assert abs(counts[1] - max(media["rx_packets"], media["tx_packets"])) <= 5
    assert {ours["src"], ours["dst"]} == {theirs["src"], theirs["dst"]}
    assert all(s["mos"] > 4.0 for s in streams)
    # only the call's ports were captured: the stand-in's SIP port and our RTP/RTCP range
    assert capture["interface"] == "lo"
    sip_port = int(report["target"].rsplit(":", 1)[1])
    match = re.fullmatch(r"port (\d+) or udp portrange (\d+)-(\d+)", capture["filter"])
    assert match is not None and int(match.group(1)) == sip_port
    low, high = int(match.group(2)), int(match.group(3))
    cols = scan_capture(pcap)
    for sport, dport in zip(cols.sport.tolist(), cols.dport.tolist(), strict=True):
        assert sip_port in (sport, dport) or low <= sport <= high or low <= dport <= high
    assert any(low <= int(s["src"].rsplit(":", 1)[1]) <= high for s in streams)
