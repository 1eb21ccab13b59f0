"""``analyse_capture``: one capture file in, calls and RTP streams out, with one tshark run.

Order of work, chosen for the fixed costs of small captures: the container is checked (and
converted by ``editcap`` when the scan cannot read it, :mod:`gateway.analysis.containers`); on a
small capture (up to 16 MB) tshark starts at once on the whole file, before numpy is even
imported, so its start-up overlaps ours; on a large one the header scan runs first and tshark
reads a sub-capture of the signalling and the first packets of every candidate flow. While
tshark runs, the SIP datagrams are read and every candidate flow's statistics computed; then
tshark's stream table names the RTP flows, and its JSON gives the signalling only it can read.

Flows tshark saw in full (all of them when it read the whole file) are counted as tshark counts
them: when its packet count differs from the header scan's (a flow that becomes T.38 or another
non-RTP protocol after a re-INVITE), the flow is cut to tshark's first and last RTP packet; if
the counts still differ, or the scan could not read the flow at all (frames it cannot decode),
tshark's own figures are reported and a note says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.analysis.containers import readable_capture
from gateway.analysis.errors import CaptureError
from gateway.analysis.quickcheck import may_need_printing
from gateway.analysis.tshark_streams import (
    SIGNALING_NOT_READ_DIRECTLY,
    TsharkPass,
    TsharkResult,
    TsharkStream,
    tshark_options,
)

if TYPE_CHECKING:
    from gateway.analysis.pcapscan import PacketColumns
    from gateway.analysis.report import AnalysisReport, StreamAnalyser, StreamReport
    from signaling.ladder import CallSummary, OtherDialog
    from signaling.sipmsg import SipMessage

__all__ = ["WhileTsharkRuns", "analyse_capture"]

WhileTsharkRuns = Callable[[Sequence["CallSummary"], Sequence["StreamReport"]], object]

# tshark starts on the whole file at once up to this size (its run then costs about its start-up),
# printing the signalling the scan does not read (a protocol tree for every packet) unless a
# quick look in Python finds nothing to print (:mod:`gateway.analysis.quickcheck`)
_EARLY_BYTES = 6_000_000
# ... and up to this size without printing: started again, printing, if the scan finds such
# signalling (SIP over TCP...); above it, the scan comes first and tshark may read a sub-capture
_EARLY_QUIET_BYTES = 16_000_000
# below this share of the capture's frames, tshark reads a sub-capture instead of the file
_SUBSET_SHARE = 0.4
_FAX_SDP = rb"m=image \d+ "


class Scratch:
    """The analysis' temporary folder, made on first use (``scratch / name``): most runs write
    nothing, and the modules that make and remove folders are then not even imported before
    tshark starts."""

    def __init__(self) -> None:
        self._path: Path | None = None

    def __truediv__(self, name: str) -> Path:
        if self._path is None:
            import tempfile

            self._path = Path(tempfile.mkdtemp(prefix="crcgw-analyze-"))
        return self._path / name

    def remove(self) -> None:
        if self._path is not None:
            import shutil

            shutil.rmtree(self._path, ignore_errors=True)
            self._path = None


def analyse_capture(
    capture: Path,
    sip_ports: Sequence[int] = (),
    heuristic_rtp: bool = True,
    full_dissection: bool = False,
    while_tshark_runs: WhileTsharkRuns | None = None,
) -> AnalysisReport:
    """The whole analysis of one capture file.

    ``while_tshark_runs`` is called once our own work is done and tshark is still running, with
    the calls and the stream reports made so far (the command line imports its output modules
    and encodes their JSON there; the report holds the same objects unless tshark's output
    changed them).

    With ``full_dissection`` tshark dissects the whole capture even when it is large, so that
    malformed packets of every protocol, background traffic included, are counted.
    """
    if not capture.exists():
        raise CaptureError(f"{capture}: no such file")
    if not capture.is_file():
        raise CaptureError(f"{capture} is not a file")
    options = tshark_options(sip_ports, heuristic_rtp)
    tmp = Scratch()
    try:
        readable = readable_capture(capture, tmp)
        source = readable.scan
        early = None
        size = source.stat().st_size
        judged = source if readable.exact else capture
        if full_dissection or not readable.exact or (
                size <= _EARLY_BYTES and may_need_printing(judged)):
            early = TsharkPass(judged, options, SIGNALING_NOT_READ_DIRECTLY, full_dissection)
        elif size <= _EARLY_QUIET_BYTES:  # printing nothing until the scan says it must
            early = TsharkPass(judged, options, None, full_dissection)
        else:  # loading its dissectors while the scan decides what it will read
            early = TsharkPass(None, options, SIGNALING_NOT_READ_DIRECTLY, full_dissection)
        try:
            return _analyse(capture, source, tmp, options, sip_ports, early,
                            full_dissection, while_tshark_runs)
        finally:
            if early is not None:
                early.stop()
    finally:
        tmp.remove()


def _analyse(
    capture: Path,
    source: Path,
    tmp: Scratch,
    options: list[str],
    sip_ports: Sequence[int],
    early: TsharkPass | None,
    full_dissection: bool,
    while_tshark_runs: WhileTsharkRuns | None,
) -> AnalysisReport:
    from gateway.analysis.pcapscan import scan_capture, write_subset
    from gateway.analysis.report import StreamAnalyser, build_report
    from gateway.analysis.select import rtp_candidates, rtp_samples, signaling_frames
    from gateway.analysis.signaling_capture import read_sip_datagrams, read_tshark_signaling
    from signaling.ladder import h225_calls, sip_calls

    cols = scan_capture(source)
    where = signaling_frames(cols, sip_ports)
    table = rtp_candidates(cols)
    # printing makes tshark build every packet's tree (twice its CPU time): only when needed
    print_filter: str | None = None
    tcp_sip: list[SipMessage] = []  # SIP over plain TCP reassembled here, tshark not printing
    to_confirm: list[SipMessage] | None = None  # ... on other ports, if tshark calls it SIP
    if not where.fast_path:
        print_filter = "sip || q931"
    elif where.reassembly:
        from gateway.analysis.sip_tcp import on_sip_ports, read_sip_tcp

        read = read_sip_tcp(cols, where.reassembly)
        if read is None:
            print_filter = SIGNALING_NOT_READ_DIRECTLY
        elif on_sip_ports(cols, where.reassembly, sip_ports):
            tcp_sip = read
        else:
            # SIP-looking TCP on another port: tshark's port table and heuristics decide
            # whether it is SIP; its count of SIP messages will say (see below)
            to_confirm = read
    frame_map: list[int] | None = None
    whole_flows: set[int] = set(range(len(table.flows)))
    tpass = early
    if tpass is not None and not tpass.waiting_for_input and (
            not where.fast_path or (print_filter and not tpass.printing)):
        # frames the scan cannot decode (tshark must print every SIP message), or signalling
        # only tshark reads while it was started without printing: start it again
        tpass.stop()
        tpass = TsharkPass(tpass.capture, options, print_filter, full_dissection)
    if tpass is None or tpass.waiting_for_input:
        judged = source
        signalling = set(where.datagrams) | set(where.reassembly) | set(where.text)
        frames, whole_flows = _judged_frames(cols, table, signalling, rtp_samples(table))
        if not full_dissection and len(frames) < _SUBSET_SHARE * cols.frames:
            judged = tmp / "judged.pcapng"
            write_subset(cols, frames, judged)
            frame_map = frames
        else:
            whole_flows = set(range(len(table.flows)))
        if tpass is not None and frame_map is not None and where.fast_path:
            tpass.feed(judged)  # it prints what the scan does not read (a small sub-capture)
        else:
            if tpass is not None:
                tpass.stop()
            tpass = TsharkPass(judged, options, print_filter, full_dissection)
    try:
        datagrams = read_sip_datagrams(cols, where.datagrams)
        sip = datagrams.sip
        if tcp_sip:
            sip = sorted(sip + tcp_sip, key=lambda m: (m.time_s, m.frame))
        calls = sip_calls(sip)
        other = _other_dialogs(sip, calls)
        analyser = StreamAnalyser(table, calls)
        analyser.precompute()
        if while_tshark_runs is not None:
            while_tshark_runs(calls, analyser.reports())
        result = tpass.result()
    finally:
        tpass.stop()
    read_here = set(where.datagrams)
    confirmed: list[SipMessage] = []
    if to_confirm is not None and not tpass.printing:
        confirmed, result = _confirm_tcp_sip(
            to_confirm, len(datagrams.sip), result,
            lambda: TsharkPass(tpass.capture, options, SIGNALING_NOT_READ_DIRECTLY,
                               full_dissection),
        )
    elif print_filter is None and to_confirm is None:
        read_here.update(where.reassembly)  # a printing run started early prints them again
    printed = read_tshark_signaling(result.packets, cols, frame_map, frozenset(read_here))
    if printed.sip or printed.h225 or confirmed:
        sip = sorted(sip + printed.sip + confirmed, key=lambda m: (m.time_s, m.frame))
        calls = sip_calls(sip) + h225_calls(printed.h225)
        calls.sort(key=lambda c: c.start_s)
        analyser.set_calls(calls)
        other = _other_dialogs(sip, calls)

    notes = []
    if cols.truncated_file:
        notes.append("the capture file ends in the middle of a packet (cut short)")
    if cols.undecoded.any():
        kinds = ", ".join(str(k) for k in cols.unsupported_link_types)
        what = f"link type {kinds}" if kinds else "an encapsulation the header scan does not read"
        notes.append(f"{int(cols.undecoded.sum())} frames with {what} were read by tshark only")
    first_time = float(cols.time_s[frame_map[0] - 1]) if frame_map else 0.0
    selected, fallback = _select_streams(analyser, result.streams, whole_flows, first_time,
                                         notes)
    malformed = result.malformed + _malformed_in(analyser, selected)
    report = build_report(
        str(capture), analyser, selected, calls, other, malformed,
        datagrams.unreadable + printed.unreadable, notes,
    )
    if fallback:
        from gateway.analysis.report import tshark_stream_report

        extra = [tshark_stream_report(ws, calls) for ws in fallback]
        streams: list[StreamReport] = sorted([*report.streams, *extra],
                                             key=lambda s: (s.first_frame, s.src))
        report = build_report(str(capture), analyser, [], calls, report.other_dialogs,
                              malformed, report.unreadable_signaling, notes, streams)
    return report


def _confirm_tcp_sip(
    ours: list[SipMessage], datagrams: int, result: TsharkResult,
    printing_pass: Callable[[], TsharkPass],
) -> tuple[list[SipMessage], TsharkResult]:
    """SIP over TCP on a port tshark may not call SIP, reassembled here: kept when tshark's count
    of SIP messages is the datagrams' and these (tshark decoded them: 5080 by its heuristics),
    dropped when it is the datagrams' alone (6060 is X11 for tshark); otherwise tshark prints
    the signalling after all, and its printed frames replace the quiet run's (none)."""
    if result.sip_messages == datagrams + len(ours):
        return ours, result
    if result.sip_messages == datagrams:
        return [], result
    again = printing_pass()
    try:
        printed = again.result()
    finally:
        again.stop()
    return [], result._replace(packets=printed.packets)


