"""SDP video sections: our offer, answers to room-system offers, reading answers, hostile SDP.

The room-system offers below are written for these tests in the shape Cisco and Poly endpoints
send (audio with several codecs, H.264 in two packetization modes, H.263, H.261, a content
video stream, BFCP): about 1.7 kB, beyond pjsua2's 1024-byte read limit.
"""

from __future__ import annotations

import pytest

from signaling.sip.sdpvideo import (
    VideoNegotiation,
    VideoSettings,
    answer_direction,
    answer_offer,
    main_video,
    offer_section,
    parse_sdp,
    read_answer,
    replace_section,
    section_kinds,
)

CISCO_LIKE = "\r\n".join(
    [
        "v=0",
        "o=tandberg 7 2 IN IP4 192.0.2.10",
        "s=-",
        "c=IN IP4 192.0.2.10",
        "b=AS:6000",
        "t=0 0",
        "m=audio 2326 RTP/AVP 108 101 9 8 0 18 116",
        "b=TIAS:128000",
        "a=rtpmap:108 MP4A-LATM/90000",
        "a=fmtp:108 profile-level-id=24;object=23;bitrate=64000",
        "a=rtpmap:101 MP4A-LATM/90000",
        "a=fmtp:101 profile-level-id=24;object=23;bitrate=56000",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=yes",
        "a=rtpmap:116 telephone-event/8000",
        "a=fmtp:116 0-15",
        "a=sendrecv",
        "m=video 2328 RTP/AVP 97 126 96 34 31",
        "b=TIAS:6000000",
        "a=rtpmap:97 H264/90000",
        "a=fmtp:97 profile-level-id=42e016;max-mbps=490000;max-fs=8160;max-cpb=200;"
        "max-dpb=16320;max-br=5000;max-smbps=490000;max-fps=6000;packetization-mode=1",
        "a=rtpmap:126 H264/90000",
        "a=fmtp:126 profile-level-id=42e016;max-mbps=490000;max-fs=8160;packetization-mode=0",
        "a=rtpmap:96 H263-1998/90000",
        "a=fmtp:96 custom=1280,720,3;custom=1024,768,1;CIF4=1;CIF=1;QCIF=1",
        "a=rtpmap:34 H263/90000",
        "a=fmtp:34 CIF4=1;CIF=1;QCIF=1",
        "a=rtpmap:31 H261/90000",
        "a=fmtp:31 CIF=1;QCIF=1",
        "a=rtcp-fb:* nack pli",
        "a=rtcp-fb:* ccm fir",
        "a=rtcp-fb:* ccm tmmbr",
        "a=content:main",
        "a=label:11",
        "a=sendrecv",
        "m=video 2330 RTP/AVP 97 96 34 31",
        "b=TIAS:6000000",
        "a=rtpmap:97 H264/90000",
        "a=fmtp:97 profile-level-id=42e016;max-mbps=490000;max-fs=8160;packetization-mode=1",
        "a=rtpmap:96 H263-1998/90000",
        "a=rtpmap:34 H263/90000",
        "a=rtpmap:31 H261/90000",
        "a=content:slides",
        "a=label:12",
        "a=sendrecv",
        "m=application 5070 UDP/BFCP *",
        "a=floorctrl:c-s",
        "a=confid:1",
        "a=floorid:2 mstrm:12",
        "a=userid:2",
        "a=setup:actpass",
        "a=connection:new",
        "",
    ]
)

