"""``crcgw analyze`` on a day of calls, against tshark's own statistics pass on the same file.

The capture is made here: one real call between two baresip UAs on loopback is captured with
tshark, then :func:`bench.capture_gen.replicate_calls` turns it into 100 calls (own addresses,
Call-IDs, SSRCs; RTP tiled with shifted sequence numbers and timestamps; every fourth call with
its SIP over TCP, each message split in two segments) of more than 200,000 packets, written by
our own pcap writer.

Target: the full analysis takes at most twice ``tshark -q -z rtp,streams -z sip,stat``.
Run: ``.venv/bin/python -m pytest bench/test_bench_analyze.py --benchmark-only -s``
"""

from __future__ import annotations

import math
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.capture_gen import read_pcap, replicate_calls, write_packets
from gateway.analysis.report import analyse_capture

pytestmark = [
    pytest.mark.benchmark(group="analyze"),
    pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark not installed"),
]

MIN_PACKETS = 200_000
CALLS = 100
TCP_EVERY = 4
ROUNDS = 5


@pytest.fixture(scope="module")
def day_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    from tests.analysis.capture import capture_baresip_call
    from tests.harness import baresip_available

    if not baresip_available():
        pytest.skip("baresip not installed")
    tmp = tmp_path_factory.mktemp("bench-analyze")
    facts = capture_baresip_call(tmp / "one-call.pcap", talk_s=4.0, digits="5",
                                 file_format="pcap")
    packets = read_pcap(facts.capture)
    rtp = sum(1 for p in packets if p.proto == 17 and p.payload[:1] == b"\x80")
    tiles = math.ceil(MIN_PACKETS / (CALLS * max(rtp, 1)))
    day = tmp / "day.pcap"
    count = write_packets(day, replicate_calls(packets, CALLS, tiles, tcp_every=TCP_EVERY))
    assert count >= MIN_PACKETS
    return day, count


def _tshark_seconds(capture: Path) -> float:
    argv = ["tshark", "-n", "-q", "-r", str(capture), "-z", "rtp,streams", "-z", "sip,stat"]
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def test_bench_analyze_vs_tshark_stats(benchmark, day_capture: tuple[Path, int]) -> None:  # type: ignore[no-untyped-def]
    capture, count = day_capture
    tshark_runs = []
    ours_runs = []
    full_runs = []
    report = None
    # interleave the runs so that load from other processes hits them alike
    for _ in range(ROUNDS):
        tshark_runs.append(_tshark_seconds(capture))
        started = time.perf_counter()
        report = analyse_capture(capture)
        ours_runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        analyse_capture(capture, full_dissection=True)
        full_runs.append(time.perf_counter() - started)
    assert report is not None
    result = benchmark.pedantic(analyse_capture, args=(capture,), rounds=1, iterations=1)
    assert len(result.calls) == CALLS
    assert sum(1 for c in result.calls if c.events[0].label.startswith("INVITE")) == CALLS
    assert all(c.final_code == 200 for c in result.calls)
    assert sum(s.stats.packets for s in result.streams) >= MIN_PACKETS * 0.95
    assert all(s.stats.lost == 0 for s in result.streams)
    tshark_best, ours_best, full_best = min(tshark_runs), min(ours_runs), min(full_runs)
    ratio = ours_best / tshark_best
    benchmark.extra_info.update(
        packets=count, tshark_s=round(tshark_best, 3), crcgw_s=round(ours_best, 3),
        ratio=round(ratio, 2), crcgw_full_s=round(full_best, 3),
        ratio_full=round(full_best / tshark_best, 2),
    )
    print(
        f"\n{count} packets, {len(result.calls)} calls, {len(result.streams)} streams: "
        f"tshark -z rtp,streams -z sip,stat {tshark_best:.2f} s (best of {ROUNDS}), "
        f"crcgw analyze {ours_best:.2f} s, ratio {ratio:.2f} (target <= 2.0); "
        f"crcgw analyze --full {full_best:.2f} s, ratio {full_best / tshark_best:.2f}"
    )
    assert ratio <= 2.0
