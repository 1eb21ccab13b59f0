"""The stand-in meeting answers video: baresip calls it (VP8, H.264), both sides decode, the
picture is composed in the layout the dial string asks for."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PIL import Image

from api_client.emulator import meeting_passcode
from gateway.standin.process import StandinProcess
from gateway.standin.video import layout_of
from tests.harness import Baresip, baresip_available

MEETING = "82419374650"

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("user", "layout"),
    [
        (f"{MEETING}.1234.11", "11"),
        (f"{MEETING}..308", "308"),
        (f"{MEETING}.1234", ""),
        (f"{MEETING}.1234.999", ""),  # a layout code we do not know: the gallery
        ("not a dial string", ""),
    ],
)
def test_layout_of_the_dialled_user(user: str, layout: str) -> None:
    assert layout_of(user) == layout


@pytest.mark.parametrize(
    ("codec", "layout", "expected"),
    [("VP8", "11", "LAYOUT6"), ("H264", "308", "LAYOUT2"), ("VP8", "", "LAYOUT0")],
)
def test_baresip_joins_the_standin_with_video_in_the_asked_layout(
    standin: StandinProcess, tmp_path: Path, codec: str, layout: str, expected: str
) -> None:
    if not baresip_available():
        pytest.skip("baresip-core not installed")
    user = f"{MEETING}.{meeting_passcode(MEETING)}" + (f".{layout}" if layout else "")
    picture = tmp_path / "meeting.png"
    with Baresip("room", registrar=None, video=(codec,)) as bob:
        bob.dial(f"sip:{user}@{standin.host}:{standin.port}")
        video = standin.wait_for("video", 20)
        assert video["accepted"] and video["codec"] == codec, video
        assert video["direction"] == "sendrecv" and video["layout"] == expected
        standin.wait_for("joined", 10)
        deadline = time.monotonic() + 20
        while not picture.exists() and time.monotonic() < deadline:
            time.sleep(1.0)
            bob.command("snapshot_recv", str(picture))  # what baresip decoded from the stand-in
        assert picture.exists(), bob.log_tail()
        time.sleep(1.0)
        bob.hangup()
        ended = standin.wait_for("video_ended", 15)
    with Image.open(picture) as image:
        assert image.size == (640, 360)  # the stand-in's room resolution
    assert ended["received_frames"] >= 10 and ended["sent_frames"] >= 10, ended
    assert (ended["width"], ended["height"]) == (352, 288)  # baresip's fakevideo picture


def test_a_room_systems_large_offer_gets_video_for_the_main_stream_only(
    standin: StandinProcess,
) -> None:
    """A ~1.7 kB offer (beyond pjsua2's 1024-byte SDP read) from SIPp: the answer carries H.264
    for the main video, declines the slides video and BFCP (the scenario checks the 200)."""
    from tests.harness.sipp import Sipp, sipp_available

    if not sipp_available():
        pytest.skip("sipp (sip-tester) not installed")
    user = f"{MEETING}.{meeting_passcode(MEETING)}"
    with Sipp("room_system_offer", remote=f"{standin.host}:{standin.port}", service=user,
              timeout_s=30) as sipp:  # fmt: skip
        code = sipp.wait_exit(30)
        log = sipp.log_tail()
    assert code == 0, log
    video = standin.wait_for("video", 10)
    assert video["accepted"] and video["codec"] == "H264", video


def test_keyframe_requests_from_test_dial_are_answered_with_keyframes(
    standin: StandinProcess,
) -> None:
    """test-dial asks for a keyframe (RTCP PLI/FIR and SIP INFO picture_fast_update) once the
    first picture arrived: the stand-in sees both and sends another keyframe."""
    from tests.testdial.conftest import run_crcgw

    uri = f"sip:{MEETING}.{meeting_passcode(MEETING)}@{standin.host}:{standin.port}"
    run = run_crcgw(["test-dial", uri, "--duration", "5s", "--json"], timeout=120)
    report = run.json()
    assert run.code == 0, (report["error"], report["verdicts"])
    ended = standin.wait_for("video_ended", 15)
    assert ended["rtcp_keyframe_requests"] >= 1 and ended["info_keyframe_requests"] >= 1, ended
    assert ended["keyframes_sent"] >= 2, ended
    rtt = [v for v in report["verdicts"] if v["metric"] == "video_keyframe_rtt_ms"]
    assert rtt and rtt[0]["status"] == "pass", report["verdicts"]


def test_a_hostile_video_offer_is_declined_and_the_call_goes_on(
    standin: StandinProcess,
) -> None:
    """Unusable video sections (non-hex profile-level-id, absurd max-fs and clock rates, VP8
    only for slides): audio is answered, video declined with port 0, the stand-in lives. (An
    SDP pjsip's own parser refuses, e.g. port 99999, never reaches crcgw's code.)"""
    from tests.harness.sipp import Sipp, sipp_available

    if not sipp_available():
        pytest.skip("sipp (sip-tester) not installed")
    user = f"{MEETING}.{meeting_passcode(MEETING)}"
    with Sipp("hostile_video_offer", remote=f"{standin.host}:{standin.port}", service=user,
              timeout_s=30) as sipp:  # fmt: skip
        code = sipp.wait_exit(30)
        log = sipp.log_tail()
    assert code == 0, log
    video = standin.wait_for("video", 10)
    assert not video["accepted"] and "no common video codec" in video["reason"], video
    standin.wait_for("ended", 10)
    # and the next, ordinary offer is served
    with Sipp("room_system_offer", remote=f"{standin.host}:{standin.port}", service=user,
              timeout_s=30) as sipp:  # fmt: skip
        assert sipp.wait_exit(30) == 0, sipp.log_tail()


_WARMED_THEN_COMPOSED = """
import json
from gateway.standin.video import PARTICIPANTS, warm_pictures
from media.video import ComposedSource
from media.warmup import compiled_signatures
warm_pictures()
warmed = compiled_signatures()
for layout in ("", "11", "308", "505", "608"):
    for width, height in ((848, 480), (1024, 576), (352, 288), (1280, 720), (1920, 1080)):
        ComposedSource(layout, PARTICIPANTS, width, height).frame(3, 1.5)
print(json.dumps({"warmed": warmed, "after": compiled_signatures()}))
"""


def test_the_standins_warm_up_compiles_every_kernel_its_calls_use() -> None:
    """What a call's picture needs is compiled before the stand-in listens: composing every
    layout at other room sizes afterwards adds no compiled signature (a fresh process, so the
    count starts from nothing; from the disk cache it takes milliseconds)."""
    import json
    import subprocess
    import sys

    from media._numba import HAVE_NUMBA

    if not HAVE_NUMBA:
        pytest.skip("Numba is not installed: nothing is compiled")
    result = subprocess.run([sys.executable, "-c", _WARMED_THEN_COMPOSED], capture_output=True,
                            text=True, timeout=300, check=True)
    counts = json.loads(result.stdout)
    assert sum(counts["warmed"].values()) > 0
    assert counts["after"] == counts["warmed"]
