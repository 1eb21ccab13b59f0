"""Fixtures for the H.323 tests: free ports, tshark live capture on loopback, the shared pcaps."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from signaling.h323 import DialResult, H323Peer, dial
from signaling.h323.h245 import H245Session, summarize
from signaling.h323.peer import PeerCall

SHARED_TESTDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata"


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def tshark() -> str:
    path = shutil.which("tshark")
    if path is None:
        pytest.skip("tshark is not installed")
    return path


def shared_pcap(name: str) -> Path:
    path = SHARED_TESTDATA / "pcaps" / name
    if not path.is_file():
        pytest.skip(f"../shared/testdata/pcaps/{name} is absent")
    return path


@pytest.fixture
def rtp_example() -> Path:
    """A real H.323 call (Setup … Connect, H.245 on its own TCP connection)."""
    return shared_pcap("rtp_example.raw")


@pytest.fixture
def ras_background() -> Path:
    """A SIP capture whose background traffic holds real RAS (GRQ, RRQ, RRJ, RCF …)."""
    return shared_pcap("SIP_CALL_RTP_G711")


@pytest.fixture
def live_capture(tshark: str, tmp_path: Path) -> Callable[[str], AbstractContextManager[Path]]:
    """``with live_capture("tcp port N") as pcap:`` captures loopback traffic into ``pcap``."""
    if os.geteuid() != 0 and not os.access("/usr/bin/dumpcap", os.X_OK):
        pytest.skip("capturing needs root or dumpcap capabilities")

    @contextmanager
    def capture(bpf: str) -> Iterator[Path]:
        pcap = tmp_path / "capture.pcapng"
        errors = tmp_path / "tshark.err"
        probe = free_port(socket.SOCK_DGRAM)
        with errors.open("wb") as err:
            process = subprocess.Popen(
                [tshark, "-i", "lo", "-f", f"({bpf}) or udp port {probe}", "-w", str(pcap), "-q"],
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        try:
            deadline = time.monotonic() + 20
            while b"Capturing on" not in errors.read_bytes():
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.skip(f"tshark could not capture: {errors.read_text()[-300:]}")
                time.sleep(0.05)
            _wait_until_capturing(pcap, probe, deadline)
            yield pcap
            # packets are written in order: once a last probe is in the file, so is the traffic
            _wait_until_capturing(pcap, probe, time.monotonic() + 20)
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)

    return capture


def _wait_until_capturing(pcap: Path, probe: int, deadline: float) -> None:
    """ "Capturing on" comes before the filter is live: probe until a datagram is written."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        while True:
            size = pcap.stat().st_size if pcap.exists() else 0
            sock.sendto(b"probe", ("127.0.0.1", probe))
            time.sleep(0.1)
            if pcap.exists() and pcap.stat().st_size > size and size > 0:
                return
            if time.monotonic() > deadline:
                pytest.skip("tshark never captured the probe datagram")


async def dial_with_media(peer: H323Peer, **options: Any) -> tuple[DialResult, PeerCall]:
    """Dial ``peer`` (meeting 123456789) and wait until the peer noted its call's media (it does
    when the call's task ends); returns both sides' records."""
    result = await dial(f"127.0.0.1:{peer.port}##123456789", timeout=5, **options)
    for _ in range(200):
        if peer.calls and peer.calls[0].media is not None:
            break
        await asyncio.sleep(0.05)
    return result, peer.calls[0]


def h245_exchange(a: H245Session, b: H245Session) -> list[str]:
    """Run two H.245 sessions until neither has anything to say; the message names, in order."""
    names: list[str] = []
    queue = [(b, m) for m in a.start()] + [(a, m) for m in b.start()]
    while queue:
        to, data = queue.pop(0)
        names.append(summarize(data).name)
        other = a if to is b else b
        queue += [(other, reply) for reply in to.receive(data)]
    return names
