"""Frame assembly, sequence statistics and the receive meter, with an explicit clock."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from media.layouts import Layout
from media.video import ComposedSource, TestPatternSource, layout_for
from media.video.assembler import FrameAssembler, Packet, SequenceStats
from media.video.codec import VideoCodec, depayload, is_keyframe
from media.video.stats import ReceiveMeter


def frame(seq: int, ts: int, n: int) -> list[Packet]:
    return [Packet(seq + i, ts, i == n - 1, i == 0, bytes([i])) for i in range(n)]


def test_in_order_and_reordered_frames() -> None:
    asm = FrameAssembler()
    pkts = frame(10, 0, 3) + frame(13, 3000, 2)
    for p in [pkts[0], pkts[2], pkts[1], pkts[4], pkts[3]]:
        asm.add(p)
    frames, dropped = asm.pop_frames(0.0)
    assert [f.timestamp for f in frames] == [0, 3000] and not dropped
    assert frames[0].data == b"\x00\x01\x02" and frames[0].packets == 3
    assert not asm.packets


def test_gap_is_nacked_then_repaired_or_dropped() -> None:
    asm = FrameAssembler(nack_wait_s=0.1)
    a, b, c = frame(0, 0, 3), frame(3, 3000, 2), frame(5, 6000, 1)
    for p in [a[0], a[2], *b, *c]:
        asm.add(p)
    assert asm.pop_frames(0.0) == ([], False)
    assert asm.missing(0.0) == [1]
    assert asm.missing(0.01) == [1]
    assert asm.missing(0.02) == []  # asked twice: enough
    asm.add(a[1])  # the retransmission
    frames, dropped = asm.pop_frames(0.05)
    assert len(frames) == 3 and not dropped and not frames[0].after_loss
    # now lose one for good
    d, e = frame(6, 9000, 2), frame(8, 12000, 1)
    asm.add(d[0])
    asm.add(e[0])
    assert asm.pop_frames(1.0) == ([], False)
    frames, dropped = asm.pop_frames(1.2)
    assert dropped and [f.timestamp for f in frames] == [12000] and frames[0].after_loss


def test_head_that_is_not_a_frame_start_is_skipped() -> None:
    asm = FrameAssembler()
    asm.add(Packet(0, 0, True, True, b"k"))
    asm.add(Packet(1, 3000, False, False, b"junk"))  # a middle fragment where a start belongs
    asm.add(Packet(2, 3000, True, False, b"junk"))
    asm.add(Packet(3, 6000, True, True, b"ok"))
    frames, dropped = asm.pop_frames(0.0)
    assert [f.data for f in frames] == [b"k", b"ok"] and dropped


def test_memory_is_bounded() -> None:
    asm = FrameAssembler(max_packets=64)
    asm.add(Packet(0, 0, False, True, b"x"))
    for seq in range(2, 1000):  # seq 1 never comes, no marker ever
        asm.add(Packet(seq, 0, False, False, b"x" * 100))
        asm.pop_frames(0.0)
        assert len(asm.packets) <= 64


def test_sequence_stats_wrap_loss_and_fraction() -> None:
    st = SequenceStats()
    for seq in [65533, 65534, 65535, 0, 2, 3]:  # 1 lost across the wrap
        st.add(st.unwrap(seq), 0, 0.0)
    assert st.expected == 7 and st.lost == 1
    assert st.interval_fraction_lost() == (1 << 8) // 7
    assert st.interval_fraction_lost() == 0


def test_meter_counts_freezes_and_resolution_changes() -> None:
    m = ReceiveMeter(freeze_ms=500)
    m.start(0.0)
    for i in range(10):
        m.on_frame(1.0 + i / 10, 320, 240)
    m.on_frame(3.0, 320, 240)  # 1.1 s gap
    m.on_frame(3.1, 176, 144)
    assert m.freezes == 1 and m.resolution_changes == 1 and m.decoded == 12
    assert m.first_frame_ms() == pytest.approx(1000)
    assert m.ongoing_freeze_ms(3.3) == 0 and m.ongoing_freeze_ms(4.0) == pytest.approx(900)
    assert 5 <= m.fps(1.95) <= 15
    m.pause()
    assert m.ongoing_freeze_ms(9.0) == 0
    m.on_frame(9.0, 176, 144)  # the gap of a hold is no freeze
    m.on_frame(9.7, 176, 144)  # but the next one is
    assert m.freezes == 2 and m.decoded == 14


def test_depayload_and_keyframe_detection() -> None:
    single = depayload("H264", bytes([0x65, 1, 2]))
    assert single.data == b"\x00\x00\x00\x01\x65\x01\x02" and single.frame_start
    assert is_keyframe("H264", single.data)
    assert not is_keyframe("H264", b"\x00\x00\x00\x01\x41\x00")
    with pytest.raises(ValueError):
        depayload("H264", bytes([24, 0, 9, 1]))  # STAP-A longer than the packet
    vp8 = depayload("VP8", bytes([0x10, 0x00, 0x01]))
    assert vp8.frame_start and is_keyframe("VP8", vp8.data)
    assert not is_keyframe("VP8", b"\x01")


def test_codec_checks_and_fmtp() -> None:
    c = VideoCodec.h264(width=1280, height=720, fps=30, bitrate_kbps=2000)
    assert c.fmtp["packetization-mode"] == "1" and c.fmtp["profile-level-id"] == "42e01f"
    assert int(c.fmtp["max-fs"]) >= 3600 and "profile-level-id=42e01f" in c.fmtp_line()
    with pytest.raises(ValueError, match="packetization-mode"):
        VideoCodec("H264", 96, fmtp={"packetization-mode": "0"})
    with pytest.raises(ValueError, match="payload_type"):
        VideoCodec("VP8", 200)


def test_layout_names() -> None:
    assert layout_for("gallery", 4) is Layout.LAYOUT0
    assert layout_for("speaker", 4) is Layout.LAYOUT6
    assert layout_for("308", 4) is Layout.LAYOUT2
    assert layout_for("608", 4) is Layout.LAYOUT0
    assert layout_for("LAYOUT9", 4) is Layout.LAYOUT9
    with pytest.raises(ValueError, match="layout"):
        layout_for("mosaic", 4)


def test_sources_move_and_compose() -> None:
    src = TestPatternSource(320, 240)
    a, b = src.frame(0, 0.0).copy(), src.frame(15, 0.5).copy()
    assert a.shape == (360, 320) and (a != b).any()
    gallery = ComposedSource("gallery", 4, 640, 360).frame(0, 0.0).copy()
    speaker = ComposedSource("speaker", 4, 640, 360).frame(0, 0.0).copy()
    assert gallery.shape == speaker.shape == (540, 640)
    assert (gallery != speaker).mean() > 0.2  # the layout shows


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 300),  # sequence number
            st.integers(0, 5),  # timestamp index
            st.booleans(),  # marker
            st.booleans(),  # frame start
            st.binary(max_size=8),
        ),
        max_size=200,
    ),
    st.lists(st.floats(0, 2), max_size=20),
)
def test_any_packet_order_is_bounded_and_in_order(
    packets: list[tuple[int, int, bool, bool, bytes]], times: list[float]
) -> None:
    asm = FrameAssembler(max_packets=32, max_frame_bytes=64)
    out = []
    clock = sorted(times)
    for i, (seq, ts, marker, start, data) in enumerate(packets):
        asm.add(Packet(seq, ts * 3000, marker, start, data))
        frames, _ = asm.pop_frames(clock[i % len(clock)] if clock else 0.0)
        out.extend(frames)
        assert len(asm.packets) <= 32
        asm.missing(0.0)
    for frame in out:
        assert len(frame.data) <= 64 + 8 and frame.packets >= 1