POLY_LIKE = "\r\n".join(
    [
        "v=0",
        "o=GroupSeries 1577312455 0 IN IP4 198.51.100.7",
        "s=-",
        "c=IN IP4 198.51.100.7",
        "b=AS:2048",
        "t=0 0",
        "a=sendrecv",
        "m=audio 49152 RTP/AVP 115 102 9 15 0 8 18 101",
        "a=rtpmap:115 G7221/32000",
        "a=fmtp:115 bitrate=48000",
        "a=rtpmap:102 G7221/16000",
        "a=fmtp:102 bitrate=32000",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:15 G728/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:18 G729/8000",
        "a=fmtp:18 annexb=no",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "m=video 49154 RTP/AVP 109 110 111 96 34 31",
        "b=AS:1920",
        "a=rtpmap:109 H264/90000",
        "a=fmtp:109 profile-level-id=640020;max-mbps=243000;max-fs=8192;max-br=24000;"
        "packetization-mode=1",
        "a=rtpmap:110 H264/90000",
        "a=fmtp:110 profile-level-id=428020;max-mbps=243000;max-fs=8192;packetization-mode=1",
        "a=rtpmap:111 H264/90000",
        "a=fmtp:111 profile-level-id=42e020;max-mbps=243000;max-fs=8192;packetization-mode=0",
        "a=rtpmap:96 H263-1998/90000",
        "a=fmtp:96 CIF4=2;CIF=1;QCIF=1;SQCIF=1",
        "a=rtpmap:34 H263/90000",
        "a=fmtp:34 CIF4=2;CIF=1;QCIF=1;SQCIF=1",
        "a=rtpmap:31 H261/90000",
        "a=fmtp:31 CIF=1;QCIF=1",
        "a=rtcp-fb:* ccm fir",
        "a=rtcp-fb:* ccm tmmbr",
        "a=rtcp-fb:* nack",
        "a=rtcp-fb:* nack pli",
        "a=rtcp:49155 IN IP4 198.51.100.7",
        "a=label:1",
        "a=content:main",
        "m=application 49156 TCP/BFCP *",
        "a=floorctrl:c-only",
        "a=setup:active",
        "a=connection:new",
        "m=video 49158 RTP/AVP 109 96",
        "b=AS:768",
        "a=rtpmap:109 H264/90000",
        "a=fmtp:109 profile-level-id=428016;packetization-mode=1",
        "a=rtpmap:96 H263-1998/90000",
        "a=label:3",
        "a=content:slides",
        "",
    ]
)

SETTINGS = VideoSettings(width=640, height=360, framerate=15, bitrate_kbps=512, port=40000)


def test_room_offers_are_larger_than_pjsua2_can_read() -> None:
    assert len(CISCO_LIKE) > 1024 and len(POLY_LIKE) > 1024


def test_offer_section_carries_h264_vp8_feedback_and_bandwidth() -> None:
    section = offer_section(SETTINGS, "127.0.0.1")
    lines = section.split("\r\n")
    assert lines[0] == "m=video 40000 RTP/AVP 96 97"
    assert "c=IN IP4 127.0.0.1" in lines
    assert "b=AS:512" in lines and "b=TIAS:512000" in lines
    assert "a=rtpmap:96 H264/90000" in lines and "a=rtpmap:97 VP8/90000" in lines
    fmtp = next(line for line in lines if line.startswith("a=fmtp:96"))
    assert "packetization-mode=1" in fmtp and "profile-level-id=42e016" in fmtp  # level 2.2
    assert "a=fmtp:97 max-fr=15;max-fs=920" in lines
    for fb in ("nack", "nack pli", "ccm fir"):
        assert f"a=rtcp-fb:* {fb}" in lines
    assert lines[-2] == "a=sendrecv" and section.endswith("\r\n")
    assert len(section) < 500  # leaves room: the whole local SDP stays small


def test_offer_with_a_capped_level_signals_max_fs_and_max_mbps() -> None:
    hd = VideoSettings(width=1280, height=720, framerate=30, bitrate_kbps=2048, max_level="3")
    fmtp = next(line for line in offer_section(hd, "::1").split("\r\n") if "a=fmtp:96" in line)
    assert "profile-level-id=42e01e" in fmtp
    assert "max-fs=3600" in fmtp and "max-mbps=108000" in fmtp
    assert "c=IN IP6 ::1" in offer_section(hd, "::1")


