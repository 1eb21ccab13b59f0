"""Polyphase resampler between 8, 16 and 48 kHz, streaming, float32 inside.

The anti-aliasing / anti-imaging filter is a Kaiser-window FIR designed once per rate pair: flat
up to ``passband`` x the lower Nyquist frequency (3.2 kHz for 8 kHz, 6.4 kHz for 16 kHz), at least
``stopband_db`` down from the lower Nyquist frequency on.

The polyphase filter runs as one matrix product per call: the input is cut into blocks of
``B * M`` samples (``B`` periods of the ``L/M`` ratio), each block with its ``P`` samples of
history forms one row of a window matrix, and a precomputed ``(B*M + P) x (B*L)`` matrix maps a
row to its ``B*L`` output samples. The window matrix is a small contiguous copy, so the product
runs in BLAS (sgemm); the history (and any incomplete block) is kept between calls, so 20 ms
frames stream with no seams.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal

from media._checks import check_array, check_choice, check_range

__all__ = ["RATES", "Resampler", "design_filter", "tone_snr_db"]

RATES = (8000, 16000, 48000)
F32 = npt.NDArray[np.float32]


def design_filter(up: int, down: int, passband: float, stopband_db: float) -> F32:
    """Low-pass FIR for resampling by ``up/down`` at the upsampled rate, gain ``up``."""
    nyquist_fraction = 1.0 / max(up, down)  # lower Nyquist rate, relative to the upsampled Nyquist
    width = nyquist_fraction * (1.0 - passband)
    taps, beta = signal.kaiserord(stopband_db, width)
    taps = int(math.ceil(taps / up)) * up  # whole phases
    cutoff = nyquist_fraction * (1.0 + passband) / 2
    h = signal.firwin(taps, cutoff, window=("kaiser", beta))
    result: F32 = (h * up).astype(np.float32)
    return result


class Resampler:
    """Stream mono audio from ``rate_in`` to ``rate_out`` (each 8000, 16000 or 48000 Hz)."""

    def __init__(
        self,
        rate_in: int,
        rate_out: int,
        *,
        passband: float = 0.8,
        stopband_db: float = 90.0,
    ) -> None:
        check_choice("rate_in", rate_in, RATES)
        check_choice("rate_out", rate_out, RATES)
        check_range("passband", passband, 0.5, 0.95)
        check_range("stopband_db", stopband_db, 40.0, 140.0)
        self.rate_in, self.rate_out = rate_in, rate_out
        g = math.gcd(rate_in, rate_out)
        self.up, self.down = rate_out // g, rate_in // g
        self.taps = design_filter(self.up, self.down, passband, stopband_db)
        L, M, K = self.up, self.down, self.taps.size
        self.history = -(-K // L)  # P: input samples of history a block needs
        periods_per_frame = rate_in // 50 // M  # 20 ms frames hold whole blocks
        self.block_periods = max(
            d
            for d in range(1, periods_per_frame + 1)
            if periods_per_frame % d == 0 and d * M <= max(16, 2 * self.history)
        )
        B = self.block_periods
        self.block_in, self.block_out = B * M, B * L
        window = self.block_in + self.history
        # matrix[w, o] = h[o*M - w*L + P*L] (input w of the window, output o of the block)
        o = np.arange(self.block_out)[None, :]
        w = np.arange(window)[:, None]
        index = o * M - (w - self.history + 1) * L + L
        valid = (index >= 0) & (index < K)
        self._matrix = np.where(valid, self.taps[np.clip(index, 0, K - 1)], 0).astype(np.float32)
        self._buffer = np.zeros(self.history, np.float32)  # history + pending input

    @property
    def delay(self) -> float:
        """Group delay of the filter, in output samples."""
        return (self.taps.size - 1) / 2 / self.down

    def reset(self) -> None:
        self._buffer = np.zeros(self.history, np.float32)

    def process(self, block: Any) -> Any:
        """Resample a 1-D ``int16`` or ``float32`` block; returns the same dtype.

        Returns every output sample that the input so far determines (for 20 ms frames exactly
        ``rate_out / 50``); a partial block waits for the next call.
        """
        if not isinstance(block, np.ndarray) or block.dtype not in (np.int16, np.float32):
            actual = block.dtype if isinstance(block, np.ndarray) else type(block).__name__
            raise ValueError(f"block: expected dtype int16 or float32, got {actual}")
        check_array("block", block, dtype=block.dtype, ndim=1)
        data = np.concatenate([self._buffer, block.astype(np.float32, copy=False)])
        blocks = (data.size - self.history) // self.block_in
        step, width = self.block_in, self.block_in + self.history
        if blocks <= 4:  # a 20 ms frame: a few vector-matrix products, no window matrix
            out = np.empty(blocks * self.block_out, np.float32)
            for b in range(blocks):
                np.matmul(
                    data[b * step : b * step + width],
                    self._matrix,
                    out=out[b * self.block_out : (b + 1) * self.block_out],
                )
        else:
            windows = sliding_window_view(data, width)[: blocks * step : step]
            out = (np.ascontiguousarray(windows) @ self._matrix).reshape(-1)
        self._buffer = data[blocks * step :].copy()
        if block.dtype == np.int16:
            return np.clip(np.rint(out), -32768, 32767).astype(np.int16)
        return out


def tone_snr_db(samples: npt.NDArray[Any], rate: int, frequency: float, skip: int = 0) -> float:
    """SNR of a sine at ``frequency``: the best-fit sinusoid (amplitude, phase, offset) against
    everything else, over ``samples[skip:]``."""
    x = np.asarray(samples, dtype=np.float64)[skip:]
    t = np.arange(skip, skip + x.size) / rate
    basis = np.stack(
        [np.sin(2 * np.pi * frequency * t), np.cos(2 * np.pi * frequency * t), np.ones_like(t)],
        axis=1,
    )
    coeffs, *_ = np.linalg.lstsq(basis, x, rcond=None)
    fitted = basis @ coeffs
    noise = x - fitted
    signal_power = float(np.mean((fitted - coeffs[2]) ** 2))
    noise_power = float(np.mean(noise**2))
    if noise_power == 0:
        return math.inf
    return 10 * math.log10(signal_power / noise_power)
