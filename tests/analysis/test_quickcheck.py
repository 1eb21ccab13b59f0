"""The quick look before tshark starts (gateway/analysis/quickcheck.py) against the header
scan's own verdict: whenever the scan hands frames to tshark to print (or cannot decode some),
the quick look has said so already, so tshark never has to start again on a small capture; on
a plain SIP/RTP call over UDP it says nothing needs printing, and tshark starts quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.analysis.pcapscan import scan_capture
from gateway.analysis.quickcheck import QUICK_CHECK_BYTES, may_need_printing
from gateway.analysis.select import signaling_frames
from gateway.analysis.sip_tcp import read_sip_tcp
from tests.analysis.encapsulate import ENCAPSULATIONS
from tests.analysis.synthetic import write_synthetic_call


def _scan_prints(path: Path) -> bool:
    """Whether the analysis has tshark print signalling: what the scan cannot read, unless it
    is SIP over plain TCP that the analysis reassembles itself."""
    cols = scan_capture(path)
    where = signaling_frames(cols)
    if not where.fast_path:
        return True
    return bool(where.reassembly) and read_sip_tcp(cols, where.reassembly) is None


@pytest.mark.parametrize("transport", ["udp", "tcp", "sctp", "ws"])
@pytest.mark.parametrize("name", sorted(ENCAPSULATIONS))
def test_the_quick_look_never_misses_what_the_scan_prints(
    tmp_path: Path, name: str, transport: str
) -> None:
    linktype, wrap, ipv6 = ENCAPSULATIONS[name]
    path = tmp_path / f"{name}-{transport}.pcap"
    write_synthetic_call(path, linktype=linktype, transport=transport, ipv6=ipv6,
                         encapsulate=wrap, background=True)
    if _scan_prints(path):
        assert may_need_printing(path)


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("ipv6", [False, True])
def test_a_plain_call_starts_tshark_quiet(tmp_path: Path, ipv6: bool, transport: str) -> None:
    """SIP over UDP, or over TCP on 5060 (reassembled by the analysis), and RTP."""
    path = tmp_path / f"{transport}.pcap"
    write_synthetic_call(path, transport=transport, ipv6=ipv6, background=True)
    assert not _scan_prints(path)
    assert not may_need_printing(path)


def test_doubt_means_printing(tmp_path: Path) -> None:
    plain = tmp_path / "udp.pcap"
    write_synthetic_call(plain, transport="udp")
    data = plain.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])  # the last record cut short
    assert may_need_printing(cut)
    big = tmp_path / "big.pcap"
    big.write_bytes(data + b"\0" * QUICK_CHECK_BYTES)
    assert may_need_printing(big)
    assert may_need_printing(tmp_path / "missing.pcap")
    (tmp_path / "empty.pcap").write_bytes(b"")
    assert may_need_printing(tmp_path / "empty.pcap")


def test_sip_over_tcp_on_another_port(tmp_path: Path) -> None:
    """Reassembled by the analysis and checked against tshark's count: tshark starts quiet;
    over WebSocket, tshark prints."""
    plain, ws = tmp_path / "tcp-5080.pcap", tmp_path / "ws-5080.pcap"
    write_synthetic_call(plain, transport="tcp", sip_port=5080)
    write_synthetic_call(ws, transport="ws", sip_port=5080)
    assert not _scan_prints(plain) and not may_need_printing(plain)
    assert _scan_prints(ws) and may_need_printing(ws)
