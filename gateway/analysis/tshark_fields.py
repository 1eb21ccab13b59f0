"""Pass 1 of ``crcgw analyze``: one ``tshark -T fields`` run over the whole capture.

This is the bulk extraction that keeps the analysis fast: tshark dissects every packet once and
prints one tab-separated line per RTP, SIP, Q.931/H.225 or malformed packet, with only the fields
the statistics need. The RTP columns go to :mod:`media.rtpstats` as numpy arrays; the frame numbers
of the signalling packets (and of the TCP segments they were reassembled from) select the small
sub-capture that :mod:`gateway.analysis.signaling_capture` then reads with pyshark.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from gateway.analysis.errors import CaptureError

__all__ = ["FIELDS", "FieldTable", "read_fields", "tshark_options"]

log = logging.getLogger(__name__)

FIELDS: tuple[str, ...] = (
    "frame.number",
    "frame.time_relative",
    "ip.src",
    "ipv6.src",
    "ip.dst",
    "ipv6.dst",
    "udp.srcport",
    "udp.dstport",
    "rtp.ssrc",
    "rtp.seq",
    "rtp.timestamp",
    "rtp.p_type",
    "rtp.marker",
    "rtpevent.event_id",
    "sip.CSeq",
    "q931.message_type",
    "tcp.segment",
    "_ws.malformed",
)

_DISPLAY_FILTER = "(rtp && !icmp && !icmpv6) || sip || q931 || _ws.malformed"


def tshark_options(sip_ports: Sequence[int] = (), heuristic_rtp: bool = True) -> list[str]:
    """Dissector options shared by both passes (``-o``/``-d``)."""
    opts: list[str] = []
    if heuristic_rtp:
        opts += ["-o", "rtp.heuristic_rtp:TRUE"]
    for port in sip_ports:
        if not 0 < port < 65536:
            raise CaptureError(f"--sip-port {port} is not a port number")
        opts += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    return opts


@dataclass(frozen=True)
class FieldTable:
    """Pass-1 rows. RTP columns hold the RTP packets only (malformed ones excluded)."""

    rtp_frame: npt.NDArray[np.int64]
    rtp_time: npt.NDArray[np.float64]
    rtp_src: list[str]
    rtp_dst: list[str]
    rtp_sport: npt.NDArray[np.int64]
    rtp_dport: npt.NDArray[np.int64]
    rtp_ssrc: npt.NDArray[np.int64]
    rtp_seq: npt.NDArray[np.int64]
    rtp_timestamp: npt.NDArray[np.int64]
    rtp_pt: npt.NDArray[np.int64]
    rtp_marker: npt.NDArray[np.bool_]
    rtp_event: npt.NDArray[np.int64]
    signaling_frames: list[int]
    """Frames holding SIP or Q.931, in order, each followed by nothing else."""
    segment_frames: list[int]
    """Frames to keep so that TCP reassembly of the signalling works again (includes the above)."""
    frame_times: dict[int, float]
    """Relative time of every signalling frame (seconds since the first packet of the capture)."""
    malformed: int
    malformed_frames: list[int]


def _ints(column: Sequence[str], default: int = -1) -> npt.NDArray[np.int64]:
    return np.array([int(v, 0) if v else default for v in column], dtype=np.int64)


def _first(value: str) -> str:
    return value.split(",", 1)[0]


def parse_fields(text: str) -> FieldTable:
    """Parse tshark's ``-T fields`` output (columns as :data:`FIELDS`)."""
    width = len(FIELDS)
    rtp_rows: list[list[str]] = []
    signaling: list[int] = []
    segments: set[int] = set()
    times: dict[int, float] = {}
    malformed_frames: list[int] = []
    for line in text.splitlines():
        cols = line.split("\t")
        if len(cols) < width:
            cols += [""] * (width - len(cols))
        frame = int(cols[0])
        if cols[17]:
            malformed_frames.append(frame)
        if cols[14] or cols[15]:
            signaling.append(frame)
            segments.add(frame)
            times[frame] = float(cols[1])
            if cols[16]:
                segments.update(int(s) for s in cols[16].split(",") if s)
            continue
        if cols[8] and not cols[17]:
            rtp_rows.append(cols)
    if rtp_rows:
        c = list(zip(*rtp_rows, strict=True))
        src = [a or b for a, b in zip(c[2], c[3], strict=True)]
        dst = [a or b for a, b in zip(c[4], c[5], strict=True)]
        table_cols = (
            _ints(c[0]),
            np.array(c[1], dtype=np.float64),
            [_first(s) for s in src],
            [_first(d) for d in dst],
            _ints([_first(v) for v in c[6]]),
            _ints([_first(v) for v in c[7]]),
            _ints(c[8]),
            _ints(c[9]),
            _ints(c[10]),
            _ints(c[11]),
            np.array([v in ("1", "True") for v in c[12]], dtype=np.bool_),
            _ints([_first(v) for v in c[13]]),
        )
    else:
        empty = np.zeros(0, dtype=np.int64)
        table_cols = (
            empty, np.zeros(0, dtype=np.float64), [], [], empty, empty, empty, empty, empty,
            empty, np.zeros(0, dtype=np.bool_), empty,
        )
    return FieldTable(
        *table_cols,
        signaling_frames=signaling,
        segment_frames=sorted(segments),
        frame_times=times,
        malformed=len(malformed_frames),
        malformed_frames=malformed_frames,
    )


def tshark_binary() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise CaptureError("tshark is not installed (Debian package 'tshark')")
    return path


def read_fields(
    capture: Path,
    sip_ports: Sequence[int] = (),
    heuristic_rtp: bool = True,
    timeout_s: float = 600.0,
) -> FieldTable:
    """Run pass 1 on ``capture`` and parse it."""
    argv = [
        tshark_binary(),
        "-n",
        "-r",
        str(capture),
        *tshark_options(sip_ports, heuristic_rtp),
        "-Y",
        _DISPLAY_FILTER,
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=,",
    ]
    for field in FIELDS:
        argv += ["-e", field]
    log.debug("pass 1: %s", " ".join(argv))
    try:
        proc = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, errors="replace", check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise CaptureError(f"tshark took longer than {timeout_s:.0f} s on {capture}") from exc
    if proc.returncode != 0:
        if "cut short" in proc.stderr and proc.stdout:
            # A capture whose last packet is incomplete (tshark stopped while writing): keep
            # what was read, the analysis says the file is truncated.
            log.warning("%s", _tshark_error(proc.stderr, capture))
            table = parse_fields(proc.stdout)
            return table
        raise CaptureError(_tshark_error(proc.stderr, capture))
    return parse_fields(proc.stdout)


def _tshark_error(stderr: str, capture: Path) -> str:
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and "Running as user" not in ln and "dangerous" not in ln
    ]
    detail = lines[0] if lines else "tshark failed"
    if "isn't a capture file" in stderr or "unknown file format" in stderr.lower():
        return f"{capture} is not a capture file (pcap or pcapng)"
    if "appears to have been cut short" in stderr:
        return f"{capture} is truncated: {detail}"
    return f"cannot read {capture}: {detail}"
