"""``crcgw analyze``: compose the two capture passes into calls, RTP streams and their quality.

- pass 1, :mod:`gateway.analysis.tshark_fields`: ``tshark -T fields`` once over the capture for the
  RTP columns (numpy) and the list of signalling frames;
- pass 2, :mod:`gateway.analysis.signaling_capture`: pyshark over just the signalling frames;
- :mod:`signaling.ladder` makes calls of the SIP and H.225 messages, :mod:`media.rtpstats` the
  stream statistics, :mod:`media.quality` the MOS.

RTP streams are tied to a call when one of their ends is a media address of the call's SDP; the
codec and the clock rate of a dynamic payload type come from that SDP (else from any SDP of the
capture, the static table, or the timestamps themselves).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gateway.analysis.errors import CaptureError
from gateway.analysis.signaling_capture import read_signaling
from gateway.analysis.tshark_fields import FieldTable, read_fields, tshark_options
from media.quality import estimate_mos
from media.rtpstats import (
    STATIC_PAYLOAD_TYPES,
    RtpColumns,
    RtpStreamStats,
    analyse_stream,
    estimate_clock_rate,
    event_digits,
    group_streams,
)
from signaling.ladder import CallSummary, OtherDialog, h225_calls, sip_calls, sip_other_dialogs

__all__ = ["AnalysisReport", "StreamReport", "analyse_capture", "build_report", "report_json"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StreamReport:
    ssrc: int
    src: str
    dst: str
    payload_type: int | None
    codec: str
    clock_rate: int | None
    stats: RtpStreamStats
    mos: float | None
    dtmf: str
    call_id: str | None

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "ssrc": f"0x{self.ssrc:08x}",
            "src": self.src,
            "dst": self.dst,
            "payload_type": self.payload_type,
            "codec": self.codec,
            "clock_rate": self.clock_rate,
            "packets": s.packets,
            "expected": s.expected,
            "lost": s.lost,
            "loss_pct": round(100.0 * s.loss_fraction, 3),
            "sequence_errors": s.sequence_errors,
            "duplicates": s.duplicates,
            "jitter_ms": round(s.mean_jitter_ms, 3),
            "max_jitter_ms": round(s.max_jitter_ms, 3),
            "max_delta_ms": round(s.max_delta_ms, 3),
            "mos": None if self.mos is None else round(self.mos, 2),
            "dtmf": self.dtmf,
            "payload_types": list(s.payload_types),
            "duration_s": round(s.duration_s, 3),
            "call_id": self.call_id,
        }


@dataclass(frozen=True)
class AnalysisReport:
    capture: str
    calls: list[CallSummary]
    other_dialogs: list[OtherDialog]
    streams: list[StreamReport]
    malformed: int
    unreadable_signaling: int = 0
    notes: list[str] = field(default_factory=list)


def _call_json(call: CallSummary, streams: Sequence[StreamReport]) -> dict[str, Any]:
    digits_rtp = "".join(s.dtmf for s in streams if s.call_id == call.call_id)
    return {
        "call_id": call.call_id,
        "protocol": call.protocol,
        "from": call.from_uri,
        "to": call.to_uri,
        "setup_ms": None if call.setup_ms is None else round(call.setup_ms, 3),
        "final_code": call.final_code,
        "final": call.final,
        "messages": call.messages,
        "auth_challenges": call.auth_challenges,
        "reinvites": call.reinvites,
        "dtmf_info": call.dtmf_info,
        "dtmf_rtp": digits_rtp,
        "ladder": [
            {"time_s": round(e.time_s, 6), "src": e.src, "dst": e.dst, "message": e.label}
            for e in call.events
        ],
    }


def report_json(report: AnalysisReport) -> dict[str, Any]:
    """The ``--json`` object: ``calls``, ``rtp_streams``, ``malformed`` and a few extras."""
    return {
        "capture": report.capture,
        "calls": [_call_json(c, report.streams) for c in report.calls],
        "rtp_streams": [s.as_dict() for s in report.streams],
        "malformed": report.malformed,
        "other_sip": [
            {"call_id": o.call_id, "method": o.method, "messages": o.messages,
             "final_codes": list(o.final_codes)}
            for o in report.other_dialogs
        ],
        "notes": list(report.notes),
    }


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _codec_name(pt: int, rtpmap: dict[int, tuple[str, int]]) -> str:
    if pt in rtpmap:
        return rtpmap[pt][0]
    if pt in STATIC_PAYLOAD_TYPES:
        return STATIC_PAYLOAD_TYPES[pt][0]
    return f"PT{pt}"


def build_report(
    capture: str,
    table: FieldTable,
    calls: list[CallSummary],
    other: list[OtherDialog],
    unreadable: int = 0,
) -> AnalysisReport:
    """Streams of ``table`` analysed with the SDP knowledge of ``calls``."""
    global_map: dict[int, tuple[str, int]] = {}
    for call in calls:
        for pt, name, clock in call.rtpmap:
            global_map.setdefault(pt, (name, clock))
    by_endpoint: dict[tuple[str, int], CallSummary] = {}
    for call in calls:
        for ep in call.media_endpoints:
            by_endpoint[ep] = call  # the latest call using an address wins

    streams: list[StreamReport] = []
    if len(table.rtp_frame):
        names = sorted(set(table.rtp_src) | set(table.rtp_dst))
        index = {name: i for i, name in enumerate(names)}
        src_id = np.array([index[s] for s in table.rtp_src], dtype=np.int64)
        dst_id = np.array([index[d] for d in table.rtp_dst], dtype=np.int64)
        groups = group_streams(src_id, table.rtp_sport, dst_id, table.rtp_dport, table.rtp_ssrc)
        for rows in groups:
            streams.append(_stream(table, rows, by_endpoint, global_map))
    notes = []
    if table.malformed:
        notes.append(f"{table.malformed} malformed packet(s), frames "
                     + ", ".join(str(f) for f in table.malformed_frames[:10])
                     + (" ..." if table.malformed > 10 else ""))
    if not calls and not streams:
        notes.append("no SIP or H.225 call and no RTP stream found")
    return AnalysisReport(capture, calls, other, streams, table.malformed, unreadable, notes)


def _stream(
    table: FieldTable,
    rows: np.ndarray[Any, np.dtype[np.intp]],
    by_endpoint: dict[tuple[str, int], CallSummary],
    global_map: dict[int, tuple[str, int]],
) -> StreamReport:
    first = int(rows[0])
    src_ip, dst_ip = table.rtp_src[first], table.rtp_dst[first]
    sport, dport = int(table.rtp_sport[first]), int(table.rtp_dport[first])
    call = by_endpoint.get((dst_ip, dport)) or by_endpoint.get((src_ip, sport))
    rtpmap = dict(global_map)
    if call is not None:
        rtpmap.update({pt: (name, clock) for pt, name, clock in call.rtpmap})
    cols = RtpColumns(
        table.rtp_time[rows],
        table.rtp_seq[rows],
        table.rtp_timestamp[rows],
        table.rtp_pt[rows],
        table.rtp_marker[rows],
    )
    events = table.rtp_event[rows]
    event_pts = {int(p) for p in np.unique(cols.payload_type[events >= 0])}
    event_pts |= {pt for pt, (name, _) in rtpmap.items() if name.lower() == "telephone-event"}
    clocks: dict[int, int] = {}
    for seen in {int(p) for p in np.unique(cols.payload_type)}:
        if seen in event_pts:
            continue
        if seen in rtpmap and rtpmap[seen][1] > 0:
            clocks[seen] = rtpmap[seen][1]
        elif seen in STATIC_PAYLOAD_TYPES:
            clocks[seen] = STATIC_PAYLOAD_TYPES[seen][1]
        else:
            guess = estimate_clock_rate(cols.take(cols.payload_type == seen))
            if guess:
                clocks[seen] = guess
    stats = analyse_stream(cols, clocks, frozenset(event_pts))
    pt = stats.audio_payload_type
    if pt is None:
        pts = [p for p in stats.payload_types if p not in event_pts]
        pt = pts[0] if pts else (stats.payload_types[0] if stats.payload_types else None)
    codec = _codec_name(pt, rtpmap) if pt is not None else "?"
    mos = None
    if stats.audio_payload_type is not None:
        ptime = min(60.0, max(10.0, stats.mean_delta_ms or 20.0))
        mos = estimate_mos(
            codec, stats.loss_fraction, 0.0, max(40.0, 2.0 * stats.max_jitter_ms), ptime
        )
    ev_mask = events >= 0
    digits = event_digits(events[ev_mask], cols.timestamp[ev_mask]) if ev_mask.any() else ""
    return StreamReport(
        ssrc=int(table.rtp_ssrc[first]),
        src=_endpoint(src_ip, sport),
        dst=_endpoint(dst_ip, dport),
        payload_type=pt,
        codec=codec,
        clock_rate=stats.clock_rate,
        stats=stats,
        mos=mos,
        dtmf=digits,
        call_id=call.call_id if call is not None else None,
    )


def analyse_capture(
    capture: Path, sip_ports: Sequence[int] = (), heuristic_rtp: bool = True
) -> AnalysisReport:
    """The whole analysis of one capture file."""
    if not capture.exists():
        raise CaptureError(f"{capture}: no such file")
    if not capture.is_file():
        raise CaptureError(f"{capture} is not a file")
    table = read_fields(capture, sip_ports, heuristic_rtp)
    signaling = read_signaling(capture, table, tshark_options(sip_ports, heuristic_rtp))
    calls = sip_calls(signaling.sip) + h225_calls(signaling.h225)
    calls.sort(key=lambda c: c.start_s)
    return build_report(
        str(capture), table, calls, sip_other_dialogs(signaling.sip), signaling.unreadable
    )
