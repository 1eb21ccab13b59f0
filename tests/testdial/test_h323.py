"""``crcgw test-dial --protocol h323``: the project's own H.323 answering peer (``crcgw
h323-peer``, a child process) dialled with per-message times."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.testdial.conftest import REPO, crcgw_argv, run_crcgw, stage

pytestmark = pytest.mark.slow


@contextmanager
def h323_peer(*options: str) -> Iterator[int]:
    proc = subprocess.Popen(crcgw_argv("h323-peer", "--port", "0", "--json", *options),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=REPO)
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        port = int(json.loads("".join(lines))["listening"].rsplit(":", 1)[1])
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_h323_stages_are_timed_from_the_setup(tmp_path: Path) -> None:
    pcap = tmp_path / "h323.pcap"
    with h323_peer("--ring", "0.2", "--rtcp-interval", "0.2") as port:
        run = run_crcgw(["test-dial", f"127.0.0.1:{port}##824193746#4321", "--duration", "1s",
                         "--capture", str(pcap), "--json"])
    assert run.code == 0, run.stderr + run.stdout
    assert "4321" not in run.stdout
    report = run.json()
    assert report["protocol"] == "h323" and report["ok"] is True
    assert report["target"] == f"127.0.0.1:{port}##824193746#***"
    assert stage(report, "connect")["status"] == "ok"
    proceeding = stage(report, "invite_100")["ms"]
    alerting = stage(report, "invite_180")["ms"]
    connect = stage(report, "invite_200")["ms"]
    assert 0 < proceeding <= alerting < connect
    assert connect >= 200  # the peer rings 0.2 s before it connects
    assert stage(report, "bye")["status"] == "sent"
    # G.711 by fastStart, RTP both ways for the 1 s call, measured like SIP's
    assert stage(report, "media")["status"] == "ok"
    media = report["media"]
    assert media["codec"] == "PCMU" and media["source"] == "h323"
    assert media["rx_packets"] >= 10 and media["tx_packets"] >= 10
    assert media["lost"] == 0 and media["jitter_ms"] is not None and media["mos"] > 3
    # the capture saw the same call: Setup to Connect on the wire within a few ms of ours
    calls = report["capture"]["calls"]
    assert len(calls) == 1 and calls[0]["protocol"] == "H.323" and calls[0]["final"] == "Connect"
    # tshark (the capture's judge) found the audio both ways: two PCMU streams, crossing
    streams = report["capture"]["rtp_streams"]
    assert sorted(x["payload_types"] for x in streams) == [[0], [0]]
    assert {(x["src"], x["dst"]) for x in streams} == {
        (streams[0]["src"], streams[0]["dst"]), (streams[0]["dst"], streams[0]["src"])}
    assert all(x["packets"] >= 10 for x in streams)
    # (loose: on a loaded 2-core machine the two clocks drift apart by tens of ms)
    assert calls[0]["setup_ms"] == pytest.approx(connect, abs=100)
    assert {"dns_ms", "connect_ms", "invite_to_100_ms", "invite_to_180_ms", "setup_ms",
            "loss_pct", "jitter_ms"} <= {v["metric"] for v in report["verdicts"]}
    # RTCP both ways (the peer reports every 0.2 s, test-dial every duration/5): the media
    # path's round trip and the far end's view of our stream are judged too
    verdicts = {v["metric"]: v for v in report["verdicts"]}
    assert verdicts["rtt_ms"]["status"] == "pass" and 0 <= verdicts["rtt_ms"]["value"] < 300
    assert verdicts["far_loss_pct"]["status"] == "pass" and verdicts["far_loss_pct"]["value"] == 0
    assert media["rtt_ms"] == verdicts["rtt_ms"]["value"]
    # the capture takes the RTCP too (the port above RTP), and nothing in it is malformed
    assert "udp portrange" in report["capture"]["filter"] and report["capture"]["malformed"] == 0


@pytest.mark.parametrize("tunnel", ["--tunnel", "--no-tunnel"])
def test_h323_media_opens_by_h245_when_fast_start_is_refused(tunnel: str) -> None:
    with h323_peer("--no-fast-start", tunnel) as port:
        run = run_crcgw(["test-dial", f"127.0.0.1:{port}##824193746", "--duration", "1s",
                         "--json"])
    assert run.code == 0, run.stderr + run.stdout
    report = run.json()
    media = stage(report, "media")
    assert media["status"] == "ok" and "OpenLogicalChannel" in media["detail"]
    separate = "separate H.245 connection" in media["detail"]
    assert separate == (tunnel == "--no-tunnel")  # the peer declined the tunnel
    assert report["media"]["rx_packets"] >= 10 and report["media"]["tx_packets"] >= 10


def test_h323_busy_fails_with_the_cause() -> None:
    with h323_peer("--answer", "busy") as port:
        run = run_crcgw(["test-dial", "824193746", "--protocol", "h323", "--host",
                         f"127.0.0.1:{port}", "--duration", "1s"])
    assert run.code == 1, run.stderr + run.stdout
    assert "cause 17" in run.stdout and "result: FAIL" in run.stdout


def test_h323_video_is_judged_like_sips() -> None:
    """A far end that offers H.264 (``h323-peer --video``): the video stage and the video
    verdicts come from what was decoded and sent over the H.245-opened channels."""
    with h323_peer("--video") as port:
        run = run_crcgw(["test-dial", f"127.0.0.1:{port}##824193746", "--duration", "3s",
                         "--json"])
    assert run.code == 0, run.stderr + run.stdout
    report = run.json()
    video = stage(report, "video")
    assert video["status"] == "ok", video
    assert report["video"]["codec"] == "H264" and report["video"]["direction"] == "sendrecv"
    assert report["video"]["decoded_frames"] >= 5 and report["video"]["frames_sent"] >= 5
    assert (report["video"]["width"], report["video"]["height"]) == (320, 240)
    verdicts = {v["metric"]: v for v in report["verdicts"]}
    assert verdicts["video_frames"]["status"] == "pass"
    assert verdicts["video_height"]["value"] == report["video"]["height"] > 0


def test_h323_without_video_skips_the_video_stage() -> None:
    with h323_peer() as port:
        run = run_crcgw(["test-dial", f"127.0.0.1:{port}##824193746", "--duration", "1s",
                         "--json"])
    assert run.code == 0, run.stderr + run.stdout
    report = run.json()
    assert stage(report, "video")["status"] == "skipped"
    assert "H.323 video: the far end opened no H.264 channel" in report["notes"]
    assert not any(v["metric"].startswith("video_") for v in report["verdicts"])
