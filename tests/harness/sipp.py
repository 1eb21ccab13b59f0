"""SIPp (Debian ``sip-tester``) as a scripted far end: one UAS scenario, one call, loopback.

>>> with Sipp("no_common_codec") as far:          # doctest: +SKIP
...     crcgw("dial", far.uri, ...)
...     far.wait_exit(10)

The scenarios live in ``tests/sip/sipp/*.xml``. SIPp listens on a free loopback port, echoes
the RTP it gets (``-rtp_echo``) on a free media port, traces the messages it saw to a file
(:meth:`messages`), and is our direct child, stopped by its PID.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from tests.harness._process import Peer, PeerError, free_port, free_port_range, spawn, stop_process

__all__ = ["SCENARIOS", "Sipp", "sipp_available"]

SCENARIOS = Path(__file__).resolve().parents[1] / "sip" / "sipp"


def sipp_available() -> bool:
    return shutil.which("sipp") is not None


def _udp_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


class Sipp(Peer):
    """One SIPp UAS running ``tests/sip/sipp/<scenario>.xml`` for ``calls`` calls (at once or
    one after the other: SIPp serves each INVITE as it comes)."""

    def __init__(
        self,
        scenario: str,
        timeout_s: float = 120.0,
        calls: int = 1,
        port: int = 0,
        keys: dict[str, str] | None = None,
        remote: str | None = None,
        service: str | None = None,
    ) -> None:
        """``port`` 0 picks a free one; ``keys`` fill the scenario's ``[name]`` keywords;
        ``remote`` (``HOST:PORT``) makes SIPp a UAC calling there, as ``service`` (the
        Request-URI's user part, ``room`` unless given)."""
        self.calls = calls
        self.remote, self.service = remote, service
        self.keys = dict(keys or {})
        self.scenario = SCENARIOS / f"{scenario}.xml"
        if not self.scenario.is_file():
            raise PeerError(f"no SIPp scenario {self.scenario}")
        self.timeout_s = timeout_s
        self.port = port
        self.media_port = 0
        self._dir = Path(tempfile.mkdtemp(prefix="crcgw-sipp-"))
        self.log_path = self._dir / "sipp.log"
        self.trace_path = self._dir / "messages.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"sip:meeting@127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self, timeout: float = 10.0) -> Self:
        if not sipp_available():
            raise PeerError("sipp not installed (apt-get install sip-tester)")
        self.port = self.port or free_port(udp=True, tcp=False)
        low, _ = free_port_range(4)
        self.media_port = low
        argv = [
            "sipp", "-sf", str(self.scenario), "-i", "127.0.0.1", "-p", str(self.port),
            "-mi", "127.0.0.1", "-mp", str(self.media_port), "-rtp_echo", "-m", str(self.calls),
            "-nostdin", "-timeout", f"{self.timeout_s:g}s", "-trace_msg",
            "-message_file", str(self.trace_path),
        ]
        for name, value in self.keys.items():
            argv += ["-key", name, value]
        if self.remote is not None:
            argv += ["-s", self.service or "room", self.remote]
        elif self.service is not None:
            argv += ["-s", self.service]
        proc = self._proc = spawn(argv, self.log_path, signal.SIGKILL, cwd=self._dir)
        deadline = time.monotonic() + timeout
        while not _udp_taken(self.port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise PeerError(f"sipp did not start on port {self.port}: {tail}")
            time.sleep(0.05)
        return self

    def messages(self) -> str:
        """What SIPp traced: every message it sent and received so far."""
        try:
            return self.trace_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_message(self, needle: str, timeout: float = 10.0) -> bool:
        """Wait until ``needle`` (a start line such as ``"ACK sip:"``) is in the trace."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.messages():
                return True
            time.sleep(0.05)
        return False

    def kill(self) -> None:
        """The far end vanishes: SIGKILL, no BYE, no more RTP."""
        stop_process(self._proc, signal.SIGKILL)

    def wait_exit(self, timeout: float = 10.0) -> int | None:
        if self._proc is None:
            return None
        try:
            return self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> float:
        took = stop_process(self._proc)
        shutil.rmtree(self._dir, ignore_errors=True)
        return took
