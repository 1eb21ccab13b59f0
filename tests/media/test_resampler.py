from __future__ import annotations

import numpy as np
import pytest

from media.resampler import RATES, Resampler, tone_snr_db

PAIRS = [(a, b) for a in RATES for b in RATES if a != b]


@pytest.mark.parametrize(("rate_in", "rate_out"), PAIRS)
def test_streamed_tone_snr_is_at_least_70_db(rate_in: int, rate_out: int) -> None:
    r = Resampler(rate_in, rate_out)
    t = np.arange(rate_in // 2) / rate_in
    x = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    frame = rate_in // 50
    parts = [r.process(x[i : i + frame]) for i in range(0, x.size, frame)]
    assert {p.size for p in parts} == {rate_out // 50}  # exact 20 ms frames out
    y = np.concatenate(parts)
    snr = tone_snr_db(y[: int(0.9 * y.size)], rate_out, 1000.0, skip=int(4 * r.delay))
    assert snr >= 70.0
    # the tone comes out at the right frequency and level
    spectrum = np.abs(np.fft.rfft(y[int(4 * r.delay) :] * np.hanning(y.size - int(4 * r.delay))))
    peak_hz = np.argmax(spectrum) * rate_out / (y.size - int(4 * r.delay))
    assert peak_hz == pytest.approx(1000, abs=5)
    assert np.sqrt(np.mean(y[int(4 * r.delay) :] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_odd_block_sizes_give_the_same_output_as_one_block() -> None:
    x = np.random.default_rng(0).standard_normal(4800).astype(np.float32)
    whole = Resampler(48000, 16000).process(x)
    r = Resampler(48000, 16000)
    pieces = np.concatenate([r.process(x[i : i + 77]) for i in range(0, x.size, 77)])
    assert pieces.size == whole.size == 1600
    assert np.allclose(pieces, whole, atol=1e-5)


def test_int16_in_and_out() -> None:
    r = Resampler(8000, 16000)
    x = (10000 * np.sin(2 * np.pi * 500 * np.arange(1600) / 8000)).astype(np.int16)
    y = r.process(x)
    assert y.dtype == np.int16 and y.size == 3200
    assert tone_snr_db(y[400:], 16000, 500.0) > 60  # int16 quantisation limits this one


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="rate_in: expected one of 8000, 16000, 48000, got 44100"):
        Resampler(44100, 48000)
    r = Resampler(8000, 16000)
    with pytest.raises(ValueError, match="block: expected dtype int16 or float32, got float64"):
        r.process(np.zeros(160))
    with pytest.raises(ValueError, match="block: expected 1 dimensions, got 2"):
        r.process(np.zeros((1, 160), np.float32))
