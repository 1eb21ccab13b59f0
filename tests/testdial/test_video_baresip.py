"""``crcgw test-dial`` with video against baresip (fakevideo; vp8, avcodec for H.264).

Both sides decode the other's picture: crcgw's figures and ``--snapshot``, baresip's own
``snapshot_recv`` of what crcgw sent; tshark sees the video RTP streams both ways. Low
resolution (baresip 352x288, crcgw 640x360) and a generous
duration keep it robust on a loaded 2-core machine.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.harness import Baresip, baresip_available
from tests.testdial.conftest import run_crcgw, stage, verdict

pytestmark = pytest.mark.slow


@pytest.fixture
def baresip_video() -> Iterator[Callable[[str], Baresip]]:
    if not baresip_available():
        pytest.skip("baresip-core not installed")
    started: list[Baresip] = []

    def make(codec: str) -> Baresip:
        ua = Baresip("bob", registrar=None, video=(codec,), video_size=(352, 288))
        started.append(ua)
        return ua.start()

    try:
        yield make
    finally:
        for ua in started:
            ua.stop()


def _snapshot_during_call(bob: Baresip, path: Path, after_s: float) -> threading.Thread:
    """baresip's ``snapshot_recv``: a PNG of the last frame it decoded from crcgw."""

    def take() -> None:
        deadline = time.monotonic() + after_s + 10
        time.sleep(after_s)
        while not path.exists() and time.monotonic() < deadline:
            bob.command("snapshot_recv", str(path))
            time.sleep(1.0)

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("codec", ["VP8", "H264"])
def test_test_dial_to_baresip_decodes_video_both_ways(
    baresip_video: Callable[[str], Baresip], tmp_path: Path, codec: str
) -> None:
    bob = baresip_video(codec)
    ours = tmp_path / "far-end.png"
    theirs = tmp_path / "baresip-received.png"
    pcap = tmp_path / "call.pcap"
    taker = _snapshot_during_call(bob, theirs, 4.0)
    run = run_crcgw(
        ["test-dial", bob.direct_uri, "--duration", "8s", "--json",
         "--snapshot", str(ours), "--capture", str(pcap)],
        timeout=180,
    )  # fmt: skip
    taker.join(20)
    report = run.json()
    assert run.code == 0, (report["error"], report["verdicts"], report["notes"])
    video = report["video"]
    assert video["codec"] == codec and video["direction"] == "sendrecv"
    assert (video["width"], video["height"]) == (352, 288)  # baresip's fakevideo picture
    assert video["decoded_frames"] >= 20 and video["frames_sent"] >= 20
    assert stage(report, "video")["status"] == "ok"
    for metric in ("video_first_frame_ms", "video_fps", "video_loss_pct", "video_frames"):
        assert verdict(report, metric)["status"] == "pass"
    # our keyframe request (RTCP PLI and SIP INFO) was answered by a keyframe from baresip
    assert verdict(report, "video_keyframe_rtt_ms")["status"] == "pass"
    with Image.open(ours) as picture:
        assert picture.size == (352, 288)
    # baresip decoded crcgw's test pattern (it saves what its decoder produced)
    assert theirs.exists(), bob.log_tail()
    with Image.open(theirs) as picture:
        assert picture.size == (640, 360)  # test-dial's default picture, within baresip's limits
    # tshark: RTP video both ways, between baresip's video port and ours
    streams = report["capture"]["rtp_streams"]
    video_streams = [s for s in streams if s["codec"] not in ("G722", "PCMU", "PCMA")]
    assert len(video_streams) == 2, streams
    assert all(s["packets"] >= 20 for s in video_streams), video_streams
    (a, b) = video_streams
    assert (a["src"], a["dst"]) == (b["dst"], b["src"])


def test_no_video_flag_offers_audio_only(baresip_video: Callable[[str], Baresip]) -> None:
    bob = baresip_video("VP8")
    run = run_crcgw(["test-dial", bob.direct_uri, "--duration", "2s", "--json", "--no-video"])
    report = run.json()
    assert run.code == 0, report["error"]
    assert report["video"] is None and stage(report, "video")["status"] == "skipped"
    assert not [v for v in report["verdicts"] if v["metric"].startswith("video_")]


def test_video_thresholds_can_be_overridden_and_fail(
    baresip_video: Callable[[str], Baresip], tmp_path: Path
) -> None:
    bob = baresip_video("VP8")
    limits = tmp_path / "limits.yaml"
    limits.write_text("video_height: 1080\nvideo_fps: {min: 60}\n")
    run = run_crcgw(["test-dial", bob.direct_uri, "--duration", "4s", "--json",
                     "--thresholds", str(limits)])  # fmt: skip
    report = run.json()
    assert run.code == 1
    assert verdict(report, "video_height")["status"] == "fail"
    assert verdict(report, "video_fps")["status"] == "fail"
    assert verdict(report, "video_frames")["status"] == "pass"


def test_crcgw_dial_sends_and_receives_video(
    baresip_video: Callable[[str], Baresip], tmp_path: Path
) -> None:
    bob = baresip_video("VP8")
    picture = tmp_path / "dial.png"
    run = run_crcgw(["dial", bob.direct_uri, "--duration", "4", "--json",
                     "--snapshot", str(picture)])  # fmt: skip
    assert run.code == 0, run.stderr[-2000:]
    video = run.json()["video"]
    assert video["negotiated"]["accepted"] and video["negotiated"]["codec"] == "VP8"
    assert video["stats"]["decoded_frames"] >= 10 and video["stats"]["frames_sent"] >= 10
    assert video["snapshot"] == str(picture) and picture.exists()
    bare = run_crcgw(["dial", bob.direct_uri, "--duration", "1", "--json", "--no-video"])
    assert bare.code == 0 and bare.json()["video"] is None