def test_settings_follow_the_rooms_media_parameters() -> None:
    from media.params import MediaParams

    zoom = MediaParams.from_zoom_crc({"enable_1080p": True, "call_rate": 3072})
    settings = VideoSettings.from_media_params(zoom, port=5000)
    assert (settings.width, settings.height, settings.framerate) == (1920, 1080, 30)
    assert settings.bitrate_kbps == 3072 and settings.port == 5000
    fmtp = next(x for x in offer_section(settings, "10.0.0.1").split("\r\n") if "fmtp:96" in x)
    assert "profile-level-id=42e028" in fmtp  # level 4 carries 1080p30 at 3 Mbit/s
    capped = VideoSettings.from_media_params(zoom, max_level="3.1")
    fmtp = next(x for x in offer_section(capped, "10.0.0.1").split("\r\n") if "fmtp:96" in x)
    assert "profile-level-id=42e01f" in fmtp and "max-fs=8160" in fmtp and "max-mbps=244800" in fmtp


def test_offer_direction_and_codec_choice() -> None:
    vp8_only = VideoSettings(codecs=("VP8",), direction="recvonly", port=5000)
    section = offer_section(vp8_only, "10.0.0.1")
    assert section.startswith("m=video 5000 RTP/AVP 97\r\n")
    assert "H264" not in section and "a=recvonly\r\n" in section


