"""What ``crcgw test-dial`` reports: stages with their times, media figures, verdicts (pure).

A test dial is a list of :class:`Stage` records (DNS, transport connect, REGISTER, INVITE to
100 / 180-183 / 200, DTMF, media both ways, BYE, ...) and one :class:`MediaFigures`. From them
:func:`figures` takes the numbers that have a threshold in :mod:`media.quality`, and
:func:`build_report` judges them. No I/O and no clock here: the runners measure, this module
only arranges and judges what they measured.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from media.quality import DEFAULT_THRESHOLDS, Threshold, Verdict, all_passed, estimate_mos, judge
from signaling.hostport import HostPortError, parse_host_port

__all__ = [
    "STAGE_FIGURES",
    "MediaFigures",
    "Stage",
    "StageStatus",
    "TestDialReport",
    "VideoFigures",
    "build_report",
    "figures",
    "media_figures",
    "report_json",
    "stage_rows",
    "verdict_rows",
    "with_capture_jitter",
]

StageStatus = Literal["pending", "ok", "failed", "skipped", "sent"]

#: Stage name -> the threshold metric its time is judged against.
STAGE_FIGURES: Mapping[str, str] = {
    "dns": "dns_ms",
    "connect": "connect_ms",
    "register": "register_ms",
    "invite_100": "invite_to_100_ms",
    "invite_180": "invite_to_180_ms",
    "invite_200": "setup_ms",
    "dtmf": "dtmf_ms",
    "bye": "bye_ms",
}

#: Stages whose absence is not a fault (a far end may answer 200 without 100 or 180).
_OPTIONAL_STAGES = frozenset({"invite_100", "invite_180"})


@dataclass
class Stage:
    """One step of the test dial. ``ms`` is the time the step took (``None``: not timed)."""

    name: str
    label: str
    status: StageStatus = "pending"
    ms: float | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "status": self.status,
            "ms": None if self.ms is None else round(self.ms, 3),
            "detail": self.detail,
        }


@dataclass(frozen=True)
class MediaFigures:
    """The call's audio as the caller measured it (receive side; ``tx_packets`` sent)."""

    codec: str | None
    rx_packets: int
    tx_packets: int
    lost: int
    jitter_ms: float | None
    max_jitter_ms: float | None
    network_delay_ms: float
    mos: float | None
    source: str = "pjsua"
    # from the far end's RTCP reports (H.323 audio), when it sent any
    rtt_ms: float | None = None
    far_loss_pct: float | None = None

    @property
    def loss_pct(self) -> float | None:
        expected = self.rx_packets + max(0, self.lost)
        if expected == 0:
            return None
        return 100.0 * max(0, self.lost) / expected

    def as_dict(self) -> dict[str, Any]:
        loss = self.loss_pct
        return {
            "codec": self.codec,
            "rx_packets": self.rx_packets,
            "tx_packets": self.tx_packets,
            "lost": self.lost,
            "loss_pct": None if loss is None else round(loss, 3),
            "jitter_ms": self.jitter_ms,
            "max_jitter_ms": self.max_jitter_ms,
            "network_delay_ms": round(self.network_delay_ms, 3),
            "mos": None if self.mos is None else round(self.mos, 3),
            "source": self.source,
            "rtt_ms": self.rtt_ms,
            "far_loss_pct": self.far_loss_pct,
        }


