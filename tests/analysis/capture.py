"""Capture real calls on loopback: tshark with a capture filter, two baresip UAs calling each other
directly (no registrar), and the facts of the call made, to check the analysis against.

Used by the tests in this folder and by ``bench/capture_gen.py`` (which needs one real call).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from tests.harness import Baresip, PeerError, free_port
from tests.harness._process import Peer, spawn, stop_process

__all__ = ["CallFacts", "TsharkCapture", "capture_baresip_call", "capture_proxied_call"]


class TsharkCapture(Peer):
    """``tshark -i lo -f BPF -w FILE`` started by us and stopped by PID (SIGINT, so the file is
    complete). :meth:`start` returns only once packets really reach the file: tshark prints
    "Capturing on" a little before it writes, so probe datagrams are sent to ``probe_port``
    (which the filter must include) until the file grows."""

    def __init__(self, path: Path, bpf: str, probe_port: int, file_format: str = "pcapng") -> None:
        self.path, self.bpf, self.probe_port = path, bpf, probe_port
        self.file_format = file_format
        self.log_path = path.with_suffix(path.suffix + ".log")
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> Self:
        self.log_path.write_text("")
        argv = ["tshark", "-n", "-q", "-i", "lo", "-f", self.bpf, "-F", self.file_format,
                "-w", str(self.path)]
        self._proc = spawn(argv, self.log_path, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while "Capturing on" not in self.log_path.read_text(errors="replace"):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PeerError(f"tshark did not start: {self.log_path.read_text()[-500:]}")
            time.sleep(0.02)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            while not (self.path.exists() and self.path.stat().st_size > 400):
                if time.monotonic() > deadline:
                    self.stop()
                    raise PeerError("tshark captures nothing on lo")
                probe.sendto(b"crcgw capture probe", ("127.0.0.1", self.probe_port))
                time.sleep(0.02)
        return self

    def stop(self) -> float:
        """Stop tshark by its PID (SIGINT, so the file is complete); returns the seconds."""
        if self._proc is None:
            return 0.0
        time.sleep(0.3)  # let the last packets reach the file
        took = stop_process(self._proc, signal.SIGINT, timeout=5.0)
        self._proc = None
        return took


@dataclass(frozen=True)
class CallFacts:
    """What the test did: who called whom, over what, for how long, which digits were sent."""

    capture: Path
    transport: str
    caller_sip_port: int
    callee_sip_port: int
    established_s: float
    """From the dial until baresip reported the call established."""
    talk_s: float
    """From CALL_ESTABLISHED until the hang-up was sent."""
    digits_sent: str
    digits_received: str
    caller_rtp: tuple[int, int]
    callee_rtp: tuple[int, int]


def capture_baresip_call(
    capture: Path,
    talk_s: float = 3.0,
    digits: str = "1234*#",
    transport: str = "udp",
    file_format: str = "pcapng",
) -> CallFacts:
    """Alice calls Bob directly (baresip to baresip), sends ``digits`` as RFC 4733 events after
    one second, hangs up after ``talk_s`` seconds; everything captured into ``capture``."""
    probe_port = free_port(tcp=False)
    with Baresip("alice") as alice, Baresip("bob") as bob:
        bpf = (
            f"port {alice.sip_port} or port {bob.sip_port} or udp port {probe_port}"
            f" or udp portrange {alice.rtp_low}-{alice.rtp_high}"
            f" or udp portrange {bob.rtp_low}-{bob.rtp_high}"
        )
        with TsharkCapture(capture, bpf, probe_port, file_format):
            uri = bob.direct_uri + (";transport=tcp" if transport == "tcp" else "")
            return _call(alice, bob, uri, capture, transport, talk_s, digits, dtmf_after_s=1.0)


def capture_proxied_call(capture: Path, talk_s: float = 2.0, digits: str = "5") -> CallFacts:
    """Alice calls Bob through a private Kamailio (both registered with digest auth, so the
    capture holds REGISTER with its 401 round and INVITE with its 407 round)."""
    from tests.harness import Kamailio

    probe_port = free_port(tcp=False)
    with Kamailio() as kam:
        alice = Baresip("alice", "alicepw", registrar=kam.address("udp"))
        bob = Baresip("bob", "bobpw", registrar=kam.address("udp"))
        bpf = (
            f"port {kam.sip_port} or port {alice.sip_port} or port {bob.sip_port}"
            f" or udp port {probe_port}"
            f" or udp portrange {alice.rtp_low}-{alice.rtp_high}"
            f" or udp portrange {bob.rtp_low}-{bob.rtp_high}"
        )
        with TsharkCapture(capture, bpf, probe_port), alice, bob:
            if not (alice.wait_registered() and bob.wait_registered()):
                raise PeerError(f"registration failed: {alice.log_tail()}")
            return _call(alice, bob, bob.aor, capture, "udp", talk_s, digits, dtmf_after_s=0.5)


def _call(
    alice: Baresip,
    bob: Baresip,
    uri: str,
    capture: Path,
    transport: str,
    talk_s: float,
    digits: str,
    dtmf_after_s: float,
) -> CallFacts:
    """Alice dials ``uri``; ``dtmf_after_s`` after the answer she sends ``digits`` (Bob waits for
    them), and she hangs up ``talk_s`` after the answer. Returns what happened."""
    mark = alice.mark()
    dialled = time.monotonic()
    alice.dial(uri)
    if alice.wait_event("CALL_ESTABLISHED", 10, mark) is None:
        raise PeerError(f"call not established: {alice.log_tail()}")
    established = time.monotonic()
    bob_mark = bob.mark()
    time.sleep(dtmf_after_s)
    alice.send_dtmf(digits)
    received = bob.wait_dtmf(digits, 5.0, bob_mark) if digits else ""
    time.sleep(max(0.0, talk_s - (time.monotonic() - established)))
    hangup = time.monotonic()
    alice.hangup()
    bob.wait_event("CALL_CLOSED", 5, bob_mark)
    return CallFacts(
        capture=capture,
        transport=transport,
        caller_sip_port=alice.sip_port,
        callee_sip_port=bob.sip_port,
        established_s=established - dialled,
        talk_s=hangup - established,
        digits_sent=digits,
        digits_received=received,
        caller_rtp=(alice.rtp_low, alice.rtp_high),
        callee_rtp=(bob.rtp_low, bob.rtp_high),
    )
