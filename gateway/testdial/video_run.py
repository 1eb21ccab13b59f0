"""The video part of a SIP test dial: offer, send the test pattern, measure what arrives.

:func:`video_leg` reserves the port and gives the settings to offer; :func:`watch_video`
runs beside the call (first decoded picture, then one keyframe request to time its round
trip); :func:`video_result` fills the ``video`` stage, saves the snapshot and returns the
figures the verdicts judge (:func:`gateway.testdial.report.video_figures`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from gateway.testdial.report import VideoFigures
from gateway.testdial.stages import StageBoard
from gateway.videoleg import DEFAULT_VIDEO, KeyframeAsker, VideoLeg
from signaling.sip.sdpvideo import VideoSettings

__all__ = ["DEFAULT_VIDEO", "video_leg", "video_result", "watch_video"]

_KEYFRAME_PROBE_AFTER_S = 1.0


def video_leg(engine: KeyframeAsker, settings: VideoSettings, host: str, port: int = 0) -> VideoLeg:
    """A leg for the call about to be placed, on ``port`` when free (the top of the test
    dial's RTP range, inside the capture filter); ``leg.settings`` then carry the port."""
    leg = VideoLeg(engine, settings, host)
    leg.reserve(port)
    return leg


async def watch_video(leg: VideoLeg, board: StageBoard, until: float) -> None:
    """Until ``until`` (monotonic): wait for the first picture, then ask for a keyframe once
    (RTCP PLI/FIR and SIP INFO) so that its round trip is measured; keep the stage's detail."""
    probed_at: float | None = None
    first_at: float | None = None
    while time.monotonic() < until:
        stats = leg.stats()
        last = leg.last
        if stats is not None and last is not None:
            if first_at is None and stats.decoded_frames:
                first_at = time.monotonic()
            if (
                probed_at is None
                and first_at is not None
                and time.monotonic() - first_at >= _KEYFRAME_PROBE_AFTER_S
                and leg.stream is not None
            ):
                probed_at = time.monotonic()
                leg.stream.request_keyframe()
            board.set(
                "video",
                "pending",
                detail=(
                    f"{last.codec} {last.direction}: rx {stats.decoded_frames} frames "
                    f"{stats.width}x{stats.height}, tx {stats.frames_sent} frames"
                ),
            )
        await asyncio.sleep(0.25)


def video_result(
    leg: VideoLeg, board: StageBoard, snapshot: Path | None
) -> tuple[VideoFigures | None, list[str]]:
    """The ``video`` stage and figures at the end of the call (before the stream stops)."""
    notes: list[str] = []
    last = leg.last
    stats = leg.stats()
    if last is None:
        board.set("video", "skipped", detail="the far end's answer had no video section")
        return None, ["video was offered; the answer had no video (an audio-only far end)"]
    if not last.accepted or stats is None:
        board.set("video", "skipped", detail=f"no video: {last.reason or 'not started'}")
        return None, [f"video was offered and not accepted: {last.reason}"]
    saved: str | None = None
    if snapshot is not None:
        if leg.stream is not None and leg.stream.save_snapshot(snapshot):
            saved = str(snapshot)
        else:
            notes.append(f"--snapshot: no picture decoded, {snapshot} not written")
    figures = VideoFigures.from_stats(
        last.codec, last.direction, stats.as_dict(),
        info_requests=leg.keyframe_requests_received, snapshot=saved,
    )
    received_ok = not figures.receives or figures.decoded_frames > 0
    sent_ok = not figures.sends or figures.frames_sent > 0
    detail = (
        f"{last.codec} {last.direction}: received {figures.decoded_frames} frames "
        f"{figures.width}x{figures.height} at {figures.fps:g} fps, sent {figures.frames_sent}"
    )
    board.set(
        "video", "ok" if received_ok and sent_ok else "failed", figures.first_frame_ms, detail
    )
    if leg.keyframe_requests_received:
        notes.append(
            f"the far end asked for {leg.keyframe_requests_received} keyframes by SIP INFO; "
            "pjsua answers such an INFO 400 (a limit of the wheel), the keyframes were sent"
        )
    return figures, notes
