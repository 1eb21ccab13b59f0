"""The pipeline benchmark's parts: H.264 streams made at run time, PyAV planes without a copy,
and one small side-by-side run of both pipelines."""

from __future__ import annotations

import numpy as np
import pytest

av = pytest.importorskip("av")
try:
    av.codec.Codec("libx264", "w")
except Exception:  # noqa: BLE001 - any failure means the encoder is missing
    pytest.skip("PyAV was built without libx264", allow_module_level=True)

from media.benchmark_pipeline import (  # noqa: E402
    STAGES,
    _decoder,
    _encoder,
    av_frame,
    av_frame_view,
    av_planes,
    encode_streams,
    room_bitrate,
    run_pipeline,
)
from media.colour import i420_planes  # noqa: E402
from media.compositor import Compositor  # noqa: E402


def _decode(packets: list[bytes]) -> list[object]:
    dec = _decoder()
    frames = []
    for data in packets:
        frames.extend(dec.decode(av.Packet(data)))
    return frames


def test_streams_decode_one_frame_per_packet_and_move() -> None:
    (packets,) = encode_streams([(176, 144)], 4)
    assert len(packets) == 4
    frames = _decode(packets)
    assert len(frames) == 4
    first, last = (f.to_ndarray(format="yuv420p") for f in (frames[0], frames[-1]))
    assert first.shape == (216, 176)
    assert not np.array_equal(first, last)  # the picture pans


def test_av_planes_are_views_of_the_decoded_frame() -> None:
    (packets,) = encode_streams([(176, 144)], 1)
    (frame,) = _decode(packets)
    y, u, v = av_planes(frame)
    assert y.shape == (144, 176) and u.shape == v.shape == (72, 88)
    whole = frame.to_ndarray(format="yuv420p")
    for got, want in zip((y, u, v), i420_planes(whole), strict=True):
        assert np.array_equal(got, want)
    assert not y.flags.owndata  # a view, no copy


def test_av_frame_copies_an_i420_array() -> None:
    i420 = np.random.default_rng(5).integers(0, 256, (270, 320), np.uint8)
    frame = av_frame(i420)
    assert (frame.width, frame.height, frame.format.name) == (320, 180, "yuv420p")
    assert np.array_equal(frame.to_ndarray(format="yuv420p"), i420)
    i420[:] = 0  # a copy: the frame keeps its picture
    assert frame.to_ndarray(format="yuv420p").any()


def test_av_frame_view_wraps_the_array_and_encodes_like_a_copy() -> None:
    i420 = np.random.default_rng(6).integers(0, 256, (270, 320), np.uint8)
    view = av_frame_view(i420)
    assert (view.width, view.height) == (320, 180)
    assert np.array_equal(view.to_ndarray(format="yuv420p"), i420)
    packets = []
    for frame in (view, av_frame(i420)):
        enc = _encoder(320, 180, 500_000)
        frame.pts = 0
        packets.append(b"".join(bytes(p) for p in [*enc.encode(frame), *enc.encode(None)]))
    assert packets[0] and packets[0] == packets[1]
    i420[:90] = 0  # no copy: the frame shows the change
    assert not view.to_ndarray(format="yuv420p")[:90].any()
    strided = np.zeros((270, 400), np.uint8)[:, :320]  # PyAV cannot wrap it: a copy
    copied = av_frame_view(strided)
    strided[:] = 9
    assert not copied.to_ndarray(format="yuv420p").any()


def test_compositor_takes_plane_tuples_like_whole_arrays() -> None:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 256, (270, 320), np.uint8) for _ in range(3)]
    padded = []
    for f in frames:  # rows padded past the width, as decoder planes often are
        y, u, v = i420_planes(f)
        pads = [np.zeros((p.shape[0], p.shape[1] + 32), np.uint8) for p in (y, u, v)]
        for pad, p in zip(pads, (y, u, v), strict=True):
            pad[:, : p.shape[1]] = p
        padded.append(tuple(pad[:, : p.shape[1]] for pad, p in zip(pads, (y, u, v), strict=True)))
    a = Compositor("LAYOUT3", 640, 360).compose(frames).copy()
    b = Compositor("LAYOUT3", 640, 360).compose(padded)
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match=r"frames\[0\]: expected a \(y, u, v\) tuple"):
        Compositor("LAYOUT1", 640, 360).compose([padded[0][:2]])
    y, u, _ = padded[0]
    with pytest.raises(ValueError, match=r"frames\[0\]: expected u and v of one shape"):
        Compositor("LAYOUT1", 640, 360).compose([(y, u, u[:-2])])


def test_room_bitrate_scales_with_area() -> None:
    assert room_bitrate(1280, 720) == 2_000_000
    assert room_bitrate(1920, 1080) == 4_500_000


def test_both_pipelines_run_side_by_side() -> None:
    (result,) = run_pipeline([("LAYOUT2", (176, 144), (320, 180))], rounds=1, frames=4)
    assert set(result.fps) == set(result.cpu_ms) == {"crcgw", "ffmpeg"}
    for method in ("crcgw", "ffmpeg"):
        assert result.fps[method] > 0 and result.cpu_ms[method] > 0
        assert set(result.stages[method]) <= set(STAGES[method])
        assert sum(result.stages[method].values()) == pytest.approx(1.0)
        assert result.out_bytes[method] > 0
    assert result.ratio() > 0
    assert result.as_dict()["output"] == "320x180"
