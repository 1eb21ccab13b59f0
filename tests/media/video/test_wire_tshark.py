"""tshark judges crcgw's outgoing video on the wire: one SSRC, the negotiated payload type, no
loss or sequence errors, a marker bit at the end of every frame, RTCP SR + SDES and BYE."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from media.video import VideoCodec, VideoStream
from tests.h323.conftest import live_capture, tshark  # noqa: F401  (fixtures)

from .conftest import SMALL, LossyRelay, wait_for

pytestmark = pytest.mark.capture


@pytest.mark.parametrize("name", ["H264", "VP8"])
def test_outgoing_stream_is_well_formed(
    name: str,
    streams: list[VideoStream],
    tshark: str,  # noqa: F811
    live_capture: Callable[[str], AbstractContextManager[Path]],  # noqa: F811
) -> None:
    codec = VideoCodec.h264(109, 320, 240, 15) if name == "H264" else VideoCodec.vp8(100)
    tx = VideoStream(codec=codec, direction="sendonly", **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    p = rx.local_port
    with live_capture(
        f"udp portrange {p}-{p + 1} or udp portrange {tx.local_port}-{tx.local_port + 1}"
    ) as pcap:
        tx.start(("127.0.0.1", p))
        rx.start(("127.0.0.1", tx.local_port))
        assert wait_for(lambda: rx.stats().decoded_frames >= 30 and tx.stats().packets_sent > 40)
        tx.stop()
    decode = ["-d", f"udp.port=={p},rtp", "-d", f"udp.port=={p + 1},rtcp"]
    fields = subprocess.run(
        [tshark, "-r", str(pcap), *decode, "-Y", f"rtp && udp.dstport=={p}", "-T", "fields",
         "-e", "rtp.ssrc", "-e", "rtp.p_type", "-e", "rtp.marker", "-e", "rtp.seq",
         "-e", "rtp.timestamp"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.split("\n")  # fmt: skip
    rows = [line.split("\t") for line in fields if line.strip()]
    assert len(rows) == tx.stats().packets_sent
    assert {int(r[0], 16) for r in rows} == {tx.ssrc}
    assert {int(r[1]) for r in rows} == {codec.payload_type}
    seqs = [int(r[3]) for r in rows]
    assert all((b - a) % 65536 == 1 for a, b in zip(seqs, seqs[1:], strict=False))
    by_ts: dict[int, list[int]] = defaultdict(list)
    order: list[int] = []
    for r in rows:
        ts = int(r[4])
        if ts not in by_ts:
            order.append(ts)
        by_ts[ts].append(int(r[2]))
    assert len(order) == tx.stats().frames_sent
    for ts in order:  # exactly one marker per frame, on its last packet
        assert by_ts[ts][-1] == 1 and sum(by_ts[ts]) == 1, (ts, by_ts[ts])
    summary = subprocess.run(
        [tshark, "-r", str(pcap), *decode, "-q", "-z", "rtp,streams"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    line = next(x for x in summary.splitlines() if f"0X{tx.ssrc:08X}" in x.upper())
    assert " 0 (0.0%)" in line, summary  # tshark counts no loss
    assert "X" not in line.split("(0.0%)")[1], summary  # no "Problems?" mark
    rtcp = subprocess.run(
        [tshark, "-r", str(pcap), *decode, "-Y", f"rtcp && udp.dstport=={p + 1}", "-T",
         "fields", "-e", "rtcp.pt", "-e", "rtcp.senderssrc", "-e", "_ws.expert.message"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    kinds = {line.split("\t")[0] for line in rtcp.splitlines() if line.strip()}
    assert "200,202" in kinds, rtcp  # SR + SDES compound
    assert any("203" in k for k in kinds), rtcp  # BYE on stop
    assert all(not line.split("\t")[2] for line in rtcp.splitlines() if line.strip()), rtcp


def test_feedback_is_well_formed(
    streams: list[VideoStream],
    tshark: str,  # noqa: F811
    live_capture: Callable[[str], AbstractContextManager[Path]],  # noqa: F811
) -> None:
    """PLI, FIR and NACK that crcgw sends, as tshark reads them (NACKs through a lossy relay)."""
    codec = VideoCodec.h264(96, 320, 240, 15)
    tx = VideoStream(codec=codec, direction="sendonly", keyframe_interval_s=600, **SMALL)
    rx = VideoStream(codec=codec, direction="recvonly", **SMALL)
    streams += [tx, rx]
    relay = LossyRelay(rx.local_port, drop_every=5)
    q = tx.local_port + 1
    try:
        with live_capture(f"udp dst port {q}") as pcap:
            tx.start(("127.0.0.1", relay.port), ("127.0.0.1", rx.local_port + 1))
            rx.start(("127.0.0.1", tx.local_port))
            assert wait_for(lambda: rx.stats().decoded_frames >= 5 and rx.stats().nacks_sent >= 3)
            rx.request_keyframe()
            assert wait_for(lambda: tx.stats().plis_received >= 1 and tx.stats().firs_received >= 1)
    finally:
        relay.close()
    out = subprocess.run(
        [tshark, "-r", str(pcap), "-d", f"udp.port=={q},rtcp", "-Y", "rtcp", "-T", "fields",
         "-e", "rtcp.senderssrc", "-e", "rtcp.psfb.fmt", "-e", "rtcp.rtpfb.fmt",
         "-e", "rtcp.psfb.fir.fci.ssrc", "-e", "rtcp.rtpfb.nack_pid", "-e", "_ws.expert.message"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    rows = [line.split("\t") for line in out.splitlines() if line.strip()]
    assert rows and all(not r[5] for r in rows), out  # no expert complaints
    psfb = ",".join(r[1] for r in rows)
    assert "1" in psfb.split(",") and "4" in psfb.split(","), out  # PLI and FIR
    assert any(int(s, 16) == tx.ssrc for r in rows for s in r[3].split(",") if s), out
    assert any(r[2] == "1" and r[4] for r in rows), out  # generic NACK with a packet id