@dataclass(frozen=True)
class VideoFigures:
    """The call's video as this side measured it: what was negotiated, what arrived and was
    decoded (``media.video`` stream statistics), what was sent."""

    codec: str | None
    direction: str
    profile: str
    width: int
    height: int
    fps: float
    bitrate_kbps: float
    packets: int
    lost: int
    freezes: int
    max_gap_ms: float
    first_frame_ms: float | None
    keyframe_rtt_ms: float | None
    decoded_frames: int
    frames_sent: int
    keyframes_sent: int
    keyframe_requests_received: int
    keyframe_requests_sent: int = 0
    decode_errors: int = 0
    bad_packets: int = 0
    snapshot: str | None = None

    @classmethod
    def from_stats(
        cls, codec: str | None, direction: str, stats: Mapping[str, Any], *,
        info_requests: int = 0, snapshot: str | None = None,
    ) -> VideoFigures:
        """From a stream's figures (``media.video.VideoStats.as_dict()``); ``info_requests``:
        keyframe requests received by SIP INFO, beside the RTCP PLIs and FIRs."""
        return cls(
            codec=codec, direction=direction, profile=stats["profile"], width=stats["width"],
            height=stats["height"], fps=stats["fps"], bitrate_kbps=stats["bitrate_kbps"],
            packets=stats["packets"], lost=stats["lost"], freezes=stats["freezes"],
            max_gap_ms=stats["max_gap_ms"], first_frame_ms=stats["first_frame_ms"],
            keyframe_rtt_ms=stats["keyframe_rtt_ms"], decoded_frames=stats["decoded_frames"],
            frames_sent=stats["frames_sent"], keyframes_sent=stats["keyframes_sent"],
            keyframe_requests_received=stats["plis_received"] + stats["firs_received"]
            + info_requests,
            keyframe_requests_sent=stats["plis_sent"] + stats["firs_sent"],
            decode_errors=stats["decode_errors"], bad_packets=stats["bad_packets"],
            snapshot=snapshot,
        )

    @property
    def loss_pct(self) -> float | None:
        expected = self.packets + max(0, self.lost)
        return None if expected == 0 else 100.0 * max(0, self.lost) / expected

    @property
    def receives(self) -> bool:
        return self.direction in ("sendrecv", "recvonly")

    @property
    def sends(self) -> bool:
        return self.direction in ("sendrecv", "sendonly")

    def as_dict(self) -> dict[str, Any]:
        loss = self.loss_pct
        out = asdict(self)
        out["loss_pct"] = None if loss is None else round(loss, 3)
        return out


def video_figures(video: VideoFigures) -> dict[str, float | None]:
    """The video numbers with thresholds (``video_*`` in :mod:`media.quality`), for the
    directions that were negotiated."""
    out: dict[str, float | None] = {}
    counts: list[int] = []
    if video.receives:
        out["video_first_frame_ms"] = video.first_frame_ms
        out["video_fps"] = video.fps if video.decoded_frames else None
        out["video_height"] = float(video.height) if video.decoded_frames else None
        out["video_loss_pct"] = video.loss_pct
        out["video_freezes"] = float(video.freezes)
        if video.keyframe_requests_sent:  # judged only when we asked (then it must come)
            out["video_keyframe_rtt_ms"] = video.keyframe_rtt_ms
        counts.append(video.decoded_frames)
    if video.sends:
        counts.append(video.frames_sent)
    if counts:
        out["video_frames"] = float(min(counts))
    return out


def media_figures(
    codec: str | None,
    rx_packets: int,
    tx_packets: int,
    lost: int,
    jitter_ms: float | None,
    max_jitter_ms: float | None,
    network_delay_ms: float,
    source: str = "pjsua",
) -> MediaFigures:
    """Media figures with the E-model MOS: G.107 from the codec, the loss, and a mouth-to-ear
    delay of the one-way network delay plus a jitter buffer of max(40 ms, 2 x max jitter)."""
    expected = rx_packets + max(0, lost)
    mos = None
    if expected > 0:
        buffer_ms = max(40.0, 2.0 * (max_jitter_ms or 0.0))
        mos = estimate_mos(codec, max(0, lost) / expected, network_delay_ms, buffer_ms)
    return MediaFigures(codec, rx_packets, tx_packets, lost, jitter_ms, max_jitter_ms,
                        network_delay_ms, mos, source)


def with_capture_jitter(
    media: MediaFigures, streams: Sequence[Mapping[str, Any]], rtp_low: int, rtp_high: int
) -> MediaFigures:
    """``media`` with the jitter of the received stream as the capture analysis computed it
    (RFC 3550 over the audio payload only, RFC 4733 events left out), and the MOS again.

    The received stream is the one whose destination port is in our RTP range; with none (or
    several) the figures stay as they are.
    """
    received = [
        s for s in streams
        if rtp_low <= _port_of(str(s.get("dst", ""))) <= rtp_high
        and s.get("jitter_ms") is not None
    ]
    if len(received) != 1:
        return media
    stream = received[0]
    return media_figures(
        media.codec, media.rx_packets, media.tx_packets, media.lost,
        float(stream["jitter_ms"]), float(stream["max_jitter_ms"]), media.network_delay_ms,
        source="pjsua; jitter from the capture (audio only)",
    )


