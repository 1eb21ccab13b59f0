"""Helpers of the video stream tests: waiting on conditions, stream pairs on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from media.video import VideoCodec, VideoStream

SMALL = {"width": 320, "height": 240, "fps": 15, "bitrate_kbps": 300}


def wait_for(condition: Callable[[], bool], timeout: float = 20.0, step: float = 0.05) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds passed (generous: CI is loaded)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return condition()


def codec_named(name: str) -> VideoCodec:
    return VideoCodec.h264(width=320, height=240, fps=15) if name == "H264" else VideoCodec.vp8()


@pytest.fixture
def streams() -> Iterator[list[VideoStream]]:
    """Streams a test creates (append them); all stopped afterwards."""
    made: list[VideoStream] = []
    yield made
    for s in made:
        s.stop()
