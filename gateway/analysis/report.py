"""``crcgw analyze``: compose the capture passes into calls, RTP streams and their quality.

1. :mod:`gateway.analysis.tshark_streams` starts one tshark pass in the background: tshark
   decides which flows are RTP (SDP, H.245, heuristic), counts malformed packets and, only when
   some signalling needs its reassembly or decoding, prints those frames as JSON;
2. meanwhile :mod:`gateway.analysis.pcapscan` reads every packet header with numpy, and
   :mod:`gateway.analysis.signaling_capture` parses SIP datagrams directly and the rest from
   tshark's JSON (no pyshark: it cost about 1 ms a packet);
3. :mod:`gateway.analysis.select` takes the RTP packets of tshark's streams out of the scan;
   :mod:`signaling.ladder` makes calls of the messages, :mod:`media.rtpstats` the stream
   statistics, :mod:`media.quality` the MOS.

RTP streams are tied to a call when one of their ends is a media address of the call's SDP; the
codec and the clock rate of a dynamic payload type come from that SDP (else from any SDP of the
capture, the static table, or the timestamps themselves).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gateway.analysis.select import RtpTable
from gateway.analysis.tshark_streams import TsharkStream
from media.quality import estimate_mos
from media.rtpstats import (
    STATIC_PAYLOAD_TYPES,
    RtpColumns,
    RtpStreamStats,
    analyse_streams,
    estimate_clock_rate,
    event_digits,
)
from signaling.ladder import CallSummary, OtherDialog

__all__ = [
    "AnalysisReport",
    "StreamAnalyser",
    "StreamReport",
    "analyse_capture",
    "build_report",
    "call_json",
    "report_json",
    "tshark_stream_report",
]

# tshark decodes this payload type as RFC 4733 events when no SDP says otherwise (rtpevent pref)
_DEFAULT_EVENT_PT = 101
# UDP ports of protocols that are never media: no need to analyse their flows in advance
_NOT_MEDIA_PORTS = frozenset({53, 67, 68, 123, 137, 138, 161, 162, 514, 1719, 1900, 3478, 5060,
                              5061, 5353})

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
    first_frame: int = 0

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


def rtp_digits_by_call(streams: Sequence[StreamReport]) -> dict[str | None, str]:
    """The RFC 4733 digits of each call's streams (in stream order), by Call-ID."""
    out: dict[str | None, str] = {}
    for s in streams:
        if s.dtmf:
            out[s.call_id] = out.get(s.call_id, "") + s.dtmf
    return out


