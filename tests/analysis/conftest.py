"""Fixtures of the capture-analysis tests: the shared captures (skipped when absent) and real
calls between two baresip UAs captured on loopback (made once per module)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.analysis.capture import CallFacts, capture_baresip_call, capture_proxied_call
from tests.harness import baresip_available

# ../shared beside the repository, or where CRCGW_SHARED says (a git worktree elsewhere)
SHARED_PCAPS = Path(
    os.environ.get("CRCGW_SHARED", Path(__file__).resolve().parents[2] / ".." / "shared")
) / "testdata" / "pcaps"


def shared_captures() -> list[Path]:
    if not SHARED_PCAPS.is_dir():
        return []
    return sorted(p for p in SHARED_PCAPS.iterdir() if p.is_file())


need_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed")
need_peers = pytest.mark.skipif(
    shutil.which("tshark") is None or not baresip_available(), reason="tshark/baresip missing"
)


@pytest.fixture(scope="module")
def udp_call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFacts]:
    """A 3 s call over UDP with DTMF 1234*# from the caller, captured as pcapng."""
    path = tmp_path_factory.mktemp("call-udp") / "call.pcapng"
    yield capture_baresip_call(path, talk_s=3.0, digits="1234*#", transport="udp")


@pytest.fixture(scope="module")
def tcp_call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFacts]:
    """A 2 s call with SIP over TCP and DTMF 9#, captured as classic pcap."""
    path = tmp_path_factory.mktemp("call-tcp") / "call.pcap"
    yield capture_baresip_call(path, talk_s=2.0, digits="9#", transport="tcp", file_format="pcap")


@pytest.fixture(scope="module")
def proxied_call(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFacts]:
    """A 2 s call from alice to bob through Kamailio (digest auth), captured as pcapng."""
    from gateway.peers.kamailio import kamailio_available

    if not kamailio_available():
        pytest.skip("kamailio not installed")
    path = tmp_path_factory.mktemp("call-kamailio") / "call.pcapng"
    yield capture_proxied_call(path, talk_s=2.0, digits="5")
