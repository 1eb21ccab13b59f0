"""Dial-string engine throughput, beside pjsua2's own C check of the same SIP URIs.

Run: ``.venv/bin/python -m pytest bench/test_bench_dialstring.py --benchmark-only -s``

Budget: a batch job (a calendar of thousands of meetings) parses and builds every string;
target: ``parse`` extracts and validates every field at least as fast as pjsua2's
``Endpoint.utilVerifySipUri`` merely verifies the URI (ratio >= 1.0), measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.dialstring_corpus import make_targets
from signaling.dialstring import DialTarget, parse

pytestmark = pytest.mark.benchmark(group="dialstring")

TARGETS = make_targets()
MIX = [t.dial_string() for t in TARGETS]
SIP_URIS = [t.sip_uri() for t in TARGETS if t.protocol == "sip"]
PER_STRING: dict[str, float] = {}


@pytest.fixture(scope="module")
def pj_endpoint() -> Iterator[Any]:
    pj = pytest.importorskip("pjsua2")
    endpoint = pj.Endpoint()
    endpoint.libCreate()
    config = pj.EpConfig()
    config.uaConfig.threadCnt = 0
    config.uaConfig.mainThreadOnly = True
    config.logConfig.level = 0
    config.logConfig.consoleLevel = 0
    endpoint.libInit(config)
    yield endpoint
    endpoint.libDestroy()


def _record(benchmark: Any, name: str, count: int) -> float:
    per = float(benchmark.stats.stats.median) / count
    PER_STRING[name] = per
    benchmark.extra_info["per_string_us"] = round(per * 1e6, 3)
    benchmark.extra_info["strings_per_s"] = round(1 / per)
    return per


def test_parse_sip_uris(benchmark: Any) -> None:
    results = benchmark(lambda: [parse(uri) for uri in SIP_URIS])
    assert all(r.protocol == "sip" for r in results)
    _record(benchmark, "parse_sip", len(SIP_URIS))


def test_parse_mix(benchmark: Any) -> None:
    results = benchmark(lambda: [parse(text) for text in MIX])
    assert results == TARGETS
    _record(benchmark, "parse_mix", len(MIX))


def test_build_mix(benchmark: Any) -> None:
    fields = [
        (t.protocol, t.meeting_id, t.passcode, t.layout, t.host_key, t.host, t.port, t.params)
        for t in TARGETS
    ]

    def build() -> list[str]:
        out = []
        for protocol, mid, passcode, layout, host_key, host, port, params in fields:
            if protocol == "sip":
                target = DialTarget.sip(mid, passcode=passcode, layout=layout,
                                        host_key=host_key, host=host, port=port, params=params)
            else:
                target = DialTarget.h323(mid, host=host or "", passcode=passcode,
                                         layout=layout, host_key=host_key, port=port)
            out.append(target.dial_string())
        return out

    assert benchmark(build) == MIX
    _record(benchmark, "build_mix", len(MIX))


def _interleaved_ratio(verify: Any, rounds: int = 15) -> tuple[float, float]:
    """Per-URI times of parse and of pjsua2's verify, alternated so load hits both alike."""
    best_parse = best_verify = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for uri in SIP_URIS:
            parse(uri)
        best_parse = min(best_parse, time.perf_counter() - start)
        start = time.perf_counter()
        for uri in SIP_URIS:
            verify(uri)
        best_verify = min(best_verify, time.perf_counter() - start)
    return best_parse / len(SIP_URIS), best_verify / len(SIP_URIS)


def test_pjsua2_verify_sip_uris(benchmark: Any, pj_endpoint: Any) -> None:
    verify = pj_endpoint.utilVerifySipUri
    codes = benchmark(lambda: [verify(uri) for uri in SIP_URIS])
    assert codes == [0] * len(SIP_URIS)
    _record(benchmark, "pjsua2_verify_sip", len(SIP_URIS))
    per_parse, per_verify = _interleaved_ratio(verify)
    ratio = per_verify / per_parse
    benchmark.extra_info["interleaved_parse_us"] = round(per_parse * 1e6, 3)
    benchmark.extra_info["interleaved_verify_us"] = round(per_verify * 1e6, 3)
    benchmark.extra_info["parse_vs_pjsua2_ratio"] = round(ratio, 2)
    print(
        f"\n{len(SIP_URIS)} SIP URIs, best of 15 interleaved rounds: parse {per_parse * 1e6:.3f} "
        f"us/URI, pjsua2 utilVerifySipUri {per_verify * 1e6:.3f} us/URI, "
        f"ratio (pjsua2 time / parse time) = {ratio:.2f}"
    )
    assert ratio >= 1.0, f"parse is slower than pjsua2's verification: ratio {ratio:.2f}"
