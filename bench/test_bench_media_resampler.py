"""Resampler vs scipy.signal.resample_poly and PyAV's AudioResampler: one second of audio.

Real-time budget: 1 s of audio per second; 20 ms per frame when streaming.

    .venv/bin/python -m pytest bench/test_bench_media_resampler.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import pytest

from media.benchmark_audio import RESAMPLE_PAIRS, resample_methods, tone
from media.benchmark_video import single_thread


@pytest.mark.parametrize("method", ["crcgw", "crcgw-20ms", "scipy", "pyav"])
@pytest.mark.parametrize(
    ("rate_in", "rate_out"), RESAMPLE_PAIRS, ids=[f"{a}-{b}" for a, b in RESAMPLE_PAIRS]
)
def test_resample_one_second(benchmark: Any, rate_in: int, rate_out: int, method: str) -> None:
    single_thread()
    benchmark.group = f"resample {rate_in} -> {rate_out} Hz, 1 s"
    run = resample_methods(rate_in, rate_out)[method]
    benchmark(run, tone(rate_in))
