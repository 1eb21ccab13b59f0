"""baresip asks crcgw for a keyframe and crcgw answers with one (issue #16).

baresip 1.0.0 asks for a picture update (src/video.c ``request_picture_update``) when its
decoder fails or RTP packets are lost, and again every 500 ms until it decodes an intra frame.
It asks by RTCP only: a PLI when the far end's SDP has an ``rtcp-fb`` with ``nack`` (crcgw's
has), else an RFC 2032 FIR; it never sends SIP INFO ``picture_fast_update``. Here a relay
between crcgw's video sender and baresip loses crcgw's first frame (its keyframe), so
baresip's decoder gets only delta frames and fails (VP8: libvpx refuses them; H.264: avcodec
waits for a keyframe): the real trigger, no hand-made RTCP.

Judges: crcgw's own figures (PLIs received, keyframes sent), baresip's ``video_debug``
(``n_picup`` requests it made, ``n_keyframes`` it decoded, frames displayed) and tshark, which
orders baresip's PLI and crcgw's next keyframe on the wire.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from media.video import VideoStats
from signaling.pjsua import SipEngine
from signaling.sip.events import EngineEvent, VideoNegotiated
from signaling.sip.sdpvideo import VideoSettings
from signaling.sip.types import CallPhase
from tests.h323.conftest import live_capture, tshark  # noqa: F401  (fixtures)
from tests.harness import Baresip, Kamailio
from tests.harness.relay import RtpRelay
from tests.sip.helpers import endpoint, engine_config, run_engine

pytestmark = [pytest.mark.sip, pytest.mark.capture]

VIDEO = VideoSettings(width=320, height=240, framerate=10, bitrate_kbps=256)


def _baresip_video(bob: Baresip) -> dict[str, int]:
    """baresip's receive figures from ``video_debug`` (src/video.c ``vrx_debug``)."""
    text = str(bob.command("video_debug").get("data", ""))
    figures = {}
    for name, pattern in (
        ("frames", r"vidisp: \S+ \d+ x \d+ frames=(\d+)"),
        ("n_keyframes", r"n_keyframes=(\d+)"),
        ("n_picup", r"n_picup=(\d+)"),
    ):
        found = re.search(pattern, text)
        assert found, text
        figures[name] = int(found.group(1))
    return figures


@pytest.mark.parametrize("codec", ["VP8", "H264"])
def test_keyframe_request_from_baresip_is_answered_with_a_keyframe(
    kamailio: Kamailio,
    baresip_factory: Callable[..., Baresip],
    tshark: str,  # noqa: F811
    live_capture: Callable[[str], AbstractContextManager[Path]],  # noqa: F811
    codec: str,
) -> None:
    from gateway.videoleg import VideoLegs

    bob = baresip_factory("bob", "bobpw", registrar=kamailio.address("udp"), video=(codec,))
    assert bob.wait_registered(), bob.log_tail()
    settings = replace(VIDEO, codecs=(codec,))
    relay = RtpRelay(drop_frames=1).start()

    async def scenario(engine: SipEngine) -> Outcome:
        config = endpoint(kamailio, "room184", auto_answer=True, video=settings)
        assert (await engine.register(config)).ok
        legs = VideoLegs(engine, settings, "127.0.0.1")

        def through_relay(event: EngineEvent) -> None:
            # our RTP goes to the relay, which passes it on to baresip; RTCP stays direct
            if isinstance(event, VideoNegotiated) and event.accepted and event.remote_port:
                relay.target = (event.remote_host or "127.0.0.1", event.remote_port)
                event = replace(event, remote_host="127.0.0.1", remote_port=relay.port)
            legs.on_event(event)

        engine.add_listener(through_relay)
        loop = asyncio.get_running_loop()
        try:
            mark = engine.events.mark()
            bob.dial("sip:room184@127.0.0.1")
            call = (await engine.wait_incoming("room184-udp", 10, mark)).call_id
            assert (await engine.wait_call(call, timeout=10)).phase is CallPhase.CONNECTED
            deadline = loop.time() + 30
            leg = None
            while leg is None or leg.stream is None or leg.last is None:
                assert loop.time() < deadline, "no video leg"
                await asyncio.sleep(0.1)
                leg = legs.legs.get(call)
            stream, negotiated = leg.stream, leg.last
            while True:  # baresip asked (RTCP) and we sent a second keyframe
                stats = stream.stats()
                asked = stats.plis_received + stats.firs_received
                if asked >= 1 and stats.keyframes_sent >= 2:
                    break
                assert loop.time() < deadline, (stats, relay.dropped, relay.forwarded)
                await asyncio.sleep(0.1)
            while True:  # and decoded pictures after it
                theirs = _baresip_video(bob)
                if theirs["n_keyframes"] >= 1 and theirs["frames"] >= 5:
                    break
                assert loop.time() < deadline, (theirs, stream.stats())
                await asyncio.sleep(0.2)
            outcome = Outcome(
                stream.stats(), theirs, leg.keyframe_requests_received, stream.local_port,
                stream.ssrc, int(negotiated.payload_type or 0),
            )  # fmt: skip
            bob.hangup()
            await engine.wait_call(call, {CallPhase.DISCONNECTED}, 5)
            return outcome
        finally:
            legs.stop()

    # crcgw's RTP to the relay, and what baresip sends (its RTCP among it)
    bpf = f"udp dst port {relay.port} or udp src portrange {bob.rtp_low}-{bob.rtp_high + 1}"
    try:
        with live_capture(bpf) as pcap:
            got = run_engine(engine_config(kamailio), scenario)
    finally:
        relay.stop()

    # the fault: the first frame (a keyframe) never reached baresip, later ones did
    assert relay.dropped >= 1 and relay.forwarded >= 10
    # crcgw's figures: baresip's request received, a keyframe sent after the first one
    assert got.stats.plis_received + got.stats.firs_received >= 1, got.stats
    assert got.stats.keyframes_sent >= 2, got.stats
    # baresip's own figures: it asked, then decoded a keyframe and displayed pictures
    assert got.baresip["n_picup"] >= 1 and got.baresip["n_keyframes"] >= 1, got.baresip
    # tshark: baresip's PLI for our SSRC, then our next keyframe
    requests = _wire_requests(tshark, pcap, got.port + 1, got.ssrc)
    frames = _wire_frames(tshark, pcap, relay.port, codec, got.payload_type)
    assert requests, "no PLI/FIR from baresip on the wire"
    assert frames and frames[0][2], frames[:3]  # the stream began with a keyframe (dropped)
    first_ts = frames[0][1]
    assert first_ts == relay.log[0][2] and not relay.log[0][3]  # the frame the relay dropped
    keys = [(t, ts) for t, ts, key in frames if key and ts != first_ts]
    assert keys, "no keyframe after the first"
    asked_at = requests[0]
    assert keys[0][0] > asked_at, (keys[0], asked_at)  # none before the request
    answer_ms = (keys[0][0] - asked_at) * 1000
    # the answer is the next frame or so (the periodic keyframe comes only after 10 s)
    assert answer_ms < 3000, answer_ms
    for asked in requests:  # each request answered, unless the call ended just after it
        if frames[-1][0] - asked > 1.0:
            assert any(asked < t <= asked + 3 for t, _ in keys), (asked, keys)
    t0 = frames[0][0]
    between = [t for t, _, _ in frames if asked_at < t < keys[0][0]]  # delta frames sent meanwhile
    print(
        f"{codec}: request -> keyframe {answer_ms:.0f} ms; requests at "
        f"{[round((t - t0) * 1000) for t in requests]} ms, keyframes at "
        f"{[round((t - t0) * 1000) for t, _ in keys]} ms; delta frames in between at "
        f"{[round((t - t0) * 1000) for t in between]} ms; {got}"
    )


