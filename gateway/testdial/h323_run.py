"""The H.323 test dial: :func:`signaling.h323.dial` and its per-message times as stages.

The H.225 call signalling is timed from the Setup: Call Proceeding (like SIP's 100), Alerting
(180), Connect (200), then the Release Complete we send after the duration. The call offers
G.711 by fastStart (by H.245 OpenLogicalChannel when refused, in the tunnel or on a separate
H.245 connection when the far end declines the tunnel); once a channel opens, RTP flows
both ways (20 ms packets) and what was received is measured (loss, jitter) and judged like
SIP's media. RTCP runs beside it (a report every duration/5 s, 0.2-5 s): when the far end
reports too, its round trip and its loss of our stream are judged as well.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway.calllegs import dial_h323
from gateway.peers.process import free_port
from gateway.testdial.capture import CallCapture, analyse_call_capture, redact_capture
from gateway.testdial.probes import resolve, route_interface
from gateway.testdial.report import MediaFigures, VideoFigures, media_figures
from gateway.testdial.stages import StageBoard
from signaling.dialstring import DialTarget
from signaling.h323 import DEFAULT_PORT, DialEvent, DialResult
from signaling.h323.dial import masked_user_part

__all__ = ["H323Outcome", "run_h323"]

_STAGE_OF = {"Call Proceeding": "invite_100", "Alerting": "invite_180", "Connect": "invite_200"}


@dataclass
class H323Outcome:
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    capture: dict[str, Any] | None = None
    media: MediaFigures | None = None
    video: VideoFigures | None = None


def _first(events: list[DialEvent], message: str, direction: str) -> DialEvent | None:
    return next((e for e in events if e.message == message and e.direction == direction), None)


async def run_h323(
    target: DialTarget,
    board: StageBoard,
    duration_s: float,
    timeout_s: float,
    capture: Path | None = None,
) -> H323Outcome:
    host = target.host or ""
    port = target.port or DEFAULT_PORT
    board.say(f"resolving {host}")
    resolved = await resolve(host, port)
    if resolved.address is None:
        board.set("dns", "failed", resolved.ms, resolved.error)
        board.skip_pending("not reached")
        return H323Outcome(resolved.error)
    board.set("dns", "ok", resolved.ms,
              "IP literal, no query" if resolved.literal else f"{host} -> {resolved.address}")
    recorder: CallCapture | None = None
    rtp_port = 0
    if capture is not None:
        # the RTP port is chosen before the call so that the capture filter can name it
        rtp_port = free_port(("127.0.0.1", "0.0.0.0"), tcp=False)
        probe = free_port(("127.0.0.1",), tcp=False)
        interface = route_interface(resolved.address)
        bpf = f"tcp port {port} or udp portrange {rtp_port}-{rtp_port + 1} or udp port {probe}"
        board.say(f"starting tshark on {interface} ({bpf})")
        recorder = CallCapture(capture, interface, bpf, probe if interface == "lo" else None)
        recorder.start()
    board.say(f"calling {host}:{port} over H.323 (staying {duration_s:g} s once connected)")
    try:
        result = await dial_h323(target, duration_s, timeout_s, rtp_port,
                                 rtcp_interval=min(5.0, max(0.2, duration_s / 5)))
    finally:
        if recorder is not None:
            recorder.stop()
    outcome = H323Outcome()
    if capture is not None and recorder is not None:
        board.say("analysing the capture")
        analysis = await asyncio.to_thread(analyse_call_capture, capture, ())
        secret = target.user_part() if (target.passcode or target.host_key) else None
        outcome.capture = {"interface": recorder.interface, "filter": recorder.bpf,
                           **redact_capture(analysis, secret, masked_user_part(target), False)}
    _stages(board, result, outcome)
    return outcome


_CODEC = {"g711Ulaw64k": "PCMU", "g711Alaw64k": "PCMA"}


def _media(board: StageBoard, result: DialResult) -> MediaFigures | None:
    m = result.media
    if m is None or "tx_packets" not in m:
        detail = "the far end opened no audio channel" if result.connected else "no call"
        board.set("media", "failed" if result.connected else "skipped", detail=detail)
        return None
    codec = _CODEC.get(m["codec"] or "", m["codec"])
    proceeding = _first(result.events, "Call Proceeding", "received")
    setup = _first(result.events, "Setup", "sent")
    rtt_ms = (proceeding.at - setup.at) * 1000 if proceeding and setup else 0.0
    both = m["rx_packets"] > 0 and m["tx_packets"] > 0
    opened = m["opened_by"] + (" on the separate H.245 connection" if result.h245_separate else "")
    board.set("media", "ok" if both else "failed", None,
              f"{codec} ({opened}) to {m['remote_rtp']}: rx {m['rx_packets']}, "
              f"tx {m['tx_packets']} packets")
    rtcp = m.get("rtcp") or {}
    far = rtcp.get("far_end") or {}
    if rtcp.get("rtt_ms") is not None:  # the media path's own round trip beats signalling's
        rtt_ms = float(rtcp["rtt_ms"])
    figures = media_figures(codec, m["rx_packets"], m["tx_packets"], m["lost"], m["jitter_ms"],
                            m["max_jitter_ms"], rtt_ms / 2, source="h323")
    return replace(figures, rtt_ms=rtcp.get("rtt_ms"),
                   far_loss_pct=far.get("max_fraction_lost_pct"))


def _video(board: StageBoard, v: dict[str, Any] | None) -> VideoFigures | None:
    """The ``video`` stage and figures of an H.323 call: we send when our H.264 channel was
    acknowledged, we receive when we accepted the far end's; neither is no video (skipped)."""
    if v is None:
        board.set("video", "skipped", detail="H.264 not offered by this side")
        return None
    sends, receives = v.get("remote_rtp") is not None, v.get("receive_payload_type") is not None
    if not sends and not receives:
        board.set("video", "skipped", detail="the far end opened no H.264 channel")
        return None
    direction = "sendrecv" if sends and receives else "sendonly" if sends else "recvonly"
    figures = VideoFigures.from_stats("H264", direction, v)
    received_ok = not receives or figures.decoded_frames > 0
    sent_ok = not sends or figures.frames_sent > 0
    board.set("video", "ok" if received_ok and sent_ok else "failed", figures.first_frame_ms,
              f"H264 {direction}: received {figures.decoded_frames} frames "
              f"{figures.width}x{figures.height} at {figures.fps:g} fps, "
              f"sent {figures.frames_sent}")
    return figures


