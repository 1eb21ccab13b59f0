"""``crcgw media bench --part video-rtp``: CPU per second of call of one video leg."""

from __future__ import annotations

from typing import Any

from gateway.cli.output import print_table


def video_rtp_part(report: dict[str, Any], quick: bool, as_json: bool) -> None:
    from media.video.benchmark import run_live_leg, run_rtp_legs

    legs = run_rtp_legs(frames=60 if quick else 90, rounds=1 if quick else 3)
    live = run_live_leg("H264", "720p", seconds=3.0 if quick else 6.0)
    report["video_rtp"] = [r.as_dict() for r in legs]
    report["video_rtp_live"] = live.as_dict()
    if as_json:
        return
    print_table(
        "video leg: encode + RTP packetize, depacketize + decode (PyAV, aiortc payload formats), "
        "1 thread, 30 fps, camera-like content (panning picture with noise)",
        ("codec", "size", "preset", "kbps", "enc ms", "dec ms", "CPU s / call s", "legs/core"),
        (
            (
                r.codec,
                r.size,
                r.preset,
                f"{r.kbps_out:.0f}",
                f"{r.encode_ms:.2f}",
                f"{r.decode_ms:.2f}",
                f"{r.cpu_per_call_second:.3f}",
                f"{r.legs_per_core:.1f}",
            )
            for r in legs
        ),
    )
    print_table(
        "live leg on loopback (sockets, threads, RTCP): H.264 720p30 sendonly -> recvonly",
        ("CPU s / call s", "fps sent", "fps decoded", "lost", "freezes"),
        [
            (
                f"{live.cpu_per_call_second:.3f}",
                f"{live.fps_sent:.1f}",
                f"{live.fps_decoded:.1f}",
                str(live.lost),
                str(live.freezes),
            )
        ],
    )
