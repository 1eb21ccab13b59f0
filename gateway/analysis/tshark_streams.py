"""tshark's own verdict on what is RTP: its stream table, run in the background.

``tshark -q -z rtp,streams -z expert,error`` is the cheapest complete dissection tshark offers
(taps only: no per-packet printing). Its stream table says which (source, destination, SSRC)
flows tshark decodes as RTP, through SDP, H.245 or its RTP heuristic; the expert table counts
malformed packets. The per-packet figures are then read by :mod:`gateway.analysis.pcapscan`.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.analysis.errors import CaptureError

__all__ = [
    "StreamPass",
    "TsharkStream",
    "parse_expert_malformed",
    "parse_rtp_streams",
    "tshark_binary",
    "tshark_options",
]

log = logging.getLogger(__name__)

_ROW = re.compile(
    r"^\s*(?P<start>[\d.]+)\s+(?P<end>[\d.]+)\s+(?P<src>\S+)\s+(?P<sport>\d+)\s+(?P<dst>\S+)\s+"
    r"(?P<dport>\d+)\s+0x(?P<ssrc>[0-9A-Fa-f]+)\s+(?P<payload>.+?)\s+(?P<pkts>\d+)\s+"
    r"(?P<lost>-?\d+)\s+\((?P<lost_pct>[-\d.]+)%\)\s+(?P<min_delta>[-\d.]+)\s+"
    r"(?P<mean_delta>[-\d.]+)\s+(?P<max_delta>[-\d.]+)\s+(?P<min_jitter>[-\d.]+)\s+"
    r"(?P<mean_jitter>[-\d.]+)\s+(?P<max_jitter>[-\d.]+)\s*(?P<problem>X?)\s*$"
)
_EXPERT = re.compile(r"^\s*(\d+)\s+Malformed\s+", re.MULTILINE)


@dataclass(frozen=True)
class TsharkStream:
    """One row of ``tshark -q -z rtp,streams``."""

    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    ssrc: int
    payload: str
    packets: int
    lost: int
    max_delta_ms: float
    mean_jitter_ms: float
    max_jitter_ms: float
    problem: bool

    @property
    def key(self) -> tuple[str, int, str, int, int]:
        return (self.src_ip, self.src_port, self.dst_ip, self.dst_port, self.ssrc)


def parse_rtp_streams(text: str) -> list[TsharkStream]:
    out = []
    for line in text.splitlines():
        m = _ROW.match(line)
        if m:
            out.append(
                TsharkStream(
                    m["src"], int(m["sport"]), m["dst"], int(m["dport"]), int(m["ssrc"], 16),
                    m["payload"], int(m["pkts"]), int(m["lost"]), float(m["max_delta"]),
                    float(m["mean_jitter"]), float(m["max_jitter"]), m["problem"] == "X",
                )
            )
    return out


def parse_expert_malformed(text: str) -> int:
    """Packets tshark's expert system calls malformed (``-z expert,error``)."""
    return sum(int(n) for n in _EXPERT.findall(text))


def tshark_binary() -> str:
    path = shutil.which("tshark")
    if path is None:
        raise CaptureError("tshark is not installed (Debian package 'tshark')")
    return path


def tshark_options(sip_ports: Sequence[int] = (), heuristic_rtp: bool = True) -> list[str]:
    """Dissector options shared by both tshark runs (``-o``/``-d``)."""
    opts: list[str] = []
    if heuristic_rtp:
        opts += ["-o", "rtp.heuristic_rtp:TRUE"]
    for port in sip_ports:
        if not 0 < port < 65536:
            raise CaptureError(f"--sip-port {port} is not a port number")
        opts += ["-d", f"udp.port=={port},sip", "-d", f"tcp.port=={port},sip"]
    return opts


class StreamPass:
    """The background tshark run; :meth:`result` waits for it. Always stopped by its PID."""

    def __init__(self, capture: Path, options: Sequence[str]) -> None:
        argv = [tshark_binary(), "-n", "-q", "-r", str(capture), *options,
                "-z", "rtp,streams", "-z", "expert,error"]
        log.debug("stream pass: %s", " ".join(argv))
        self.capture = capture
        self._proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, errors="replace",
        )

    def result(self, timeout_s: float = 600.0) -> tuple[list[TsharkStream], int]:
        try:
            out, err = self._proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired as exc:
            self.stop()
            raise CaptureError(f"tshark took longer than {timeout_s:.0f} s") from exc
        if self._proc.returncode != 0 and "RTP Streams" not in out:
            raise CaptureError(_tshark_error(err, self.capture))
        return parse_rtp_streams(out), parse_expert_malformed(out)

    def stop(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()


def _tshark_error(stderr: str, capture: Path) -> str:
    lines = [
        ln.strip()
        for ln in stderr.splitlines()
        if ln.strip() and "Running as user" not in ln and "dangerous" not in ln
    ]
    detail = lines[0] if lines else "tshark failed"
    if "isn't a capture file" in stderr or "unknown file format" in stderr.lower():
        return f"{capture} is not a capture file (pcap or pcapng)"
    return f"cannot read {capture}: {detail}"
