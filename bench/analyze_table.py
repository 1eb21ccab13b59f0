"""``crcgw analyze`` against tshark on capture files given on the command line: one markdown row
per file with the INVITE Call-IDs, RTP streams and their packets and losses of both, and the
medians of 5 (or ``ROUNDS``) interleaved timings of ``crcgw analyze FILE --json`` and
``tshark -q -z rtp,streams -z sip,stat``.

Run: ``.venv/bin/python -m bench.analyze_table FILE...`` (the table in docs/analyze.md).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from gateway.analysis.tshark_streams import parse_rtp_streams

REPO = Path(__file__).resolve().parents[1]


def _endpoint(ip: str, port: int) -> str:
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600).stdout
    return time.perf_counter() - started, out


def row(capture: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    crcgw = [sys.executable, "-m", "gateway", "analyze", capture, "--json"]
    tshark = ["tshark", "-n", "-q", "-r", capture, "-z", "rtp,streams", "-z", "sip,stat"]
    _, ids_text = _run(["tshark", "-n", "-r", capture, "-Y", 'sip.Method == "INVITE"', "-T",
                        "fields", "-e", "sip.Call-ID"])
    ids = {line.strip() for line in ids_text.splitlines() if line.strip()}
    _, streams_text = _run(["tshark", "-n", "-q", "-r", capture, "-o", "rtp.heuristic_rtp:TRUE",
                            "-z", "rtp,streams"])
    ref = {(_endpoint(s.src_ip, s.src_port), _endpoint(s.dst_ip, s.dst_port), s.ssrc):
           (s.packets, s.lost) for s in parse_rtp_streams(streams_text)}
    _run(crcgw, env)  # warm-up
    t_tshark, t_ours, out = [], [], ""
    for _ in range(int(os.environ.get("ROUNDS", "5"))):
        t_tshark.append(_run(tshark)[0])
        took, out = _run(crcgw, env)
        t_ours.append(took)
    report = json.loads(out)
    tshark_s, ours_s = statistics.median(t_tshark), statistics.median(t_ours)
    ours_ids = {c["call_id"] for c in report["calls"] if c["protocol"] == "SIP"}
    h323 = sum(1 for c in report["calls"] if c["protocol"] != "SIP")
    ours = {(s["src"], s["dst"], int(s["ssrc"], 16)): (s["packets"], s["lost"])
            for s in report["rtp_streams"]}
    _, info = _run(["capinfos", "-M", "-c", capture])
    packets = info.split("Number of packets:")[1].split()[0] if "packets:" in info else "?"
    total = (sum(v[0] for v in ref.values()), sum(v[1] for v in ref.values()))
    extra = f" +{h323} H.323" if h323 else ""
    return (f"| {Path(capture).name} | {packets} | {len(ids)} / {len(ours_ids)}{extra} | "
            f"{'yes' if ids == ours_ids else 'NO'} | {len(ref)} / {len(ours)} | "
            f"{total[0]}/{total[1]} | {'yes' if ref == ours else 'NO'} | {tshark_s:.3f} | "
            f"{ours_s:.3f} | {ours_s / tshark_s:.2f} |")


if __name__ == "__main__":
    print("| capture | packets | INVITE Call-IDs tshark / crcgw | same | RTP streams tshark / "
          "crcgw | packets/lost | same | tshark s | crcgw s | ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in sys.argv[1:]:
        print(row(name), flush=True)