def _stages(board: StageBoard, result: DialResult, outcome: H323Outcome) -> None:
    events = result.events
    connected = _first(events, "TCP connected", "info")
    if connected is None:
        board.set("connect", "failed", detail=result.error or "no TCP connection")
        board.skip_pending("not reached")
        outcome.error = result.error or "no TCP connection"
        return
    board.set("connect", "ok", connected.at * 1000, connected.detail)
    setup = _first(events, "Setup", "sent")
    start = setup.at if setup is not None else connected.at
    for message, stage in _STAGE_OF.items():
        event = _first(events, message, "received")
        if event is not None:
            board.set(stage, "ok", (event.at - start) * 1000, event.detail or message)
        elif stage == "invite_200":
            board.set(stage, "failed", detail=result.outcome)
        else:
            board.set(stage, "skipped", detail=f"the far end sent no {message}")
    board.set("dtmf", "skipped", detail="not sent over H.323 by this tool")
    outcome.media = _media(board, result)
    release = _first(events, "Release Complete", "sent")
    if not result.connected:
        board.skip_pending("the call did not connect")
        outcome.error = result.outcome
        return
    if release is not None:
        board.set("bye", "sent", detail=release.detail)
    else:
        far = _first(events, "Release Complete", "received")
        board.set("bye", "failed", detail=f"the far end released first: "
                  f"{far.detail if far else result.outcome}")
    outcome.notes.append(f"H.323 outcome: {result.outcome}")
    outcome.video = _video(board, result.video)
    if result.video is not None and outcome.video is None:
        outcome.notes.append("H.323 video: the far end opened no H.264 channel")
