"""What real captures contain: pcap and pcapng, Ethernet, Linux cooked and raw-IP link types, SIP
over TCP split across segments, non-standard SIP ports, RTP without SDP, background traffic,
malformed and truncated packets. The captures are written by our own code, so every figure is
known; tshark's own stream table is checked alongside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.capture_gen import LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_RAW
from gateway.analysis.report import analyse_capture
from tests.analysis.conftest import need_tshark
from tests.analysis.synthetic import A6, A_RTP, B6, B_RTP, A, B, write_synthetic_call
from tests.analysis.wireshark_ref import endpoint, wireshark_streams

pytestmark = [need_tshark, pytest.mark.capture]


def _check(
    path: Path, sip_ports: tuple[int, ...] = (), with_sip: bool = True, a: str = A, b: str = B
) -> None:
    report = analyse_capture(path, sip_ports)
    streams = {s.src: s for s in report.streams}
    assert set(streams) == {endpoint(a, A_RTP), endpoint(b, B_RTP)}
    a_to_b, b_to_a = streams[endpoint(a, A_RTP)], streams[endpoint(b, B_RTP)]
    assert a_to_b.stats.lost == 1 and b_to_a.stats.lost == 0
    assert b_to_a.stats.packets == 150 and a_to_b.stats.packets == 149 + 4
    assert a_to_b.dtmf == "5" and b_to_a.dtmf == ""
    assert a_to_b.codec.upper() == "PCMA"
    assert 0.0 < b_to_a.stats.mean_jitter_ms < 2.0
    reference = wireshark_streams(path, extra=tuple(
        arg for port in sip_ports for arg in ("-d", f"udp.port=={port},sip", "-d",
                                              f"tcp.port=={port},sip")))
    for s in report.streams:
        ws = reference[(s.src, s.dst, s.ssrc)]
        assert (s.stats.packets, s.stats.lost) == (ws.packets, ws.lost)
    if with_sip:
        (call,) = report.calls
        assert call.setup_ms == pytest.approx(250.0, abs=0.01)
        assert call.final_code == 200
        assert call.dtmf_info == "7"
        assert a_to_b.call_id == call.call_id


@pytest.mark.parametrize(
    ("linktype", "fmt"),
    [(LINKTYPE_ETHERNET, "pcap"), (LINKTYPE_LINUX_SLL, "pcapng"), (LINKTYPE_RAW, "pcap"),
     (LINKTYPE_RAW, "pcapng")],
    ids=["ethernet-pcap", "linux-cooked-pcapng", "raw-ip-pcap", "raw-ip-pcapng"],
)
def test_link_types_and_file_formats(tmp_path: Path, linktype: int, fmt: str) -> None:
    path = tmp_path / f"call.{fmt}"
    write_synthetic_call(path, linktype=linktype, fmt=fmt)
    _check(path)


def test_ipv6_behind_a_vlan_tag(tmp_path: Path) -> None:
    path = tmp_path / "v6.pcapng"
    write_synthetic_call(path, fmt="pcapng", ipv6=True, vlan=42, transport="tcp")
    _check(path, a=A6, b=B6)


def test_sip_over_tcp_split_across_segments(tmp_path: Path) -> None:
    path = tmp_path / "tcp.pcap"
    write_synthetic_call(path, transport="tcp", background=True)
    _check(path)


def test_non_standard_sip_port_found_by_sip_heuristics(tmp_path: Path) -> None:
    path = tmp_path / "port.pcapng"
    write_synthetic_call(path, fmt="pcapng", sip_port=5099, transport="udp")
    _check(path)


def test_sip_on_a_port_of_another_protocol_needs_sip_port(tmp_path: Path) -> None:
    # TCP 8080 belongs to HTTP: only --sip-port makes tshark (and so pyshark) read SIP there
    path = tmp_path / "port.pcapng"
    write_synthetic_call(path, fmt="pcapng", sip_port=8080, transport="tcp")
    assert analyse_capture(path).calls == []
    _check(path, sip_ports=(8080,))


def test_rtp_without_sdp_is_found_by_heuristic(tmp_path: Path) -> None:
    path = tmp_path / "nosdp.pcap"
    write_synthetic_call(path, with_sip=False, background=True)
    report = analyse_capture(path)
    assert report.calls == []
    assert len(report.streams) == 2
    assert {s.codec for s in report.streams} == {"PCMA"}
    assert analyse_capture(path, heuristic_rtp=False).streams == []


def test_malformed_and_truncated_packets_are_counted_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "bad.pcap"
    write_synthetic_call(path, malformed=True, background=True, truncate_tail=True)
    report = analyse_capture(path)
    assert report.malformed >= 1
    assert any("cut short" in n for n in report.notes)
    assert len(report.calls) == 1 and len(report.streams) == 2


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway", "analyze", *args],
                          capture_output=True, text=True, timeout=120)


def test_cli_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = _cli(str(tmp_path / "nope.pcap"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_not_a_capture_is_one_line_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a capture at all\n")
    proc = _cli(str(path))
    assert proc.returncode == 2
    assert "not a capture file" in proc.stderr and proc.stderr.strip().count("\n") == 0


def test_cli_diagram_as_png_or_svg_only(tmp_path: Path) -> None:
    path = tmp_path / "call.pcap"
    write_synthetic_call(path)
    proc = _cli(str(path), "--diagram", str(tmp_path / "ladder.gif"))
    assert proc.returncode == 2 and ".svg or .png" in proc.stderr
    png = tmp_path / "ladder.png"
    proc = _cli(str(path), "--diagram", str(png), "--json")
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(png) as image:
        assert image.format == "PNG" and image.width >= 400 and image.height > 200
        # arrows are drawn in colour: some pixels are neither white nor grey
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16) or []
        assert any(abs(r - g) > 40 or abs(g - b) > 40 for _, (r, g, b) in colours)


def test_gzip_compressed_capture(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "call.pcapng"
    write_synthetic_call(path, fmt="pcapng")
    packed = tmp_path / "call.pcapng.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    _check(packed)
