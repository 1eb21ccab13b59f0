"""Mixer: one 20 ms tick (mix-minus, full mix, limiter) at 48 kHz for N participants.

Real-time budget: 20 ms per tick; target for N = 200: under 100 us per tick, with the limiter
working on every row (``overload``). Both back ends run: ``numba`` (the default) and ``numpy``.

    .venv/bin/python -m pytest bench/test_bench_media_mixer.py --benchmark-only
"""

from __future__ import annotations

from typing import Any

import pytest

from media._numba import HAVE_NUMBA
from media.benchmark_audio import RING, talk_frames
from media.benchmark_video import single_thread
from media.mixer import Mixer
from media.speaker import ActiveSpeakerDetector

pytestmark = pytest.mark.benchmark(group="mixer 48 kHz, 50 ticks (1 s of audio)")


BACKENDS = ["numba", "numpy"] if HAVE_NUMBA else ["numpy"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("scenario", ["typical", "overload"])
@pytest.mark.parametrize("participants", [3, 9, 50, 200])
def test_mix_one_second(benchmark: Any, participants: int, scenario: str, backend: str) -> None:
    single_thread()
    mixer = Mixer(48000, capacity=participants, use_numba=backend == "numba")
    talkers, level = (3, -24.0) if scenario == "typical" else (participants, -12.0)
    data = talk_frames(participants, mixer.samples, RING, talkers=talkers, talk_dbfs=level)
    mix = mixer.mix

    def run() -> None:
        for i in range(RING):
            mix(data[i])

    benchmark(run)


def test_mix_and_detect_speaker_200(benchmark: Any) -> None:
    single_thread()
    mixer = Mixer(48000, capacity=200)
    detector = ActiveSpeakerDetector()
    data = talk_frames(200, mixer.samples, RING, talkers=3, talk_dbfs=-24.0)
    clock = {"now": 0.0}

    def run() -> None:
        for i in range(RING):
            mixer.mix(data[i])
            clock["now"] += 0.02
            detector.update(mixer.levels_dbfs(), clock["now"])

    benchmark(run)
