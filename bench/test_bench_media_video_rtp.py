"""One video call leg: encode + RTP packetize and depacketize + decode, camera-like content.

Target (issue 16): one 720p 30 fps H.264 leg, encode and decode, at most 40% of one core.
The table for every size and codec: ``crcgw media bench --part video-rtp``.

    .venv/bin/python -m pytest bench/test_bench_media_video_rtp.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import pytest

from media.video.benchmark import run_live_leg, run_rtp_legs

pytestmark = pytest.mark.benchmark(group="video leg, 30 frames (1 s at 30 fps)")


@pytest.mark.parametrize(("codec", "size"), [("H264", "720p"), ("VP8", "720p"), ("H264", "360p")])
def test_leg_cpu(benchmark: Any, codec: str, size: str) -> None:
    case = ((codec, size, "ultrafast" if codec == "H264" else "-"),)
    results = benchmark.pedantic(
        lambda: run_rtp_legs(case, frames=30, rounds=1), rounds=3, iterations=1
    )
    leg = results[0]
    benchmark.extra_info.update(leg.as_dict())
    if (codec, size) == ("H264", "720p"):
        assert leg.cpu_per_call_second <= 0.40, leg


def test_live_720p_h264_leg_is_real_time() -> None:
    leg = run_live_leg("H264", "720p", seconds=4.0)
    assert leg.cpu_per_call_second <= 0.40, leg
    assert leg.fps_decoded >= 25, leg
