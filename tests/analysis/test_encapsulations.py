"""Every link layer, tunnel, fragmenting and SIP transport tshark reads, and the containers it
reads: the same synthetic call (we know all its figures) in each, checked against tshark's own
view of the file: the INVITE Call-IDs (``sip.Method == "INVITE"``), and the RTP streams with their
packets and losses (``-z rtp,streams``)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.analysis.report import analyse_capture
from tests.analysis.conftest import need_tshark
from tests.analysis.encapsulate import ENCAPSULATIONS, ethernet, pcap_to_erf
from tests.analysis.synthetic import A6, A_RTP, B6, B_RTP, A, B, write_synthetic_call
from tests.analysis.wireshark_ref import endpoint, wireshark_streams

pytestmark = [need_tshark, pytest.mark.capture]

#: INVITE, 100, 180, 200, ACK, INFO, 200, BYE, 200
MESSAGES = 9


def tshark_invite_call_ids(path: Path) -> set[str]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", 'sip.Method == "INVITE"', "-T", "fields",
         "-e", "sip.Call-ID"], capture_output=True, text=True, check=True, timeout=300,
    ).stdout
    return {line.strip() for line in out.splitlines() if line.strip()}


def check_against_tshark(path: Path, ipv6: bool = False) -> None:
    report = analyse_capture(path)
    a, b = (A6, B6) if ipv6 else (A, B)
    expected_ids = tshark_invite_call_ids(path)
    assert expected_ids, "tshark sees the call"
    assert {c.call_id for c in report.calls} == expected_ids, report.notes
    (call,) = report.calls
    assert (call.final_code, call.messages) == (200, MESSAGES)
    assert call.setup_ms == pytest.approx(250.0, abs=0.01)
    reference = wireshark_streams(path)
    ours = {(s.src, s.dst, s.ssrc): (s.stats.packets, s.stats.lost) for s in report.streams}
    assert ours == {key: (ws.packets, ws.lost) for key, ws in reference.items()}
    assert set(ours) and {k[0] for k in ours} == {endpoint(a, A_RTP), endpoint(b, B_RTP)}
    by_src = {s.src: s for s in report.streams}
    assert by_src[endpoint(a, A_RTP)].dtmf == "5"
    assert by_src[endpoint(a, A_RTP)].call_id == call.call_id
    assert not [n for n in report.notes if "tshark" in n], report.notes


@pytest.mark.parametrize("transport", ["udp", "tcp"])
@pytest.mark.parametrize("name", sorted(ENCAPSULATIONS))
def test_encapsulation(tmp_path: Path, name: str, transport: str) -> None:
    linktype, wrap, ipv6 = ENCAPSULATIONS[name]
    path = tmp_path / f"{name}-{transport}.pcap"
    write_synthetic_call(path, linktype=linktype, transport=transport, ipv6=ipv6,
                         encapsulate=wrap, background=True)
    check_against_tshark(path, ipv6)


@pytest.mark.parametrize("transport", ["sctp", "ws"])
@pytest.mark.parametrize("ipv6", [False, True], ids=["ipv4", "ipv6"])
def test_sip_over_sctp_and_websocket(tmp_path: Path, transport: str, ipv6: bool) -> None:
    path = tmp_path / f"{transport}.pcap"
    write_synthetic_call(path, linktype=1, transport=transport, ipv6=ipv6,
                         sip_port=80 if transport == "ws" else 5060, encapsulate=ethernet)
    check_against_tshark(path, ipv6)


@pytest.mark.parametrize("fmt", ["netmon2", "netmon1", "snoop", "erf", "nettl", "k12text",
                                 "ngsniffer", "pcapng-gzip", "pcap-nanosecond"])
def test_containers_tshark_reads(tmp_path: Path, fmt: str) -> None:
    if shutil.which("editcap") is None:
        pytest.skip("editcap not installed")
    plain = tmp_path / "call.pcap"
    write_synthetic_call(plain, transport="tcp", encapsulate=ethernet)
    if fmt == "erf":
        path = tmp_path / "call.erf"
        pcap_to_erf(plain, path)
    elif fmt == "pcapng-gzip":
        ng = tmp_path / "call.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(plain), str(ng)], check=True)
        path = tmp_path / "call.pcapng.gz"
        path.write_bytes(gzip.compress(ng.read_bytes()))
    else:
        name = "nsecpcap" if fmt == "pcap-nanosecond" else fmt
        path = tmp_path / f"call.{fmt}"
        subprocess.run(["editcap", "-F", name, str(plain), str(path)], check=True,
                       capture_output=True)
    check_against_tshark(path)


@pytest.mark.parametrize("start", ["printing", "quiet-then-printing", "after-the-scan"])
def test_every_way_tshark_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start: str
) -> None:
    """tshark starts at once printing (small captures), at once quiet and again printing when
    the scan finds SIP over TCP (mid-size), or after the scan on a sub-capture (large)."""
    from gateway.analysis import analyse as analyse_module

    sizes = {"printing": (10**9, 10**9), "quiet-then-printing": (0, 10**9),
             "after-the-scan": (0, 0)}[start]
    monkeypatch.setattr(analyse_module, "_EARLY_BYTES", sizes[0])
    monkeypatch.setattr(analyse_module, "_EARLY_QUIET_BYTES", sizes[1])
    monkeypatch.setattr(analyse_module, "_SUBSET_SHARE", 1.01)
    path = tmp_path / "tcp.pcap"
    write_synthetic_call(path, transport="tcp", encapsulate=ethernet, background=True)
    check_against_tshark(path)


def test_not_a_capture_even_for_editcap(tmp_path: Path) -> None:
    from gateway.analysis.errors import CaptureError

    path = tmp_path / "notes.bin"
    path.write_bytes(b"\x00\x01\x02\x03 this is no capture format at all" * 10)
    with pytest.raises(CaptureError, match="not a capture file"):
        analyse_capture(path)
