"""An independent RTP stack: libavformat's RTP muxer sends H.264/VP8 to crcgw, and its SDP/RTP
demuxer receives what crcgw sends; each side decodes the other's picture."""

from __future__ import annotations

import fractions
import socket
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from media.testpattern import pattern_i420
from media.video import VideoCodec, VideoStream

from .conftest import wait_for

W, H, FPS = 320, 240, 15


def _codec(name: str) -> VideoCodec:
    return VideoCodec.h264(width=W, height=H, fps=FPS) if name == "H264" else VideoCodec.vp8(96)


@pytest.mark.parametrize("name", ["H264", "VP8"])
def test_libav_sends_crcgw_decodes(name: str, streams: list[VideoStream]) -> None:
    rx = VideoStream(codec=_codec(name), width=W, height=H, fps=FPS, direction="recvonly")
    streams.append(rx)
    rx.start(None)
    out = av.open(
        f"rtp://127.0.0.1:{rx.local_port}", "w", format="rtp", options={"payload_type": "96"}
    )
    stream = out.add_stream("libx264" if name == "H264" else "libvpx", rate=FPS)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    if name == "H264":
        stream.codec_context.options = {"tune": "zerolatency", "preset": "ultrafast"}
    else:
        stream.codec_context.options = {"deadline": "realtime", "lag-in-frames": "0"}
    base = pattern_i420(W, H, 3)
    frames = 40
    try:
        for i in range(frames):
            picture = base.copy()
            picture[:H, (i * 5) % 280 : (i * 5) % 280 + 20] = 235
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts, frame.time_base = i, fractions.Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
            time.sleep(1 / FPS)
        for packet in stream.encode(None):
            out.mux(packet)
    finally:
        out.close()
    assert wait_for(lambda: rx.stats().decoded_frames >= frames - 2)
    s = rx.stats()
    assert (s.width, s.height) == (W, H)
    assert s.bad_packets == 0 and s.decode_errors == 0 and s.lost == 0
    got = rx.last_frame()
    assert got is not None
    # the far end's picture is the pattern (luma, away from the moving bar)
    luma = av.VideoFrame.from_ndarray(got, format="rgb24").reformat(format="gray").to_ndarray()
    sent = av.VideoFrame.from_ndarray(base, format="yuv420p").reformat(format="gray").to_ndarray()
    assert np.abs(luma[:, :60].astype(int) - sent[:, :60].astype(int)).mean() < 12


def _even_free_port() -> int:
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1] & ~1
        try:
            with (
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b,
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c,
            ):
                b.bind(("127.0.0.1", port))
                c.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no free even port pair")


@pytest.mark.parametrize("name", ["H264", "VP8"])
def test_crcgw_sends_libav_decodes(name: str, streams: list[VideoStream], tmp_path: Path) -> None:
    port = _even_free_port()
    rtpmap = "H264/90000" if name == "H264" else "VP8/90000"
    fmtp = "a=fmtp:96 packetization-mode=1\n" if name == "H264" else ""
    sdp = tmp_path / "crcgw.sdp"
    sdp.write_text(
        "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=crcgw\nc=IN IP4 127.0.0.1\nt=0 0\n"
        f"m=video {port} RTP/AVP 96\na=rtpmap:96 {rtpmap}\n{fmtp}"
    )
    # a keyframe a second: libav starts listening a moment after crcgw starts sending
    tx = VideoStream(
        codec=_codec(name), width=W, height=H, fps=FPS, direction="sendonly",
        keyframe_interval_s=1,
    )  # fmt: skip
    streams.append(tx)
    tx.start(("127.0.0.1", port))
    decoded: list[np.ndarray] = []
    errors: list[BaseException] = []

    def receive() -> None:
        try:
            with av.open(
                str(sdp), format="sdp", timeout=15,
                options={"protocol_whitelist": "file,udp,rtp", "reorder_queue_size": "0"},
            ) as container:  # fmt: skip
                for frame in container.decode(video=0):
                    decoded.append(frame.to_ndarray(format="gray"))
                    if len(decoded) >= 30:
                        return
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "libav did not decode 30 frames in 60 s"
    assert not errors, errors
    assert len(decoded) >= 30 and decoded[-1].shape == (H, W)
    # what libav decoded is crcgw's test picture (below the clock band, left of the block path)
    sent = av.VideoFrame.from_ndarray(pattern_i420(W, H, 0), format="yuv420p")
    ref = sent.reformat(format="gray").to_ndarray().astype(int)
    assert np.abs(decoded[-1][60:180].astype(int) - ref[60:180]).mean() < 12
