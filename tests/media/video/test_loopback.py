"""Two crcgw video streams on loopback send each other H.264 or VP8 and decode it."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from media.video import ComposedSource, TestPatternSource, VideoStream

from .conftest import SMALL, codec_named, wait_for


@pytest.mark.parametrize("codec_name", ["H264", "VP8"])
def test_both_ways_decode(codec_name: str, streams: list[VideoStream], tmp_path: Path) -> None:
    codec = codec_named(codec_name)
    a = VideoStream(codec=codec, **SMALL)
    b = VideoStream(codec=codec, **SMALL)
    streams += [a, b]
    assert a.local_port % 2 == 0 and b.local_port % 2 == 0
    a.start(("127.0.0.1", b.local_port))
    b.start(("127.0.0.1", a.local_port))
    assert wait_for(lambda: a.stats().decoded_frames >= 30 and b.stats().decoded_frames >= 30)
    for s in (a.stats(), b.stats()):
        assert s.codec == codec_name
        assert (s.width, s.height) == (320, 240)
        assert 5 <= s.fps <= 25, s
        assert s.bitrate_kbps > 10
        assert s.first_frame_ms is not None and s.first_frame_ms < 10_000
        assert s.bad_packets == 0 and s.decode_errors == 0
        assert s.keyframes_received >= 1
        assert s.rtt_ms is not None or s.packets > 0
    if codec_name == "H264":
        assert "Baseline" in a.stats().profile
    picture = b.last_frame()
    assert picture is not None and picture.shape == (240, 320, 3)
    assert picture.std() > 10  # a picture, not a flat frame
    path = tmp_path / "far.png"
    assert b.save_snapshot(path)
    with Image.open(path) as img:
        assert img.size == (320, 240)
    # the clock moves: two snapshots a second apart differ in the top band
    first = b.last_frame()
    assert first is not None
    assert wait_for(lambda: _differs(first, b.last_frame()), timeout=10)


def _differs(x: np.ndarray, y: np.ndarray | None) -> bool:
    if y is None:
        return False
    band = slice(0, 30)
    return bool(np.abs(x[band].astype(int) - y[band].astype(int)).mean() > 1)


def test_snapshot_before_any_frame(streams: list[VideoStream], tmp_path: Path) -> None:
    s = VideoStream(**SMALL)
    streams.append(s)
    assert s.last_frame() is None
    assert not s.save_snapshot(tmp_path / "none.png")
    assert not (tmp_path / "none.png").exists()


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="direction"):
        VideoStream(direction="both", **SMALL)
    with pytest.raises(ValueError, match="preset"):
        VideoStream(preset="warp", **SMALL)
    s = VideoStream(**SMALL)
    s.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        s.start(("127.0.0.1", 9))
    with pytest.raises(ValueError, match="codec"):
        codec_named("H264").__class__(name="H263")


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_rtcp_mux_and_ipv6(host: str, streams: list[VideoStream]) -> None:
    try:
        a = VideoStream(host, codec=codec_named("VP8"), rtcp_mux=True, **SMALL)
    except OSError:
        pytest.skip(f"{host} is not available here")
    b = VideoStream(host, codec=codec_named("VP8"), rtcp_mux=True, **SMALL)
    streams += [a, b]
    a.start((host, b.local_port))
    b.start((host, a.local_port))
    assert wait_for(lambda: b.stats().decoded_frames >= 10 and a.stats().rtcp_received >= 1)
    b.request_keyframe()
    assert wait_for(lambda: a.stats().plis_received >= 1)
    assert a.stats().bad_packets == 0 and b.stats().bad_packets == 0


def test_composed_meeting_picture_arrives(streams: list[VideoStream]) -> None:
    """The stand-in meeting's picture (gallery of four) is what the far end decodes."""
    source = ComposedSource("gallery", 4, 320, 240, speaker_period_s=0)
    codec = codec_named("H264")
    tx = VideoStream(codec=codec, source=source, direction="sendonly", **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 15)
    got = rx.last_frame()
    assert got is not None
    # the four tiles of a 2x2 gallery, with a dark gutter cross between them
    sent = av.VideoFrame.from_ndarray(source.frame(0, 0.0).copy(), format="yuv420p")
    ref = sent.to_ndarray(format="rgb24").astype(int)
    assert np.abs(got.astype(int) - ref).mean() < 20
    assert got[118:122, :].mean() < got[:100, :].mean() - 30  # the horizontal gutter


class FlakySource:
    """A source that fails now and then (a bug in a picture maker must not end the call)."""

    def __init__(self) -> None:
        self.inner = TestPatternSource(320, 240)
        self.width, self.height = 320, 240

    def frame(self, index: int, t: float) -> np.ndarray:
        if index in (3, 4):
            raise RuntimeError("picture maker broke")
        return self.inner.frame(index, t)


def test_sender_survives_a_failing_source(streams: list[VideoStream]) -> None:
    codec = codec_named("VP8")
    tx = VideoStream(codec=codec, source=FlakySource(), direction="sendonly", **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    tx.start(("127.0.0.1", rx.local_port))
    rx.start(("127.0.0.1", tx.local_port))
    assert wait_for(lambda: rx.stats().decoded_frames >= 15)
