"""Wireshark's own RTP stream table (``tshark -q -z rtp,streams``): the independent reference the
analysis is checked against, run here separately from the analysis."""

from __future__ import annotations

import subprocess
from pathlib import Path

from gateway.analysis.tshark_streams import TsharkStream, parse_rtp_streams

__all__ = ["endpoint", "wireshark_streams"]


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