@pytest.mark.parametrize(
    ("field", "value"),
    [("width", 8), ("framerate", 0), ("codecs", ("H263",)), ("direction", "both"), ("port", -1)],
)
def test_bad_settings_are_refused_with_the_field_named(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        VideoSettings(**{field: value})  # type: ignore[arg-type]


def test_cisco_like_offer_is_read_section_by_section() -> None:
    message = parse_sdp(CISCO_LIKE)
    kinds = [(s.kind, s.port, s.content) for s in message.sections]
    assert kinds == [
        ("audio", 2326, None),
        ("video", 2328, "main"),
        ("video", 2330, "slides"),
        ("application", 5070, None),
    ]
    video = main_video(message)
    assert video is not None and video.index == 1
    assert [f.codec for f in video.formats] == ["H264", "H264", "H263-1998", "H263", "H261"]
    assert video.host == "192.0.2.10" and video.rtcp_port == 2329
    assert video.bandwidth_kbps == 6000
    assert "nack pli" in video.formats[0].rtcp_fb


def test_answer_to_cisco_like_offer_picks_packetization_mode_1_at_index_1() -> None:
    result = answer_offer(CISCO_LIKE, SETTINGS, "127.0.0.1")
    assert result is not None
    neg, section = result
    assert neg.accepted and neg.index == 1
    assert (neg.codec, neg.payload_type) == ("H264", 97)  # mode 0 (PT 126) is skipped
    assert (neg.remote_host, neg.remote_port, neg.remote_rtcp_port) == ("192.0.2.10", 2328, 2329)
    assert neg.direction == "sendrecv" and neg.sends and neg.receives
    assert (neg.width, neg.height, neg.framerate, neg.bitrate_kbps) == (640, 360, 15, 512)
    assert neg.rtcp_fb == ("nack pli", "ccm fir")  # plain nack was not offered
    lines = section.split("\r\n")
    assert lines[0] == "m=video 40000 RTP/AVP 97"
    # RFC 6184 8.2.2: the offer's profile (42e0), level no higher than the offer's (2.2 = 0x16)
    assert "a=fmtp:97 profile-level-id=42e016;packetization-mode=1" in lines
    assert "a=content:main" in lines and "a=sendrecv" in lines


def test_answer_to_poly_like_offer_keeps_the_high_profile_and_lowers_the_level() -> None:
    result = answer_offer(POLY_LIKE, SETTINGS, "127.0.0.1")
    assert result is not None
    neg, section = result
    assert (neg.index, neg.codec, neg.payload_type) == (1, "H264", 109)
    assert neg.remote_rtcp_port == 49155  # a=rtcp
    assert "a=fmtp:109 profile-level-id=640016;packetization-mode=1" in section  # ours: 2.2


def test_level_asymmetry_lets_the_answer_state_our_own_receive_level() -> None:
    offer = _simple_offer(
        "a=rtpmap:100 H264/90000",
        "a=fmtp:100 profile-level-id=42e00c;packetization-mode=1;level-asymmetry-allowed=1",
        fmts="100",
    )
    neg, section = _answered(offer)
    assert "profile-level-id=42e016" in section and "level-asymmetry-allowed=1" in section
    # we send within the offerer's level 1.2 (396 macroblocks, 6000 MB/s): 640x360 shrinks
    assert neg.width * neg.height <= 396 * 256 and neg.framerate * 396 <= 6000 * 1.5


def test_answer_uses_the_payload_type_pjmedia_will_write() -> None:
    """baresip's avcodec offers H.264 mode 0 as 96 and mode 1 as 97: we match 97's parameters,
    and pjmedia's negotiator names the answer's format 96 (the offer's first H264)."""
    offer = _simple_offer(
        "a=rtpmap:96 H264/90000",
        "a=fmtp:96 packetization-mode=0;profile-level-id=42e01f",
        "a=rtpmap:97 H264/90000",
        "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f",
        "a=rtcp-fb:* nack pli",
        fmts="96 97",
    )
    neg, section = _answered(offer)
    assert (neg.codec, neg.payload_type) == ("H264", 96)
    assert "packetization-mode=1" in neg.fmtp
    assert section.startswith("m=video 40000 RTP/AVP 96\r\n")
    assert "a=fmtp:96 profile-level-id=42e016;packetization-mode=1" in section


def test_answer_keeps_the_offerers_codec_order() -> None:
    offer = _simple_offer(
        "a=rtpmap:100 VP8/90000",
        "a=rtpmap:101 H264/90000",
        "a=fmtp:101 packetization-mode=1",
        fmts="100 101",
    )
    neg, section = _answered(offer)
    assert (neg.codec, neg.payload_type) == ("VP8", 100)
    assert section.startswith("m=video 40000 RTP/AVP 100\r\n")


@pytest.mark.parametrize(
    ("offered", "ours", "answer"),
    [
        ("sendrecv", "sendrecv", "sendrecv"),
        ("sendonly", "sendrecv", "recvonly"),
        ("recvonly", "sendrecv", "sendonly"),
        ("inactive", "sendrecv", "inactive"),
        ("sendrecv", "recvonly", "recvonly"),
        ("sendonly", "sendonly", "inactive"),
    ],
)
def test_direction_answer_rules_of_rfc3264(offered: str, ours: str, answer: str) -> None:
    assert answer_direction(offered, ours) == answer


def test_hold_offer_is_answered_recvonly() -> None:
    neg, section = _answered(_simple_offer(direction="sendonly"))
    assert neg.direction == "recvonly" and not neg.sends and "a=recvonly" in section


def test_old_style_hold_address_stops_our_sending() -> None:
    neg, _ = _answered(_simple_offer(host="0.0.0.0"))
    assert neg.direction == "recvonly"


def test_rejected_and_unusable_offers_are_declined_with_port_0() -> None:
    neg, section = _answered(_simple_offer(port=0))
    assert not neg.accepted and "port is 0" in neg.reason
    assert section.startswith("m=video 0 ")
    only_h263 = _simple_offer("a=rtpmap:34 H263/90000", fmts="34 31")
    neg, section = _answered(only_h263)
    assert not neg.accepted and "H263" in neg.reason and "H261" in neg.reason
    assert section == "m=video 0 RTP/AVP 34\r\n"
    mode0 = _simple_offer("a=rtpmap:100 H264/90000", "a=fmtp:100 profile-level-id=42e01f")
    assert not _answered(mode0)[0].accepted
    srtp = _simple_offer(proto="RTP/SAVP")
    neg, section = _answered(srtp)
    assert not neg.accepted and "SRTP" in neg.reason and section.startswith("m=video 0 RTP/SAVP")


def test_offer_without_video_needs_no_answer() -> None:
    audio_only = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
    assert answer_offer(audio_only + "m=audio 4000 RTP/AVP 0\r\n", SETTINGS, "127.0.0.1") is None


def test_read_answer_to_our_offer() -> None:
    answer = _simple_offer(
        "a=rtpmap:97 VP8/90000", "a=rtcp-fb:97 nack pli", fmts="97", direction="recvonly"
    )
    neg = read_answer(answer, SETTINGS, 1)
    assert neg.accepted and (neg.codec, neg.payload_type) == ("VP8", 97)
    assert neg.direction == "sendonly" and neg.rtcp_fb == ("nack pli",)
    assert neg.remote_port == 40010
    declined = read_answer(_simple_offer(port=0), SETTINGS, 1)
    assert not declined.accepted and "declined" in declined.reason
    assert not read_answer(_simple_offer(), SETTINGS, 5).accepted
    assert "m=audio" in read_answer(_simple_offer(), SETTINGS, 0).reason


def test_read_answer_inside_a_whole_sip_message() -> None:
    body = _simple_offer()
    msg = (
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    )
    neg = read_answer(msg, SETTINGS, 1)
    assert neg.accepted and neg.codec == "H264"


def test_replace_section_swaps_pjsuas_second_audio_and_drops_session_bandwidth() -> None:
    local = (
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=pjmedia\r\nb=AS:84\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0 101\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:0 PCMU/8000\r\n"
        "m=audio 4002 RTP/AVP 0 101\r\nc=IN IP4 127.0.0.1\r\na=rtpmap:0 PCMU/8000\r\n"
    )
    out = replace_section(local, 1, offer_section(SETTINGS, "127.0.0.1"))
    assert section_kinds(out) == [("audio", 4000), ("video", 40000)]
    assert "b=AS:84" not in out and "b=AS:512" in out
    assert parse_sdp(out).sections[1].formats[0].codec == "H264"
    with pytest.raises(ValueError, match="index 2"):
        replace_section(local, 2, "m=video 0 RTP/AVP 96\r\n")


HOSTILE = [
    "",
    "garbage",
    "\x00" * 50,
    "v=0\r\nm=video notaport RTP/AVP 96\r\n",
    "v=0\r\nm=video 99999 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1",
    "v=0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1;profile-level-id=zzzzzz\r\n",
    "v=0\r\nm=video 4000 RTP/AVP 96\r\nc=IN IP4 999.1.1.1\r\na=rtpmap:96 VP8/90000\r\n",
    "v=0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=fmtp:96 max-fs=99999999999\r\n",
    "v=0\r\n" + "m=video 4000 RTP/AVP 96\r\n" * 500,
    "v=0\r\nm=video 4000 RTP/AVP " + " ".join(str(i % 128) for i in range(5000)) + "\r\n",
    "v=0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 " + "X" * 100000 + "/90000\r\n",
    "v=0\r\nm=video 4000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\na=rtcp:0\r\na=rtcp:abc\r\n",
]


@pytest.mark.parametrize("sdp", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_sdp_never_raises(sdp: str) -> None:
    message = parse_sdp(sdp)
    assert len(message.sections) <= 32
    result = answer_offer(sdp, SETTINGS, "127.0.0.1")
    if result is not None:
        neg, section = result
        assert section.startswith("m=video ")
        if neg.accepted:
            assert 0 < neg.remote_port < 65536 and neg.codec in ("H264", "VP8")
            assert neg.width >= 16 and neg.framerate >= 1
    read_answer(sdp, SETTINGS, 0)


def test_hostile_details_are_reported_as_problems() -> None:
    message = parse_sdp(HOSTILE[3])
    assert message.problems and "notaport" in message.problems[0]
    assert parse_sdp(HOSTILE[6]).sections[0].host is None


def _simple_offer(
    *attrs: str,
    fmts: str = "96",
    port: int = 40010,
    host: str = "10.1.2.3",
    direction: str = "sendrecv",
    proto: str = "RTP/AVP",
) -> str:
    attrs = attrs or (
        "a=rtpmap:96 H264/90000",
        "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1",
    )
    return "\r\n".join(
        [
            "v=0",
            "o=- 1 1 IN IP4 10.1.2.3",
            "s=-",
            f"c=IN IP4 {host}",
            "t=0 0",
            "m=audio 40008 RTP/AVP 0",
            "a=rtpmap:0 PCMU/8000",
            f"m=video {port} {proto} {fmts}",
            *attrs,
            f"a={direction}",
            "",
        ]
    )


def _answered(offer: str) -> tuple[VideoNegotiation, str]:
    result = answer_offer(offer, SETTINGS, "127.0.0.1")
    assert result is not None
    return result
