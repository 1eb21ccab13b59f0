"""tshark on loopback for one port: start, stop by PID, read the SIP messages back."""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["Capture", "tshark_available"]


def tshark_available() -> bool:
    return shutil.which("tshark") is not None


class Capture:
    """``with Capture(port) as cap: ...`` then ``cap.sip()``: ``(method, status, contact URI)``
    for every SIP message to or from ``port`` (UDP and TCP), decoded as SIP whatever the port."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="crcgw-cap."))
        self.path = self.dir / "capture.pcapng"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> Self:
        self.proc = subprocess.Popen(
            ["tshark", "-i", "lo", "-f", f"port {self.port}", "-w", str(self.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:  # "Capturing on" comes before the capture runs
            line = self.proc.stderr.readline()
            if not line or b"Capture started" in line:
                break
        time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                time.sleep(0.5)  # dumpcap writes in batches: let the last packets land
                self.proc.send_signal(signal.SIGINT)
                try:
                    self.proc.wait(10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stderr is not None:
                self.proc.stderr.close()
            self.proc = None

    def sip(self) -> list[tuple[str, str, str]]:
        out = subprocess.run(
            ["tshark", "-r", str(self.path), "-d", f"udp.port=={self.port},sip",
             "-d", f"tcp.port=={self.port},sip", "-Y", "sip", "-T", "fields",
             "-e", "sip.Method", "-e", "sip.Status-Code", "-e", "sip.contact.uri"],
            capture_output=True, text=True, check=True,
        ).stdout
        return [tuple(line.split("\t")[:3]) for line in out.splitlines()]  # type: ignore[misc]

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
