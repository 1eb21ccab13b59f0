"""Wireshark's own RTP stream table (``tshark -q -z rtp,streams``), parsed: the independent
reference the analysis is checked against."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

__all__ = ["WiresharkStream", "wireshark_streams"]

_ROW = re.compile(
    r"^\s*(?P<start>[\d.]+)\s+(?P<end>[\d.]+)\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+"
    r"(?P<dport>\d+)\s+0x(?P<ssrc>[0-9A-Fa-f]+)\s+(?P<payload>.+?)\s+(?P<pkts>\d+)\s+"
    r"(?P<lost>-?\d+)\s+\((?P<lost_pct>[-\d.]+)%\)\s+(?P<min_delta>[-\d.]+)\s+"
    r"(?P<mean_delta>[-\d.]+)\s+(?P<max_delta>[-\d.]+)\s+(?P<min_jitter>[-\d.]+)\s+"
    r"(?P<mean_jitter>[-\d.]+)\s+(?P<max_jitter>[-\d.]+)\s*(?P<problem>X?)\s*$"
)


@dataclass(frozen=True)
class WiresharkStream:
    src: str
    dst: str
    ssrc: int
    payload: str
    packets: int
    lost: int
    max_delta_ms: float
    mean_jitter_ms: float
    max_jitter_ms: float
    problem: bool

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.src, self.dst, self.ssrc)


def _endpoint(ip: str, port: str) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def wireshark_streams(
    capture: Path, heuristic: bool = True, extra: tuple[str, ...] = ()
) -> dict[tuple[str, str, int], WiresharkStream]:
    argv = ["tshark", "-n", "-q", "-r", str(capture)]
    if heuristic:
        argv += ["-o", "rtp.heuristic_rtp:TRUE"]
    argv += [*extra, "-z", "rtp,streams"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=300).stdout
    streams: dict[tuple[str, str, int], WiresharkStream] = {}
    for line in out.splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        s = WiresharkStream(
            src=_endpoint(m["src"], m["sport"]),
            dst=_endpoint(m["dst"], m["dport"]),
            ssrc=int(m["ssrc"], 16),
            payload=m["payload"],
            packets=int(m["pkts"]),
            lost=int(m["lost"]),
            max_delta_ms=float(m["max_delta"]),
            mean_jitter_ms=float(m["mean_jitter"]),
            max_jitter_ms=float(m["max_jitter"]),
            problem=m["problem"] == "X",
        )
        streams[s.key] = s
    return streams
