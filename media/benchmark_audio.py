"""Audio benchmarks: the mixer at N participants and the resampler against scipy and PyAV.

- Mixer: 20 ms ticks at 48 kHz, mix-minus and full mix with the limiter, for N = 3, 9, 50, 200;
  ``typical`` = three talkers at speech level and everyone else at a -60 dBFS noise floor,
  ``overload`` = everyone loud, so that the limiter works on every output row. Inputs change
  every tick (a ring of 50 distinct ticks). Both back ends of :class:`media.mixer.Mixer` run
  (``numba``, the default, where Numba is installed, and ``numpy``). Reported: microseconds per
  tick (best and median round) and times real time (20 ms over the best tick time).
- Resampler: one second of a 1 kHz tone (-6 dBFS, float32) through every 8/16/48 kHz pair:
  ``crcgw`` (one call), ``crcgw-20ms`` (50 streamed 20 ms frames), ``scipy`` (``resample_poly`` on
  the whole second) and ``pyav`` (``av.AudioResampler``, 20 ms ``flt`` frames). Reported: ms per
  second of audio, times real time, and the tone's SNR over the middle 80 % of the output.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from media._numba import HAVE_NUMBA
from media.mixer import Mixer
from media.resampler import Resampler, tone_snr_db

__all__ = [
    "MIXER_COUNTS",
    "RESAMPLE_PAIRS",
    "RING",
    "MixerResult",
    "ResamplerResult",
    "resample_methods",
    "run_mixer",
    "run_resampler",
    "talk_frames",
    "tone",
]

MIXER_COUNTS = (3, 9, 50, 200)
RESAMPLE_PAIRS = (
    (8000, 16000),
    (16000, 8000),
    (16000, 48000),
    (48000, 16000),
    (8000, 48000),
    (48000, 8000),
)
TONE_HZ = 1000.0
RING = 50


@dataclass
class MixerResult:
    participants: int
    scenario: str
    backend: str
    best_us: float
    median_us: float
    x_realtime: float
    limited_rows: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["best_us"] = round(self.best_us, 1)
        data["median_us"] = round(self.median_us, 1)
        data["x_realtime"] = round(self.x_realtime, 1)
        return data


@dataclass
class ResamplerResult:
    rate_in: int
    rate_out: int
    method: str
    ms_per_second: float
    x_realtime: float
    snr_db: float

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ms_per_second"] = round(self.ms_per_second, 3)
        data["x_realtime"] = round(self.x_realtime, 1)
        data["snr_db"] = round(self.snr_db, 1)
        return data


def talk_frames(
    participants: int, samples: int, ticks: int, *, talkers: int, talk_dbfs: float, seed: int = 0
) -> npt.NDArray[np.int16]:
    """``(ticks, participants, samples)`` int16: ``talkers`` voices (harmonics with a syllable
    envelope) at ``talk_dbfs`` RMS, the others at a -60 dBFS noise floor."""
    rng = np.random.default_rng(seed)
    total = ticks * samples
    t = np.arange(total) / (samples * 50)
    out = rng.normal(0, 32768 * 10 ** (-60 / 20), (participants, total))
    level = 32768 * 10 ** (talk_dbfs / 20)
    for p in range(min(talkers, participants)):
        f0 = rng.uniform(100, 220)
        voice = sum(np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6)) / h for h in range(1, 6))
        envelope = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(3, 5) * t)
        voice = voice * envelope
        out[p] = voice / np.sqrt(np.mean(voice**2)) * level
    frames = np.clip(np.rint(out), -32768, 32767).astype(np.int16)
    return frames.reshape(participants, ticks, samples).transpose(1, 0, 2).copy()


def run_mixer(
    counts: Sequence[int] = MIXER_COUNTS,
    *,
    sample_rate: int = 48000,
    rounds: int = 7,
    ticks: int = 100,
) -> list[MixerResult]:
    results = []
    backends = ("numba", "numpy") if HAVE_NUMBA else ("numpy",)
    cases = [
        (scenario, talkers, level, n, backend)
        for scenario, talkers, level in (("typical", 3, -24.0), ("overload", 10**6, -12.0))
        for n in counts
        for backend in backends
    ]
    for scenario, talkers, level, n, backend in cases:
        mixer = Mixer(sample_rate, capacity=n, use_numba=backend == "numba")
        data = talk_frames(n, mixer.samples, RING, talkers=talkers, talk_dbfs=level, seed=n)
        for i in range(RING):  # settle the limiter
            mixer.mix(data[i])
        times = []
        limited = 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            for i in range(ticks):
                limited = mixer.mix(data[i % RING]).limited
            times.append((time.perf_counter() - t0) / ticks)
        best = min(times)
        results.append(
            MixerResult(
                n,
                scenario,
                backend,
                best * 1e6,
                statistics.median(times) * 1e6,
                0.020 / best,
                limited,
            )
        )
    return results


def tone(rate: int) -> npt.NDArray[np.float32]:
    return (0.5 * np.sin(2 * np.pi * TONE_HZ * np.arange(rate) / rate)).astype(np.float32)


def _middle_snr(samples: npt.NDArray[Any], rate: int) -> float:
    n = samples.size
    return tone_snr_db(samples[int(0.1 * n) : int(0.9 * n)], rate, TONE_HZ, skip=0)


def resample_methods(
    rate_in: int, rate_out: int
) -> dict[str, Callable[[npt.NDArray[np.float32]], Any]]:
    import av
    from scipy import signal

    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    frame = rate_in // 50

    ours_block = Resampler(rate_in, rate_out)  # filter design outside the timing

    def ours_once(x: npt.NDArray[np.float32]) -> Any:
        ours_block.reset()
        return ours_block.process(x)

    def ours_stream(x: npt.NDArray[np.float32]) -> Any:
        ours_block.reset()
        return np.concatenate(
            [ours_block.process(x[i : i + frame]) for i in range(0, x.size, frame)]
        )

    def scipy_poly(x: npt.NDArray[np.float32]) -> Any:
        return signal.resample_poly(x, up, down)

    def pyav(x: npt.NDArray[np.float32]) -> Any:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate_out)
        parts = []
        for i in range(0, x.size, frame):
            chunk = av.AudioFrame.from_ndarray(x[None, i : i + frame], format="flt", layout="mono")
            chunk.sample_rate = rate_in
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(chunk)]
        parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        return np.concatenate(parts)

    return {"crcgw": ours_once, "crcgw-20ms": ours_stream, "scipy": scipy_poly, "pyav": pyav}


def run_resampler(
    pairs: Sequence[tuple[int, int]] = RESAMPLE_PAIRS, *, rounds: int = 7
) -> list[ResamplerResult]:
    results = []
    for rate_in, rate_out in pairs:
        x = tone(rate_in)
        methods = resample_methods(rate_in, rate_out)
        best = dict.fromkeys(methods, math.inf)
        outputs: dict[str, Any] = {}
        for r in range(rounds):
            names = list(methods)
            for name in names[r % len(names) :] + names[: r % len(names)]:
                t0 = time.perf_counter()
                outputs[name] = methods[name](x)
                best[name] = min(best[name], time.perf_counter() - t0)
        for name, seconds in best.items():
            results.append(
                ResamplerResult(
                    rate_in,
                    rate_out,
                    name,
                    seconds * 1e3,
                    1.0 / seconds,
                    _middle_snr(np.asarray(outputs[name]), rate_out),
                )
            )
    return results