def _port_of(endpoint: str) -> int:
    """The port of a capture endpoint (``ip:port``, ``[v6]:port``); -1 when it has none."""
    try:
        port = parse_host_port(endpoint, zero_port=True).port
    except HostPortError:
        return -1
    return -1 if port is None else port


def figures(
    stages: Sequence[Stage], media: MediaFigures | None, video: VideoFigures | None = None
) -> dict[str, float | None]:
    """The numbers to judge: each timed stage, then the media figures when media was expected.

    A stage that failed counts as missing (its verdict fails); an optional stage the far end
    skipped (no 100, no 180) and a stage that was not needed (no IVR) are left out.
    """
    out: dict[str, float | None] = {}
    for stage in stages:
        metric = STAGE_FIGURES.get(stage.name)
        if metric is None or stage.status == "skipped":
            continue
        if stage.ms is None and (stage.name in _OPTIONAL_STAGES or stage.status == "sent"):
            continue
        out[metric] = stage.ms if stage.status in ("ok", "sent") else None
    if media is not None:
        out["packets"] = float(min(media.rx_packets, media.tx_packets))
        out["loss_pct"] = media.loss_pct
        out["jitter_ms"] = media.jitter_ms
        out["max_jitter_ms"] = media.max_jitter_ms
        out["mos"] = media.mos
        if media.rtt_ms is not None:  # judged only when the far end reported by RTCP
            out["rtt_ms"] = media.rtt_ms
        if media.far_loss_pct is not None:
            out["far_loss_pct"] = media.far_loss_pct
    if video is not None:
        out.update(video_figures(video))
    return out


@dataclass
class TestDialReport:
    """Everything one test dial found; :attr:`ok` is the exit code's source."""

    target: str
    protocol: str
    transport: str
    stages: list[Stage]
    media: MediaFigures | None
    verdicts: list[Verdict]
    ok: bool
    error: str | None = None
    ports: dict[str, Any] | None = None
    capture: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    video: VideoFigures | None = None


def build_report(
    target: str,
    protocol: str,
    transport: str,
    stages: Sequence[Stage],
    media: MediaFigures | None,
    thresholds: Mapping[str, Threshold] = DEFAULT_THRESHOLDS,
    *,
    error: str | None = None,
    ports: dict[str, Any] | None = None,
    capture: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
    video: VideoFigures | None = None,
) -> TestDialReport:
    """Judge the figures; the report is ``ok`` only when no stage failed, nothing went wrong
    and every verdict passes (a missing figure fails)."""
    found = figures(stages, media, video)
    measured = {k: None if v is None else round(v, 3) for k, v in found.items()}
    verdicts = judge(measured, thresholds)
    failed = any(stage.status == "failed" for stage in stages)
    ok = not failed and error is None and bool(verdicts) and all_passed(verdicts)
    return TestDialReport(target, protocol, transport, list(stages), media, verdicts, ok,
                          error, ports, capture, list(notes), video)


def report_json(report: TestDialReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "target": report.target,
        "protocol": report.protocol,
        "transport": report.transport,
        "error": report.error,
        "stages": [stage.as_dict() for stage in report.stages],
        "media": report.media.as_dict() if report.media is not None else None,
        "video": report.video.as_dict() if report.video is not None else None,
        "verdicts": [
            {**v.as_dict(), "unit": v.threshold.unit, "description": v.threshold.description}
            for v in report.verdicts
        ],
        "ports": report.ports,
        "capture": report.capture,
        "notes": report.notes,
    }


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def stage_rows(stages: Sequence[Stage]) -> list[tuple[str, str, str, str]]:
    """Rows (stage, status, time, detail) for a table."""
    return [(s.label, s.status, _ms(s.ms), s.detail) for s in stages]


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "missing"
    text = f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value)}"
    return f"{text} {unit}".strip()


def verdict_rows(verdicts: Sequence[Verdict]) -> list[tuple[str, str, str, str]]:
    """Rows (figure, value, limit, verdict) for a table."""
    rows = []
    for v in verdicts:
        sign = "<=" if v.threshold.kind == "max" else ">="
        limit = f"{sign} {_value(v.threshold.limit, v.threshold.unit)}"
        rows.append((v.metric, _value(v.value, v.threshold.unit), limit, v.status.upper()))
    return rows
