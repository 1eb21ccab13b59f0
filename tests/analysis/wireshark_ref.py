"""Wireshark's own RTP stream table (``tshark -q -z rtp,streams``): the independent reference the
analysis is checked against, run here separately from the analysis."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from gateway.analysis.report import AnalysisReport, analyse_capture
from gateway.analysis.tshark_streams import TsharkStream, parse_rtp_streams

__all__ = ["assert_streams_match", "endpoint", "wireshark_streams"]


def endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def wireshark_streams(
    capture: Path, heuristic: bool = True, extra: tuple[str, ...] = ()
) -> dict[tuple[str, str, int], TsharkStream]:
    """Rows keyed by ``(src "ip:port", dst "ip:port", ssrc)``; fails if tshark printed a stream
    row the parser did not read."""
    argv = ["tshark", "-n", "-q", "-r", str(capture)]
    if heuristic:
        argv += ["-o", "rtp.heuristic_rtp:TRUE"]
    argv += [*extra, "-z", "rtp,streams"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout
    rows = parse_rtp_streams(out)
    printed = [ln for ln in out.splitlines() if " 0x" in ln]
    assert len(rows) == len(printed), f"unparsed tshark rows: {printed}"
    return {
        (endpoint(s.src_ip, s.src_port), endpoint(s.dst_ip, s.dst_port), s.ssrc): s for s in rows
    }


def assert_streams_match(capture: Path) -> AnalysisReport:
    """The analysis of ``capture`` has tshark's streams with its packets, losses, problem flags
    and max delta, and on streams without telephone events its mean and max jitter within
    0.1 ms (ours is over audio packets only, see docs/analyze.md)."""
    reference = wireshark_streams(capture)
    report = analyse_capture(capture)
    ours = {(s.src, s.dst, s.ssrc): s for s in report.streams}
    assert set(ours) == set(reference), "not the same streams as tshark"
    for key, ws in reference.items():
        s = ours[key]
        assert (s.stats.packets, s.stats.lost) == (ws.packets, ws.lost), key
        assert s.stats.has_problem == ws.problem, key
        assert s.stats.max_delta_ms == pytest.approx(ws.max_delta_ms, abs=0.01), key
        if "telephone-event" not in ws.payload and "rtpevent" not in ws.payload:
            assert s.stats.mean_jitter_ms == pytest.approx(ws.mean_jitter_ms, abs=0.1), key
            assert s.stats.max_jitter_ms == pytest.approx(ws.max_jitter_ms, abs=0.1), key
    return report
