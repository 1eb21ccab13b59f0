from __future__ import annotations

import pytest

from media.layouts import Layout, tile_rects
from media.negotiation import (
    H264_LEVELS,
    h264_fmtp,
    h264_level,
    negotiate,
    parse_remote_video,
    sdp_video_lines,
    tile_bitrates,
)
from media.params import MediaParams

REMOTE = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nb=AS:4000\r\n"
    "m=audio 5000 RTP/AVP 0\r\nb=AS:64\r\n"
    "m=video 5002 RTP/AVP 97\r\nb=AS:768\r\nb=TIAS:700000\r\na=rtpmap:97 H264/90000\r\n"
    "a=fmtp:97 profile-level-id=42801e;packetization-mode=1;max-mbps=40500\r\n"
    "a=framerate:25\r\n"
)


def test_defaults_are_portsips() -> None:
    p = MediaParams()
    assert (p.width, p.height, p.bitrate_kbps, p.framerate, p.layout, p.capacity) == (
        1280,
        720,
        1024,
        15,
        Layout.LAYOUT0,
        9,
    )
    assert p.samples_per_frame == 960


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"width": 143}, "width: expected a value in 144..1920, got 143"),
        ({"height": 1921}, "height: expected a value in 144..1920, got 1921"),
        ({"bitrate_kbps": 127}, "bitrate_kbps: expected a value in 128..10240, got 127"),
        ({"framerate": 31}, "framerate: expected a value in 5..30, got 31"),
        ({"capacity": 0}, "capacity: expected a value in 1..200, got 0"),
        ({"layout": "LAYOUT5"}, "layout: expected one of LAYOUT0, LAYOUT1, LAYOUT2"),
        ({"width": "1280"}, "width: expected an integer in 144..1920, got '1280'"),
        ({"width": 641}, "width: expected an even number (4:2:0 video), got 641"),
        ({"sample_rate": 44100}, "sample_rate: expected one of 8000, 16000, 48000, got 44100"),
    ],
)
def test_out_of_range_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as info:
        MediaParams(**changes)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_from_portsip_room() -> None:
    room = {
        "id": "NzAw",
        "mode": "VIDEO",
        "width": 1920,
        "height": 1080,
        "bitrate": 2048,
        "framerate": 30,
        "layout": "LAYOUT6",
        "capacity": 50,
        "subject": "Board",
    }
    p = MediaParams.from_portsip_room(room)
    assert (p.width, p.height, p.bitrate_kbps, p.framerate, p.layout, p.capacity) == (
        1920,
        1080,
        2048,
        30,
        Layout.LAYOUT6,
        50,
    )
    assert MediaParams.from_portsip_room({"mode": "AUDIO", "capacity": 3}).mode == "AUDIO"
    assert p.to_portsip_room()["bitrate"] == 2048
    with pytest.raises(ValueError, match="capacity: expected a value in 1..200, got 500"):
        MediaParams.from_portsip_room({"capacity": 500})


def test_from_zoom_crc_settings() -> None:
    hd = MediaParams.from_zoom_crc(
        {"enable_1080p": True, "call_rate": 3072, "default_video_layout": "Active - Top"}
    )
    assert (hd.width, hd.height, hd.bitrate_kbps, hd.layout) == (1920, 1080, 3072, Layout.LAYOUT6)
    forced = MediaParams.from_zoom_crc({"enable_1080p": True, "force_720p": True, "call_rate": -1})
    assert (forced.width, forced.height, forced.bitrate_kbps) == (1280, 720, 1024)
    assert MediaParams.from_zoom_crc({"default_video_layout": "Gallery"}).layout is Layout.LAYOUT0
    with pytest.raises(ValueError, match="call_rate: expected one of -1, 192, 256"):
        MediaParams.from_zoom_crc({"call_rate": 1000})


def test_h264_level_table() -> None:
    assert h264_level(1280, 720, 30, 1024).name == "3.1"
    assert h264_level(1280, 720, 60, 1024).name == "3.2"
    assert h264_level(1920, 1080, 30, 4096).name == "4"
    assert h264_level(640, 360, 30, 768).name == "3"
    assert h264_level(352, 288, 15, 384).name == "1.2"
    assert h264_level(352, 288, 30, 384).name == "1.3"
    assert h264_level(1280, 720, 30, 15000).name == "3.2"  # bitrate pushes it up
    assert [lv.level_idc for lv in H264_LEVELS][-1] == 52


def test_fmtp_with_a_capped_level_signals_max_fs_and_max_mbps() -> None:
    assert (
        h264_fmtp(1280, 720, 30, 1024) == "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1"
    )
    assert h264_fmtp(1280, 720, 30, 1024, max_level="3", payload_type=97) == (
        "a=fmtp:97 profile-level-id=42e01e;packetization-mode=1;max-fs=3600;max-mbps=108000"
    )


def test_sdp_lines() -> None:
    assert sdp_video_lines(MediaParams(framerate=30)) == [
        "b=AS:1024",
        "b=TIAS:1024000",
        "a=framerate:30",
        "a=imageattr:96 send [x=1280,y=720] recv [x=1280,y=720]",
        "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1",
    ]


def test_negotiation_takes_the_lower_of_both() -> None:
    remote = parse_remote_video(REMOTE)
    assert (remote.bitrate_kbps, remote.framerate, remote.max_fs, remote.max_mbps) == (
        700,
        25.0,
        1620,
        40500,
    )
    send = negotiate(MediaParams(framerate=30, bitrate_kbps=2048), REMOTE)
    assert send.bitrate_kbps == 700  # b=TIAS 700000 < b=AS 768 < local 2048
    assert send.width * send.height <= 1620 * 256 and send.width / send.height == pytest.approx(
        16 / 9, rel=0.02
    )
    assert send.framerate == 25
    assert send.level.name == "3"


def test_negotiation_with_imageattr_and_no_limits() -> None:
    sdp = "v=0\r\nm=video 9 RTP/AVP 96\r\na=imageattr:96 send * recv [x=640,y=360]\r\n"
    send = negotiate(MediaParams(), sdp)
    assert (send.width, send.height, send.framerate, send.bitrate_kbps) == (640, 360, 15, 1024)
    open_sdp = "v=0\r\nm=video 9 RTP/AVP 96\r\n"
    assert negotiate(MediaParams(), open_sdp).profile_level_id == "42e01f"
    bad = "v=0\r\nm=video 9 RTP/AVP 96\r\na=fmtp:96 profile-level-id=42e0;packetization-mode=1\r\n"
    with pytest.raises(ValueError, match="profile-level-id: expected 6 hex digits, got '42e0'"):
        negotiate(MediaParams(), bad)
    with pytest.raises(ValueError, match="sdp: expected an m=video section, got none"):
        negotiate(MediaParams(), "v=0\r\nm=audio 9 RTP/AVP 0\r\n")


def test_tile_bitrates_by_area() -> None:
    tiles = tile_rects("LAYOUT6", 1280, 720)
    shares = tile_bitrates(1024, tiles)
    assert sum(shares) == 1024
    assert shares[0] > 3 * shares[1]
    assert tile_bitrates(100, tile_rects("LAYOUT4", 1280, 720, gutter=0)) == [25, 25, 25, 25]
    assert tile_bitrates(10, tile_rects("LAYOUT3", 640, 360, gutter=0)) == [4, 3, 3]