@dataclass(frozen=True)
class Outcome:
    stats: VideoStats
    baresip: dict[str, int]
    infos_received: int
    port: int
    ssrc: int
    payload_type: int


def _fields(tshark_bin: str, pcap: Path, args: list[str]) -> list[list[str]]:
    out = subprocess.run(
        [tshark_bin, "-r", str(pcap), *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def _wire_requests(tshark_bin: str, pcap: Path, rtcp_port: int, ssrc: int) -> list[float]:
    """Times of the PLIs naming ``ssrc`` and of the FIRs (RFC 5104, RFC 2032) sent to us."""
    rows = _fields(tshark_bin, pcap, [
        "-d", f"udp.port=={rtcp_port},rtcp", "-Y", f"rtcp && udp.dstport=={rtcp_port}",
        "-T", "fields", "-e", "frame.time_epoch", "-e", "rtcp.pt", "-e", "rtcp.psfb.fmt",
        "-e", "rtcp.mediassrc",
    ])  # fmt: skip
    times = []
    for row in rows:
        pts, fmts = row[1].split(","), row[2].split(",")
        media = {int(x, 16) for x in row[3].split(",") if x}
        pli = "206" in pts and "1" in fmts and ssrc in media
        if pli or "192" in pts or ("206" in pts and "4" in fmts):
            times.append(float(row[0]))
    return times


def _wire_frames(
    tshark_bin: str, pcap: Path, port: int, codec: str, pt: int
) -> list[tuple[float, int, bool]]:
    """(time of its first packet, RTP timestamp, keyframe?) of each frame sent to ``port``,
    keyframes as tshark's VP8 and H.264 dissectors read them (VP8 frame type 0; H.264 SPS
    or IDR slice)."""
    if codec == "VP8":
        key_fields = ["-e", "vp8.pld.s", "-e", "vp8.pld.partid", "-e", "vp8.hdr.frametype"]
    else:
        key_fields = ["-e", "h264.nal_unit_type"]
    rows = _fields(tshark_bin, pcap, [
        "-d", f"udp.port=={port},rtp", "-d", f"rtp.pt=={pt},{codec.lower()}",
        "-Y", f"rtp && udp.dstport=={port}", "-T", "fields", "-e", "frame.time_epoch",
        "-e", "rtp.timestamp", *key_fields,
    ])  # fmt: skip
    frames: dict[int, tuple[float, int, bool]] = {}
    for row in rows:
        ts = int(row[1])
        if codec == "VP8":
            key = row[2] == "1" and row[3] == "0" and row[4] == "0"
        else:
            key = bool({"5", "7"} & set(row[2].split(",")))
        first = frames.get(ts, (float(row[0]), ts, False))
        frames[ts] = (first[0], ts, first[2] or key)
    return sorted(frames.values())