def _other_dialogs(sip: Sequence[SipMessage], calls: Sequence[CallSummary]) -> list[OtherDialog]:
    """The SIP dialogs that are not calls, grouped among the messages of no call's Call-ID
    (the calls' messages need not be grouped again)."""
    from signaling.ladder import sip_other_dialogs

    in_calls = {c.call_id for c in calls if c.protocol == "SIP"}
    return sip_other_dialogs([m for m in sip if m.call_id not in in_calls])


def _judged_frames(
    cols: PacketColumns, table: object, signalling: set[int], samples: list[int]
) -> tuple[list[int], set[int]]:
    """The frames tshark reads when it does not read the whole file, and the flows it then sees
    whole: those alive when an SDP offers a fax (``m=image``), so a switch from RTP to T.38 is
    seen as tshark sees it."""
    import numpy as np

    from gateway.analysis.select import RtpTable

    assert isinstance(table, RtpTable)
    fax_times = [float(cols.time_s[f - 1]) for f in sorted(signalling)
                 if re.search(_FAX_SDP, cols.payload_bytes(f - 1))]
    whole: set[int] = set()
    frames = signalling | set(samples)
    if fax_times and len(table.frame):
        times = np.asarray(fax_times)
        for flow, rows in enumerate(table.rows_by_flow()):
            if not len(rows):
                continue
            t0, t1 = table.time[rows[0]], table.time[rows[-1]]
            if ((times >= t0) & (times <= t1)).any():
                whole.add(flow)
                frames.update(table.frame[rows].tolist())
    return sorted(frames), whole