def call_json(call: CallSummary, digits_rtp: str) -> dict[str, Any]:
    """One call of the ``--json`` object (``digits_rtp``: its streams' RFC 4733 digits)."""
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
    digits = rtp_digits_by_call(report.streams)
    return {
        "capture": report.capture,
        "calls": [call_json(c, digits.get(c.call_id, "")) for c in report.calls],
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


def _names_events(tshark_payload: str) -> bool:
    """Whether tshark's payload names of a stream include RFC 4733 events: "telephone-event"
    when an SDP names them, "rtpevent" when its preference (payload type 101) decodes them."""
    return "telephone-event" in tshark_payload or "rtpevent" in tshark_payload


def _codec_name(pt: int, rtpmap: dict[int, tuple[str, int]]) -> str:
    if pt in rtpmap:
        return rtpmap[pt][0]
    if pt in STATIC_PAYLOAD_TYPES:
        return STATIC_PAYLOAD_TYPES[pt][0]
    return f"PT{pt}"


@dataclass(frozen=True)
class _FlowContext:
    """What the signalling says about a flow: its call, payload type names and clock rates."""

    call: CallSummary | None
    rtpmap: dict[int, tuple[str, int]]
    event_pts: frozenset[int]
    clocks: dict[int, int]


class StreamAnalyser:
    """Per-flow statistics with the SDP knowledge of the calls (codec names, clock rates,
    telephone-event payload types). Flows are analysed in batches (:meth:`analyse`), results
    are kept per flow."""

    def __init__(self, table: RtpTable, calls: Sequence[CallSummary]) -> None:
        self.table = table
        self.rows = table.rows_by_flow()
        self._done: dict[int, tuple[_FlowContext, StreamReport]] = {}
        self._keys: dict[int, tuple[int, bool]] = {}
        self._version = 0
        self._mos_memo: dict[tuple[str, float, float, float], float] = {}
        self.set_calls(calls)

    def set_calls(self, calls: Sequence[CallSummary]) -> None:
        """The calls whose SDP names codecs and clock rates (flows whose context changes are
        analysed again)."""
        self._version += 1
        # per call (by identity; None: no call): its payload type map and event types
        self._maps: dict[int, tuple[dict[int, tuple[str, int]], frozenset[int]]] = {}
        self._calls = list(calls)  # keeps the calls (and so their identities) alive
        self.global_map: dict[int, tuple[str, int]] = {}
        self.by_endpoint: dict[tuple[str, int], CallSummary] = {}
        for call in calls:
            for pt, name, clock in call.rtpmap:
                self.global_map.setdefault(pt, (name, clock))
            for ep in call.media_endpoints:
                self.by_endpoint[ep] = call  # the latest call using an address wins

    def restrict(self, flow: int, rows: np.ndarray[Any, np.dtype[np.intp]]) -> None:
        """Analyse only these rows of ``flow`` (the packets tshark decodes as RTP)."""
        self.rows[flow] = rows
        self._done.pop(flow, None)
        self._keys.pop(flow, None)

    def _context(self, flow: int, tshark_payload: str) -> _FlowContext:
        ident = self.table.flows[flow]
        call = self.by_endpoint.get((ident.dst_ip, ident.dst_port)) or self.by_endpoint.get(
            (ident.src_ip, ident.src_port)
        )
        cached = self._maps.get(id(call))
        if cached is None:
            rtpmap = dict(self.global_map)
            if call is not None:
                rtpmap.update({pt: (name, clock) for pt, name, clock in call.rtpmap})
            cached = self._maps[id(call)] = (rtpmap, frozenset(
                pt for pt, (name, _) in rtpmap.items() if name.lower() == "telephone-event"))
        rtpmap, known_events = cached
        events = set(known_events)
        if not rtpmap and _names_events(tshark_payload):
            events.add(_DEFAULT_EVENT_PT)
        rows = self.rows[flow]
        clocks: dict[int, int] = {}
        for seen in sorted(set(self.table.pt[rows].tolist())):
            if seen in events:
                continue
            if seen in rtpmap and rtpmap[seen][1] > 0:
                clocks[seen] = rtpmap[seen][1]
            elif seen in STATIC_PAYLOAD_TYPES:
                clocks[seen] = STATIC_PAYLOAD_TYPES[seen][1]
            else:
                mine = rows[self.table.pt[rows] == seen]
                guess = estimate_clock_rate(self._columns(mine))
                if guess:
                    clocks[seen] = guess
        return _FlowContext(call, rtpmap, frozenset(events), clocks)

    def _columns(self, rows: np.ndarray[Any, np.dtype[np.intp]]) -> RtpColumns:
        t = self.table
        return RtpColumns(t.time[rows], t.seq[rows], t.timestamp[rows], t.pt[rows], t.marker[rows])

    def analyse(self, flows: Sequence[tuple[int, str]]) -> None:
        """Analyse ``(flow, tshark payload names)`` pairs not analysed yet, all in one batch."""
        todo: list[tuple[int, _FlowContext]] = []
        for flow, names in flows:
            # the context depends on the calls and (without SDP) on tshark's payload names
            key = (self._version, _names_events(names))
            done = self._done.get(flow)
            if done is not None and self._keys.get(flow) == key:
                continue
            ctx = self._context(flow, names)
            self._keys[flow] = key
            if done is None or done[0] != ctx:
                todo.append((flow, ctx))
        if not todo:
            return
        rows = [self.rows[flow] for flow, _ in todo]
        lengths = np.array([len(r) for r in rows], dtype=np.int64)
        joined = np.concatenate(rows)
        rate_table = np.zeros((len(todo), 128), dtype=np.float64)
        for i, (_, ctx) in enumerate(todo):
            for pt, rate in ctx.clocks.items():
                rate_table[i, pt & 0x7F] = rate
        owner = np.repeat(np.arange(len(todo)), lengths)
        clock = rate_table[owner, self.table.pt[joined] & 0x7F]
        all_stats = analyse_streams(self._columns(joined), lengths, clock)
        for (flow, ctx), flow_rows, stats in zip(todo, rows, all_stats, strict=True):
            self._done[flow] = (ctx, self._finish(flow, flow_rows, ctx, stats))

    def report(self, flow: int, tshark_payload: str = "") -> StreamReport:
        """The flow's report, analysed now unless :meth:`analyse` just did it."""
        done = self._done.get(flow)
        if done is None:
            self.analyse([(flow, tshark_payload)])
            done = self._done[flow]
        return done[1]

    def reports(self) -> list[StreamReport]:
        """The reports made so far."""
        return [done[1] for done in self._done.values()]

    def precompute(self) -> None:
        """Analyse the flows that look like media before tshark has said which are RTP."""
        self.analyse([
            (flow, "")
            for flow, rows in enumerate(self.rows)
            if len(rows) >= 2
            and not ({self.table.flows[flow].src_port, self.table.flows[flow].dst_port}
                     & _NOT_MEDIA_PORTS)
        ])

    def _mos(self, codec: str, loss: float, jitter_buffer_ms: float, ptime_ms: float) -> float:
        """:func:`estimate_mos`, once per distinct set of inputs (the streams of many short
        calls share them)."""
        key = (codec, loss, jitter_buffer_ms, ptime_ms)
        mos = self._mos_memo.get(key)
        if mos is None:
            mos = self._mos_memo[key] = estimate_mos(codec, loss, 0.0, jitter_buffer_ms,
                                                     ptime_ms)
        return mos

    def _finish(
        self,
        flow: int,
        rows: np.ndarray[Any, np.dtype[np.intp]],
        ctx: _FlowContext,
        stats: RtpStreamStats,
    ) -> StreamReport:
        ident = self.table.flows[flow]
        pt = stats.audio_payload_type
        if pt is None:
            pts = [p for p in stats.payload_types if p not in ctx.event_pts]
            pt = pts[0] if pts else (stats.payload_types[0] if stats.payload_types else None)
        codec = _codec_name(pt, ctx.rtpmap) if pt is not None else "?"
        if pt in ctx.event_pts and pt not in ctx.rtpmap:
            codec = "telephone-event"  # no SDP: tshark's rtpevent payload type
        mos = None
        if stats.audio_payload_type is not None:
            ptime = min(60.0, max(10.0, stats.mean_delta_ms or 20.0))
            mos = self._mos(codec, stats.loss_fraction, max(40.0, 2.0 * stats.max_jitter_ms),
                            ptime)
        digits = ""
        if not ctx.event_pts.isdisjoint(stats.payload_types):
            first_byte = self.table.first_payload_byte[rows]
            pts = self.table.pt[rows]
            ev = first_byte >= 0
            ev &= np.logical_or.reduce([pts == e for e in ctx.event_pts])
            if ev.any():
                digits = event_digits(first_byte[ev], self.table.timestamp[rows][ev])
        return StreamReport(
            ssrc=ident.ssrc,
            src=_endpoint(ident.src_ip, ident.src_port),
            dst=_endpoint(ident.dst_ip, ident.dst_port),
            payload_type=pt,
            codec=codec,
            clock_rate=stats.clock_rate,
            stats=stats,
            mos=mos,
            dtmf=digits,
            call_id=ctx.call.call_id if ctx.call is not None else None,
            first_frame=int(self.table.frame[int(rows[0])]),
        )


def build_report(
    capture: str,
    analyser: StreamAnalyser,
    selected: Sequence[tuple[int, str]],
    calls: list[CallSummary],
    other: list[OtherDialog],
    malformed: int = 0,
    unreadable: int = 0,
    notes: Sequence[str] = (),
    streams: Sequence[StreamReport] | None = None,
) -> AnalysisReport:
    """The report of the flows in ``selected`` (``(flow, tshark payload names)``), or of the
    given ``streams``."""
    if streams is None:
        analyser.analyse(selected)
        streams = sorted((analyser._done[f][1] for f, _ in selected),
                         key=lambda s: s.first_frame)
    streams = list(streams)
    all_notes = list(notes)
    if not calls and not streams:
        all_notes.append("no SIP or H.225 call and no RTP stream found")
    return AnalysisReport(capture, calls, other, streams, malformed, unreadable, all_notes)


_TSHARK_CODECS = {"g711U": "PCMU", "g711A": "PCMA", "g722": "G722", "g729": "G729",
                  "g723": "G723", "GSM": "GSM"}


def tshark_stream_report(ws: TsharkStream, calls: Sequence[CallSummary]) -> StreamReport:
    """A stream described by tshark's own figures (packets the header scan cannot read)."""
    names = [n.strip() for n in ws.payload.split(",")]
    audio = next((n for n in names if n != "telephone-event"), names[0] if names else "?")
    codec = _TSHARK_CODECS.get(audio, audio)
    pt = next((p for p, (name, _) in STATIC_PAYLOAD_TYPES.items() if name == codec), None)
    stats = RtpStreamStats(
        packets=ws.packets, expected=ws.packets + ws.lost, lost=ws.lost,
        sequence_errors=int(ws.problem), duplicates=0, payload_types=() if pt is None else (pt,),
        audio_payload_type=pt, clock_rate=None, audio_packets=ws.packets,
        mean_jitter_ms=ws.mean_jitter_ms, max_jitter_ms=ws.max_jitter_ms, last_jitter_ms=0.0,
        max_delta_ms=ws.max_delta_ms, mean_delta_ms=0.0, duration_s=ws.end_s - ws.start_s,
        wrong_timestamps=0,
    )
    ends = {(ws.dst_ip, ws.dst_port), (ws.src_ip, ws.src_port)}
    call = next((c for c in calls if ends & set(c.media_endpoints)), None)
    mos = None
    if pt is not None and codec in ("PCMU", "PCMA", "G722", "G729"):
        mos = estimate_mos(codec, stats.loss_fraction, 0.0, max(40.0, 2.0 * ws.max_jitter_ms),
                           20.0)
    return StreamReport(
        ssrc=ws.ssrc, src=_endpoint(ws.src_ip, ws.src_port), dst=_endpoint(ws.dst_ip, ws.dst_port),
        payload_type=pt, codec=codec, clock_rate=None, stats=stats, mos=mos, dtmf="",
        call_id=call.call_id if call is not None else None, first_frame=1 << 62,
    )


from gateway.analysis.analyse import analyse_capture  # noqa: E402 - the entry point, re-exported
