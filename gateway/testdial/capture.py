"""``--capture``: record the test call with tshark on the ports in use, then analyse the file.

tshark runs with a capture filter (the far end's and the registrar's SIP ports, and the UDP
port range the call's RTP uses on our side), on the interface the kernel routes the target
through, never the whole interface's traffic. It starts before the INVITE; :meth:`start` returns
once tshark prints "Capturing on" and (on loopback) a probe datagram has reached the file. It is
stopped by its PID with SIGINT, so the file is complete.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.peers.process import spawn, stop_process

__all__ = [
    "CaptureError",
    "CallCapture",
    "analyse_call_capture",
    "capture_filter",
    "redact_capture",
]

_PROBE = b"crcgw test-dial capture probe"


class CaptureError(RuntimeError):
    """tshark is missing, could not start, or wrote nothing."""


def capture_filter(sip_ports: Sequence[int], rtp_low: int, rtp_high: int) -> str:
    """A BPF filter for the call: the SIP ports (UDP and TCP) and our RTP/RTCP port range."""
    parts = [f"port {port}" for port in sorted(set(sip_ports))]
    parts.append(f"udp portrange {rtp_low}-{rtp_high}")
    return " or ".join(parts)


class CallCapture:
    """``tshark -i IFACE -f FILTER -w FILE`` for the duration of one call."""

    def __init__(self, path: Path, interface: str, bpf: str, probe_port: int | None) -> None:
        self.path = path
        self.interface = interface
        self.bpf = bpf
        self.probe_port = probe_port
        self.log_path = path.with_name(path.name + ".log")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        tshark = shutil.which("tshark")
        if tshark is None:
            raise CaptureError("--capture needs tshark (apt-get install tshark)")
        if self.path.exists():
            self.path.unlink()
        self.log_path.write_text("")
        file_format = "pcap" if self.path.suffix == ".pcap" else "pcapng"
        argv = [tshark, "-n", "-q", "-i", self.interface, "-f", self.bpf, "-F", file_format,
                "-w", str(self.path)]
        self._proc = spawn(argv, self.log_path, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while "Capturing on" not in self.log_path.read_text(errors="replace"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:]
                self.stop()
                raise CaptureError(f"tshark did not start: {' '.join(tail) or 'no output'}")
            time.sleep(0.02)
        if self.probe_port is None:
            time.sleep(0.5)  # tshark says "Capturing on" a little before it really captures
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            while not (self.path.exists() and self.path.stat().st_size > 200):
                if time.monotonic() > deadline:
                    self.stop()
                    raise CaptureError(f"tshark captures nothing on {self.interface}")
                probe.sendto(_PROBE, ("127.0.0.1", self.probe_port))
                time.sleep(0.02)

    def stop(self) -> None:
        """SIGINT by PID (idempotent), after a moment for the last packets to be written."""
        if self._proc is None:
            return
        time.sleep(0.3)
        stop_process(self._proc, signal.SIGINT, timeout=5.0)
        self._proc = None


def analyse_call_capture(path: Path, sip_ports: Sequence[int]) -> dict[str, Any]:
    """The capture analysis of :mod:`gateway.analysis` as JSON, plus the file it read."""
    from gateway.analysis.report import analyse_capture, report_json

    report = analyse_capture(path, sip_ports)
    data = report_json(report)
    return {"file": str(path), **data}


def _mask(value: Any, replacements: Sequence[tuple[str, str]], dtmf_keys: bool) -> Any:
    if isinstance(value, str):
        for secret, shown in replacements:
            value = value.replace(secret, shown)
        return value
    if isinstance(value, list):
        return [_mask(item, replacements, dtmf_keys) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if dtmf_keys and key in ("dtmf", "dtmf_rtp", "dtmf_info") and item:
                out[key] = "***"
            else:
                out[key] = _mask(item, replacements, dtmf_keys)
        return out
    return value


def redact_capture(
    data: dict[str, Any], user_part: str | None, masked_user_part: str, digits_sent: bool
) -> dict[str, Any]:
    """The capture analysis without the secrets the call carried: the dialled user part with
    its passcode and host key (replaced by ``masked_user_part``) and, when the IVR sent them,
    the DTMF digits read from the capture."""
    replacements = [(user_part, masked_user_part)] if user_part else []
    result: dict[str, Any] = _mask(data, replacements, digits_sent)
    return result