def _select_streams(
    analyser: StreamAnalyser,
    streams: Sequence[TsharkStream],
    whole_flows: set[int],
    first_time: float,
    notes: list[str],
) -> tuple[list[tuple[int, str]], list[TsharkStream]]:
    """Our flow for each of tshark's streams (cut to tshark's packets where it saw the flow
    whole and counted fewer), and the streams only tshark's figures describe."""
    from gateway.analysis.select import FlowKey

    table = analyser.table
    index = {key: i for i, key in enumerate(table.flows)}
    selected: list[tuple[int, str]] = []
    fallback: list[TsharkStream] = []
    for ws in streams:
        flow = index.get(FlowKey(ws.src_ip, ws.src_port, ws.dst_ip, ws.dst_port, ws.ssrc))
        if flow is None:
            fallback.append(ws)
            notes.append(f"stream 0x{ws.ssrc:08x} from {ws.src_ip}:{ws.src_port}: figures from "
                         "tshark (the header scan cannot read its packets)")
            continue
        rows = analyser.rows[flow]
        if flow in whole_flows and len(rows) != ws.packets:
            t = table.time[rows] - first_time
            inside = rows[(t >= ws.start_s - 5e-7) & (t <= ws.end_s + 5e-7)]
            if len(inside) == ws.packets:
                analyser.restrict(flow, inside)
                notes.append(f"stream 0x{ws.ssrc:08x} from {ws.src_ip}:{ws.src_port}: "
                             f"{len(rows) - len(inside)} packets on its ports are not RTP for "
                             "tshark (another protocol after a re-INVITE)")
            else:
                fallback.append(ws)
                notes.append(f"stream 0x{ws.ssrc:08x} from {ws.src_ip}:{ws.src_port}: figures "
                             "from tshark (it decodes only part of the flow's packets as RTP)")
                continue
        selected.append((flow, ws.payload))
    return selected, fallback


def _malformed_in(analyser: StreamAnalyser, selected: Sequence[tuple[int, str]]) -> int:
    """RTP packets with an inconsistent header on the transport addresses of the streams."""
    table = analyser.table
    ends = {(f.src_ip, f.src_port, f.dst_ip, f.dst_port)
            for f in (table.flows[i] for i, _ in selected)}
    return sum(n for key, n in table.malformed_by_path.items() if key in ends)
